/**
 * Broken internal invariants stop the caller rather than corrupt data
 * (DESIGN, "Bad input"). The name makes the failure greppable in logs.
 */
export class InvariantError extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`storage invariant "${invariant}" broken: ${detail}`);
    this.name = "InvariantError";
  }
}

export function assertInvariant(
  condition: boolean,
  invariant: string,
  detail: () => string,
): asserts condition {
  if (!condition) throw new InvariantError(invariant, detail());
}
