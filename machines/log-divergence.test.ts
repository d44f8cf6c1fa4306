import { describe, expect, it } from "vitest";
import { endOffsetForEpoch, epochStartsOf, fetchDivergence, truncationOffset } from "./log-divergence.ts";

// Offsets 0-2 in epoch 1, 3-4 in epoch 3: the log ends at 5.
const leader = epochStartsOf([1, 1, 1, 3, 3]);

describe("epochStartsOf", () => {
  it("records where each epoch begins", () => {
    expect(leader).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 3 },
    ]);
    expect(epochStartsOf([2, 2], 10)).toEqual([{ epoch: 2, startOffset: 10 }]);
    expect(epochStartsOf([])).toEqual([]);
  });
});

describe("endOffsetForEpoch", () => {
  it.each([
    [0, { epoch: -1, endOffset: -1 }],
    [1, { epoch: 1, endOffset: 3 }],
    [2, { epoch: 1, endOffset: 3 }],
    [3, { epoch: 3, endOffset: 5 }],
    [7, { epoch: 3, endOffset: 5 }],
  ])("epoch %i", (epoch, expected) => {
    expect(endOffsetForEpoch(leader, 5, epoch)).toEqual(expected);
  });
  it("is undefined on an empty log", () => {
    expect(endOffsetForEpoch([], 0, 4)).toEqual({ epoch: -1, endOffset: -1 });
  });
});

describe("fetchDivergence", () => {
  it.each([
    ["an empty follower", 0, 0, null],
    ["a follower at the leader's end", 5, 3, null],
    ["a follower behind within epoch 1", 2, 1, null],
    ["a follower that holds all of epoch 1", 3, 1, null],
    ["a follower with more of epoch 1 than the leader", 4, 1, { epoch: 1, endOffset: 3 }],
    ["a follower whose last epoch the leader never had", 4, 2, { epoch: 1, endOffset: 3 }],
    ["a follower ahead of the leader's end", 6, 3, { epoch: 3, endOffset: 5 }],
  ])("%s", (_name, fetchOffset, lastFetchedEpoch, expected) => {
    expect(fetchDivergence(leader, 5, fetchOffset, lastFetchedEpoch)).toEqual(expected);
  });
  it("sends a follower whose epochs are all newer than the leader's back to 0", () => {
    expect(fetchDivergence(epochStartsOf([2, 2]), 2, 1, 1)).toEqual({ epoch: -1, endOffset: 0 });
  });
});

describe("truncationOffset", () => {
  it("takes the smaller end when both hold the diverging epoch", () => {
    // Follower: offsets 0-3 in epoch 1 (one more than the leader), then 4 in epoch 2.
    const follower = epochStartsOf([1, 1, 1, 1, 2]);
    expect(truncationOffset(follower, 5, { epoch: 1, endOffset: 3 })).toBe(3);
  });
  it("keeps its own end of an older epoch when it lacks the diverging one", () => {
    const follower = epochStartsOf([1, 1]);
    expect(truncationOffset(follower, 2, { epoch: 3, endOffset: 5 })).toBe(2);
  });
  it("truncates everything when nothing is in common", () => {
    expect(truncationOffset(epochStartsOf([2, 2]), 2, { epoch: -1, endOffset: 0 })).toBe(0);
    expect(truncationOffset(epochStartsOf([4]), 1, { epoch: 3, endOffset: 2 })).toBe(0);
  });
  it("converges: truncating then fetching again finds no divergence", () => {
    const followerEpochs = [1, 1, 1, 1, 2];
    const diverging = fetchDivergence(leader, 5, followerEpochs.length, 2);
    expect(diverging).toEqual({ epoch: 1, endOffset: 3 });
    const end = truncationOffset(epochStartsOf(followerEpochs), followerEpochs.length, diverging!);
    expect(fetchDivergence(leader, 5, end, followerEpochs[end - 1]!)).toBeNull();
  });
});
