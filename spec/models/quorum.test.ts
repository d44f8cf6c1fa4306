import { describe, expect, it } from "vitest";
import { search } from "../checker/search.ts";
import { createQuorumModel } from "./quorum.ts";

describe("the Quorum model", () => {
  it("has no violation at small bounds and reaches every sometimes property", () => {
    const result = search(createQuorumModel({ maxEpoch: 1, maxCrashes: 1, maxMessages: 3 }), {
      maxDepth: 5,
      progress: false,
    });
    expect(result.violation).toBeUndefined();
    expect(result.unreached).toEqual([]);
    expect(result.stats.distinctStates).toBe(2469);
    expect(result.stats.transitions).toBe(6894);
  }, 60_000);
});
