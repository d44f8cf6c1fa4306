/**
 * What `npm run check` promises, run in the test suite: every registered model
 * explored to the bounds CI uses, with no violation and every `sometimes`
 * property reached.
 */
import { describe, expect, it } from "vitest";
import { formatSummary } from "../checker/report.ts";
import { search } from "../checker/search.ts";
import { models } from "./index.ts";

describe("every model at its CI bounds", () => {
  it.each(models.map((m) => [m.name, m] as const))(
    "%s",
    (_name, entry) => {
      const result = search(entry.create(), {
        maxDepth: entry.ciBounds.depth,
        maxStates: entry.ciBounds.maxStates,
        progress: false,
      });
      console.log(formatSummary(entry.name, result));
      expect(result.violation?.invariant).toBeUndefined();
      expect(result.unreached).toEqual([]);
      // The state bound is a safety net, not the bound: reaching it would leave depths unexplored.
      expect(result.boundsHit).not.toContain("states");
    },
    600_000,
  );
});
