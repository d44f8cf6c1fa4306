/**
 * A small seeded pseudo-random generator (a 32-bit splitmix step), so that a
 * campaign's seed alone fixes its schedule: Math.random cannot be replayed.
 * Statistical quality matters little here; determinism everywhere does.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let mixed = this.state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b) >>> 0;
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35) >>> 0;
    return (mixed ^ (mixed >>> 16)) >>> 0;
  }

  /** An integer in [low, high], both included. */
  integer(low: number, high: number): number {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high < low)
      throw new RangeError(`bad integer range [${low}, ${high}]`);
    return low + (this.nextUint32() % (high - low + 1));
  }

  pick<T>(choices: readonly T[]): T {
    if (choices.length === 0) throw new RangeError("nothing to pick from");
    return choices[this.integer(0, choices.length - 1)]!;
  }

  /** `count` distinct elements of `choices`, in the order drawn. */
  pickDistinct<T>(choices: readonly T[], count: number): T[] {
    const remaining = [...choices];
    if (count > remaining.length) throw new RangeError(`cannot pick ${count} of ${remaining.length}`);
    const picked: T[] = [];
    for (let index = 0; index < count; index++) {
      picked.push(...remaining.splice(this.integer(0, remaining.length - 1), 1));
    }
    return picked;
  }

  bytes(count: number): Buffer {
    const buffer = Buffer.alloc(count);
    for (let index = 0; index < count; index++) buffer[index] = this.nextUint32() & 0xff;
    return buffer;
  }
}
