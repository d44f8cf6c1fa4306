import { describe, expect, it } from "vitest";
import { LeaderEpochCache } from "./leader-epoch-cache.ts";

function cacheOf(...entries: [number, bigint][]): LeaderEpochCache {
  const cache = new LeaderEpochCache();
  for (const [epoch, startOffset] of entries) cache.assign(epoch, startOffset);
  return cache;
}

describe("LeaderEpochCache", () => {
  it("answers end offsets as Kafka's OffsetForLeaderEpoch does", () => {
    const cache = cacheOf([1, 0n], [3, 10n], [4, 25n]);
    expect(cache.endOffsetFor(4, 40n)).toEqual({ epoch: 4, endOffset: 40n });
    expect(cache.endOffsetFor(3, 40n)).toEqual({ epoch: 3, endOffset: 25n });
    expect(cache.endOffsetFor(2, 40n)).toEqual({ epoch: 1, endOffset: 10n });
    expect(cache.endOffsetFor(0, 40n)).toEqual({ epoch: 0, endOffset: 0n });
    expect(cache.endOffsetFor(5, 40n)).toEqual({ epoch: -1, endOffset: -1n });
    expect(cache.endOffsetFor(-1, 40n)).toEqual({ epoch: -1, endOffset: -1n });
    expect(new LeaderEpochCache().endOffsetFor(0, 0n)).toEqual({ epoch: -1, endOffset: -1n });
  });

  it("ignores a repeated epoch and drops the entries a new assignment contradicts", () => {
    const cache = cacheOf([1, 0n], [3, 10n]);
    expect(cache.assign(3, 12n)).toBe(false);
    expect(cache.assign(2, 5n)).toBe(true);
    expect(cache.all).toEqual([
      { epoch: 1, startOffset: 0n },
      { epoch: 2, startOffset: 5n },
    ]);
  });

  it("truncates from the end and from the start", () => {
    const cache = cacheOf([1, 0n], [3, 10n], [4, 25n]);
    expect(cache.truncateFromEnd(25n)).toBe(true);
    expect(cache.all.map((entry) => entry.epoch)).toEqual([1, 3]);
    expect(cache.truncateFromStart(12n)).toBe(true);
    expect(cache.all).toEqual([{ epoch: 3, startOffset: 12n }]);
  });

  it("knows the latest epoch that has records below a log end", () => {
    const cache = cacheOf([1, 0n], [3, 10n], [4, 25n]);
    expect(cache.latestEpochBefore(30n)).toBe(4);
    // Epoch 4 starts at the log end: it has no records yet.
    expect(cache.latestEpochBefore(25n)).toBe(3);
    expect(cache.latestEpochBefore(0n)).toBe(null);
    expect(new LeaderEpochCache().latestEpochBefore(10n)).toBe(null);
  });

  it("round-trips Kafka's checkpoint format and refuses a damaged one", () => {
    const cache = cacheOf([1, 0n], [3, 10n]);
    expect(cache.serialize()).toBe("0\n2\n1 0\n3 10\n");
    const parsed = LeaderEpochCache.parse(cache.serialize());
    expect(typeof parsed !== "string" && parsed.all).toEqual(cache.all);
    expect(LeaderEpochCache.parse("0\n3\n1 0\n3 10\n")).toMatch(/count/);
    expect(LeaderEpochCache.parse("0\n2\n3 0\n1 10\n")).toMatch(/backwards/);
    expect(LeaderEpochCache.parse("1\n0\n")).toMatch(/version/);
  });
});
