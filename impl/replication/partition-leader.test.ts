import { afterEach, describe, expect, it } from "vitest";
import { LocalPartition } from "../broker/replica-manager.ts";
import type { PartitionImage, TopicImage } from "../metadata/image.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import {
  batchOf,
  closeTestSchedulers,
  idempotentBatch,
  openTestLog,
  produced,
  silentLogger,
  withTemporaryDirectory,
} from "../storage/test-support.ts";
import {
  type AlterPartitionOutcome,
  PartitionLeader,
  type PartitionLeaderOptions,
} from "./partition-leader.ts";

afterEach(() => closeTestSchedulers());

interface Proposal {
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
}

/** A partition led by node 1 over a real log, an AlterPartition channel the test answers, and a clock it moves. */
async function leading(
  directory: string,
  partition: Partial<PartitionImage>,
  options: Partial<PartitionLeaderOptions> = {},
) {
  const image: PartitionImage = {
    partitionId: 0,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    leader: 1,
    leaderEpoch: 4,
    partitionEpoch: 7,
    ...partition,
  };
  const topic: TopicImage = {
    name: "orders",
    topicId: "ab".repeat(16),
    partitions: new Map([[0, image]]),
    configs: new Map(),
  };
  const log = await openTestLog(directory);
  const local = new LocalPartition(topic, 0, log);
  const proposals: Array<{ proposal: Proposal; answer(outcome: AlterPartitionOutcome): void }> = [];
  let now = 1_000;
  const leader = new PartitionLeader(local, {
    nodeId: 1,
    minInsyncReplicas: 2,
    ineligibleReplicas: [],
    replicaLagMsMax: 30_000,
    waitingProducesMax: 100,
    logger: silentLogger(),
    nowMs: () => now,
    sendAlterPartition: (proposal) => new Promise((resolve) => proposals.push({ proposal, answer: resolve })),
    ...options,
  });
  return {
    image,
    local,
    leader,
    proposals,
    advanceClock: (ms: number) => {
      now += ms;
    },
    produce: (label: string, acks: number, count = 2) => {
      const { records, batches } = produced(batchOf(label, count));
      return leader.produce(records, batches, acks);
    },
    /** A batch of two records by idempotent producer 5, epoch `producerEpoch`, from `baseSequence`. */
    produceIdempotent: (baseSequence: number, acks: number, producerEpoch = 0) => {
      const stamp = { producerId: 5n, producerEpoch, baseSequence };
      const { records, batches } = produced(idempotentBatch(`s${baseSequence}`, 2, stamp));
      return leader.produce(records, batches, acks);
    },
  };
}

