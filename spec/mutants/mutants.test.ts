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
      const bounds = {
        maxDepth: mutant.bounds.depth,
        maxStates: mutant.bounds.maxStates,
        progress: false as const,
      };
      const result = search(model, bounds);
      if (mutant.stuck !== undefined) {
        expect(result.violation?.invariant).toBeUndefined();
        expect(result.unreached, `"${mutant.name}" (${mutant.breaks}) still reaches it`).toContain(
          mutant.caughtBy,
        );
        const control = search(mutant.stuck.control(), bounds);
        expect(control.violation?.invariant).toBeUndefined();
        expect(control.unreached, "the real machine must reach it within the same bounds").toEqual([]);
        const reached = control.sometimes.find((s) => s.name === mutant.caughtBy);
        console.log(
          `Mutant: ${mutant.name} (${mutant.breaks})\nNever reaches "${mutant.caughtBy}" in ` +
            `${result.stats.distinctStates} states; the real machine reaches it at depth ${reached?.depth}\n`,
        );
        return;
      }
      expect(result.violation, `no counterexample for "${mutant.name}" (${mutant.breaks})`).toBeDefined();
      console.log(
        `Mutant: ${mutant.name} (${mutant.breaks})\n${formatViolation(model, result.violation!)}\n`,
      );
      expect(result.violation!.invariant).toBe(mutant.caughtBy);
    },
    120_000,
  );
});
