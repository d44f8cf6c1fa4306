/**
 * The mutation suite: the checker must catch every broken variant with a
 * counterexample, which is printed so the test output shows how each one fails.
 */
import { describe, expect, it } from "vitest";
import { formatViolation } from "../checker/report.ts";
import { search } from "../checker/search.ts";
import { mutants } from "./index.ts";

describe("the mutation suite", () => {
  it("has at least six mutants, all different", () => {
    expect(mutants.length).toBeGreaterThanOrEqual(6);
    expect(new Set(mutants.map((m) => m.breaks)).size).toBe(mutants.length);
  });

  it.each(mutants.map((m) => [m.name, m] as const))(
    "catches: %s",
    (_name, mutant) => {
      const model = mutant.create();
      const result = search(model, {
        maxDepth: mutant.bounds.depth,
        maxStates: mutant.bounds.maxStates,
        progress: false,
      });
      expect(result.violation, `no counterexample for "${mutant.name}" (${mutant.breaks})`).toBeDefined();
      console.log(
        `Mutant: ${mutant.name} (${mutant.breaks})\n${formatViolation(model, result.violation!)}\n`,
      );
      expect(result.violation!.invariant).toBe(mutant.caughtBy);
    },
    120_000,
  );
});
