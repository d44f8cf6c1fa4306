import { describe, expect, it } from "vitest";
import { endOffset, observeLeaders } from "./cluster-view.ts";
import { at, data, healthyView, modify } from "./test-helpers.ts";

describe("observeLeaders", () => {
  it("adds the alive quorum and partition leaders to the history, sorted and without duplicates", () => {
    const view = modify(healthyView(), (v) => {
      at(v, 1).alive = false;
      at(v, 2).quorum = { ...at(v, 2).quorum, role: "leader", epoch: 3 };
    });
    expect(observeLeaders(view)).toEqual({
      quorumLeaders: [
        { epoch: 2, nodeId: 1 },
        { epoch: 3, nodeId: 2 },
      ],
      partitionLeaders: [{ partition: "t-0", leaderEpoch: 1, nodeId: 1 }],
    });
    const again = { ...view, history: observeLeaders(view) };
    expect(observeLeaders(again)).toEqual(again.history);
  });
});

describe("endOffset", () => {
  it("is one past the last offset, 0 when empty", () => {
    expect(endOffset([])).toBe(0);
    expect(endOffset(data("1:a 2:b"))).toBe(2);
  });
});
