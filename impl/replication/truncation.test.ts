import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { truncationOffset } from "../../machines/log-divergence.ts";
import { LeaderEpochCache } from "../storage/leader-epoch-cache.ts";
import { type FollowerLog, followerTruncation } from "./truncation.ts";

/** A follower log with these epoch starts, ending at `logEndOffset`, answering as the storage's cache does. */
function followerLog(starts: Array<[number, bigint]>, logEndOffset: bigint): FollowerLog {
  const cache = new LeaderEpochCache();
  for (const [epoch, startOffset] of starts) cache.assign(epoch, startOffset);
  return { logEndOffset, endOffsetForEpoch: (epoch) => cache.endOffsetFor(epoch, logEndOffset) };
}

// Offsets 0-9 in epoch 1, 10-19 in epoch 3, 20-24 in epoch 4: the log ends at 25.
const follower = followerLog(
  [
    [1, 0n],
    [3, 10n],
    [4, 20n],
  ],
  25n,
);

describe("followerTruncation", () => {
  it("truncates to the smaller end when both logs hold the epoch", () => {
    expect(followerTruncation(follower, { epoch: 3, endOffset: 15n })).toEqual({
      offset: 15n,
      complete: true,
    });
    expect(followerTruncation(follower, { epoch: 3, endOffset: 40n })).toEqual({
      offset: 20n,
      complete: true,
    });
    expect(followerTruncation(follower, { epoch: 4, endOffset: 30n })).toEqual({
      offset: 25n,
      complete: true,
    });
  });

  it("truncates to the end of its own epoch below one it lacks, and asks again", () => {
    expect(followerTruncation(follower, { epoch: 2, endOffset: 12n })).toEqual({
      offset: 10n,
      complete: false,
    });
  });

  it("keeps the log when the leader knows no end for the epoch asked (Kafka's UNDEFINED_EPOCH_OFFSET)", () => {
    expect(followerTruncation(follower, { epoch: -1, endOffset: -1n })).toEqual({
      offset: 25n,
      complete: true,
    });
  });

  it("takes the leader's offset when its answer has no epoch", () => {
    expect(followerTruncation(follower, { epoch: -1, endOffset: 7n })).toEqual({
      offset: 7n,
      complete: true,
    });
  });

  it("takes the leader's end when the follower tracks no epochs", () => {
    expect(followerTruncation(followerLog([], 9n), { epoch: 2, endOffset: 4n })).toEqual({
      offset: 4n,
      complete: true,
    });
  });

  it("ends an epoch below every known one where the first known epoch starts, as Kafka's cache does", () => {
    const trimmed = followerLog(
      [
        [3, 100n],
        [4, 120n],
      ],
      130n,
    );
    expect(followerTruncation(trimmed, { epoch: 2, endOffset: 110n })).toEqual({
      offset: 100n,
      complete: true,
    });
  });

  it("agrees with the spec's truncationOffset for any answer between the follower's first and latest epochs", () => {
    const arbitraryCase = fc
      .record({
        epochGaps: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 6 }),
        lengths: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 6, maxLength: 6 }),
        leaderEpochOffset: fc.integer({ min: 0, max: 8 }),
        leaderEnd: fc.integer({ min: 0, max: 150 }),
      })
      .map(({ epochGaps, lengths, leaderEpochOffset, leaderEnd }) => {
        const starts: Array<{ epoch: number; startOffset: number }> = [];
        let epoch = 0;
        let offset = 0;
        epochGaps.forEach((gap, i) => {
          epoch += gap;
          starts.push({ epoch, startOffset: offset });
          offset += lengths[i]!;
        });
        // The leader answers at most the epoch asked, the follower's latest; at least its first, so it holds a floor.
        const leaderEpoch = Math.min(starts[0]!.epoch + leaderEpochOffset, epoch);
        return { starts, logEnd: offset, leader: { epoch: leaderEpoch, endOffset: leaderEnd } };
      });
    fc.assert(
      fc.property(arbitraryCase, ({ starts, logEnd, leader }) => {
        const log = followerLog(
          starts.map((start) => [start.epoch, BigInt(start.startOffset)]),
          BigInt(logEnd),
        );
        const runtime = followerTruncation(log, { epoch: leader.epoch, endOffset: BigInt(leader.endOffset) });
        expect(runtime.offset).toBe(BigInt(truncationOffset(starts, logEnd, leader)));
      }),
    );
  });
});