/** Lets queued durability callbacks and promise reactions run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("the partition leader runs the ISR machine", () => {
  it("answers acks=all only once every ISR follower fetched past the batch; the high watermark follows", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { leader, local, produce } = await leading(directory, {});
      let answered = false;
      const outcome = produce("a", -1).then((result) => {
        answered = true;
        return result;
      });
      await settle();
      expect(answered).toBe(false);
      expect(local.highWatermark).toBe(0n);
      leader.replicaFetched(2, 2n);
      await settle();
      expect(answered).toBe(false);
      leader.replicaFetched(3, 2n);
      expect(await outcome).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(local.highWatermark).toBe(2n);
    });
  });

  it("answers acks=1 when durable, without waiting for followers", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { local, produce } = await leading(directory, {});
      expect(await produce("a", 1)).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(local.log.logEndOffset).toBe(2n);
      expect(local.highWatermark).toBe(0n);
    });
  });

  it("is its own whole ISR when alone: acks=all completes at durability", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { local, produce } = await leading(
        directory,
        { replicas: [1], isr: [1] },
        { minInsyncReplicas: 1 },
      );
      expect(await produce("a", -1)).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(local.highWatermark).toBe(2n);
    });
  });

  it("refuses acks=all before writing when the ISR is below min.insync.replicas", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { local, produce } = await leading(directory, { isr: [1] });
      const outcome = await produce("a", -1);
      expect(outcome).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS });
      expect(local.log.logEndOffset).toBe(0n);
    });
  });

  it("proposes removing a follower that stopped fetching, and fails waiting acks=all produces after the shrink below min.insync commits", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { leader, proposals, advanceClock, produce } = await leading(
        directory,
        {},
        { minInsyncReplicas: 3 },
      );
      const waiting = produce("a", -1);
      await settle();
      leader.replicaFetched(2, 2n);
      advanceClock(30_001);
      leader.tick();
      expect(proposals.map((entry) => entry.proposal)).toEqual([
        { leaderEpoch: 4, partitionEpoch: 7, newIsr: [1, 2] },
      ]);
      proposals[0]!.answer({ errorCode: 0, leaderEpoch: 4, partitionEpoch: 8, isr: [1, 2] });
      expect(await waiting).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND });
    });
  });

  it("counts followers that keep fetching an idle partition as caught up when records come after a long idle time", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { leader, proposals, advanceClock, produce } = await leading(directory, {});
      await settle();
      // 40 s of fetches every 500 ms at the log end; repeats reach the machine at most once a second.
      for (let elapsed = 0; elapsed < 40_000; elapsed += 500) {
        leader.replicaFetched(2, 0n);
        leader.replicaFetched(3, 0n);
        advanceClock(500);
        leader.tick();
      }
      // Records come: both followers are behind now, but were caught up within the last second.
      await produce("a", 1);
      await settle();
      advanceClock(1);
      leader.tick();
      expect(proposals).toEqual([]);

      // Node 2 fetches them; node 3 has stopped and drops out once replica.lag.time.max.ms has passed.
      leader.replicaFetched(2, 2n);
      advanceClock(30_001);
      leader.tick();
      expect(proposals.map((entry) => entry.proposal)).toEqual([
        { leaderEpoch: 4, partitionEpoch: 7, newIsr: [1, 2] },
      ]);
    });
  });

  it("proposes adding a caught-up follower back, and sends again when the controller moved", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { leader, proposals, local, produce } = await leading(directory, { isr: [1, 2] });
      await produce("a", 1);
      leader.replicaFetched(3, 2n);
      expect(proposals.map((entry) => entry.proposal)).toEqual([
        { leaderEpoch: 4, partitionEpoch: 7, newIsr: [1, 2, 3] },
      ]);
      proposals[0]!.answer({ errorCode: ErrorCode.NOT_CONTROLLER });
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(proposals).toHaveLength(2);
      expect(proposals[1]!.proposal).toEqual(proposals[0]!.proposal);
      // The expansion already counts for the high watermark: 3 is at 2, 2 is not.
      expect(local.highWatermark).toBe(0n);
      leader.replicaFetched(2, 2n);
      expect(local.highWatermark).toBe(2n);
    });
  });

  it("answers waiting produces NOT_LEADER_OR_FOLLOWER when it resigns", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { leader, produce } = await leading(directory, {});
      const waiting = produce("a", -1);
      await settle();
      leader.resign();
      expect(await waiting).toMatchObject({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
      expect(await produce("b", 1)).toMatchObject({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
    });
  });
});

describe("the partition leader and idempotent producers", () => {
  it("answers an acks=1 retry with the first attempt's offset and writes nothing", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { local, produceIdempotent } = await leading(directory, {});
      expect(await produceIdempotent(0, 1)).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(await produceIdempotent(2, 1)).toEqual({ errorCode: 0, baseOffset: 2n });
      expect(await produceIdempotent(0, 1)).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(local.log.logEndOffset).toBe(4n);
    });
  });

  it("answers an acks=all retry once the first attempt is committed: at once when it already is", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { leader, local, produceIdempotent } = await leading(directory, {});
      const first = produceIdempotent(0, -1);
      await settle();
      let retryAnswered = false;
      const retry = produceIdempotent(0, -1).then((outcome) => {
        retryAnswered = true;
        return outcome;
      });
      await settle();
      expect(retryAnswered).toBe(false);
      leader.replicaFetched(2, 2n);
      leader.replicaFetched(3, 2n);
      expect(await first).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(await retry).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(local.highWatermark).toBe(2n);
      expect(await produceIdempotent(0, -1)).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(local.log.logEndOffset).toBe(2n);
    });
  });

  it("refuses a sequence gap and a fenced epoch with Kafka's codes, before the ISR machine holds them", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { local, produceIdempotent } = await leading(
        directory,
        { replicas: [1], isr: [1] },
        { minInsyncReplicas: 1, waitingProducesMax: 2 },
      );
      await produceIdempotent(0, -1, 1);
      for (let attempt = 0; attempt < 4; attempt++) {
        expect(await produceIdempotent(8, -1, 1)).toMatchObject({
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        });
        expect(await produceIdempotent(2, -1, 0)).toMatchObject({
          errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        });
      }
      // Eight refusals, and the bounded list of waiting acks=all produces still has room.
      expect(await produceIdempotent(2, -1, 1)).toEqual({ errorCode: 0, baseOffset: 2n });
      expect(local.log.logEndOffset).toBe(4n);
    });
  });

  it("proposes a caught-up follower for the ISR only while the metadata shows its broker eligible (KIP-841)", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { leader, proposals, advanceClock } = await leading(
        directory,
        { isr: [1, 2] },
        { ineligibleReplicas: [3] },
      );
      leader.replicaFetched(3, 0n);
      expect(proposals).toEqual([]);
      // The same list again is no news; the broker unfenced is, and its next fetch is proposed.
      leader.eligibilityChanged([3]);
      leader.eligibilityChanged([]);
      advanceClock(1_001);
      leader.replicaFetched(3, 0n);
      expect(proposals.map((entry) => entry.proposal)).toEqual([
        { leaderEpoch: 4, partitionEpoch: 7, newIsr: [1, 2, 3] },
      ]);
    });
  });

  it("takes a changed min.insync.replicas at once: the next acks=all is refused, one already waiting still completes", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { leader, local, produce } = await leading(directory, { isr: [1, 2] });
      const waiting = produce("a", -1);
      await settle();
      leader.minInsyncReplicasChanged(3);
      expect(await produce("b", -1)).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS });
      leader.replicaFetched(2, 2n);
      await settle();
      // Below the new min.insync.replicas the high watermark waits...
      expect(local.highWatermark).toBe(0n);
      leader.minInsyncReplicasChanged(2);
      // ...and moves once it is lowered again, completing the produce that waited.
      expect(await waiting).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(local.highWatermark).toBe(2n);
    });
  });
});
