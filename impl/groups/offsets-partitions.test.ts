import { afterEach, describe, expect, it } from "vitest";
import { LocalPartition } from "../broker/replica-manager.ts";
import type { TopicImage } from "../metadata/image.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import type { PartitionLeader, ProduceOutcome } from "../replication/partition-leader.ts";
import {
  closeTestSchedulers,
  openTestLog,
  produced,
  silentLogger,
  withTemporaryDirectory,
} from "../storage/test-support.ts";
import { type CoordinatedPartition, OffsetsPartitions } from "./offsets-partitions.ts";
import {
  groupMetadataKeyBytes,
  groupMetadataValueBytes,
  offsetCommitKeyBytes,
  offsetCommitValueBytes,
} from "./offsets-records.ts";
import { offsetsTopicName } from "./offsets-topic.ts";

function offsetsTopic(): TopicImage {
  const topic: TopicImage = {
    name: offsetsTopicName,
    topicId: "0".repeat(32),
    partitions: new Map(),
    configs: new Map(),
  };
  topic.partitions.set(0, {
    partitionId: 0,
    replicas: [1],
    isr: [1],
    leader: 1,
    leaderEpoch: 3,
    partitionEpoch: 1,
  } as never);
  return topic;
}

/** A leader whose appends answer as told: the coordinator only needs its epoch and its produce. */
function fakeLeader(answer: () => ProduceOutcome, appended: Buffer[] = []): PartitionLeader {
  return {
    leaderEpoch: 3,
    produce: async (records: Buffer) => {
      appended.push(records);
      return answer();
    },
  } as unknown as PartitionLeader;
}

function recorder() {
  const loaded: CoordinatedPartition[] = [];
  const unloaded: CoordinatedPartition[] = [];
  return {
    loaded,
    unloaded,
    events: {
      loaded: (p: CoordinatedPartition) => loaded.push(p),
      unloaded: (p: CoordinatedPartition) => unloaded.push(p),
    },
  };
}

afterEach(() => closeTestSchedulers());

describe("the __consumer_offsets partitions a node coordinates", () => {
  it("loads a led partition's groups and offsets from its log, then reports it loaded", async () => {
    await withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const group = {
        protocolType: "consumer",
        generation: 2,
        protocol: "range",
        leader: null,
        currentStateTimestamp: 5n,
        members: [],
      };
      const batch = encodeRecordBatch([
        {
          key: offsetCommitKeyBytes("g", "orders", 0),
          value: offsetCommitValueBytes({ offset: 7n, leaderEpoch: 1, metadata: "", commitTimestamp: 9n }),
        },
        { key: groupMetadataKeyBytes("g"), value: groupMetadataValueBytes(group) },
        {
          key: offsetCommitKeyBytes("gone", "orders", 0),
          value: offsetCommitValueBytes({ offset: 1n, leaderEpoch: 1, metadata: "", commitTimestamp: 9n }),
        },
        { key: offsetCommitKeyBytes("gone", "orders", 0), value: null },
      ]);
      const { records, batches } = produced(batch);
      await log.append(records, batches, 3).durable;
      const { loaded, events } = recorder();
      const partitions = new OffsetsPartitions(events, silentLogger());
      const local = new LocalPartition(offsetsTopic(), 0, log);
      partitions.startedLeading(
        local,
        fakeLeader(() => ({ errorCode: 0, baseOffset: 0n })),
      );
      expect(partitions.get(0)?.status).toBe("loading");
      await expect.poll(() => loaded.length).toBe(1);
      const state = loaded[0]!.state;
      expect(state.offsetOf("g", "orders", 0)?.offset).toBe(7n);
      expect(state.groups.get("g")?.generation).toBe(2);
      expect(state.groupIds()).toEqual(["g"]);
      await log.close();
    });
  });

  it("ignores partitions of other topics", async () => {
    await withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const { loaded, events } = recorder();
      const partitions = new OffsetsPartitions(events, silentLogger());
      const other = { ...offsetsTopic(), name: "orders" };
      partitions.startedLeading(
        new LocalPartition(other, 0, log),
        fakeLeader(() => ({ errorCode: 0, baseOffset: 0n })),
      );
      expect(partitions.get(0)).toBeUndefined();
      expect(loaded).toEqual([]);
      await log.close();
    });
  });

  it("appends with acks=all through the leader, and stops serving the partition when leadership leaves", async () => {
    await withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const { loaded, unloaded, events } = recorder();
      const partitions = new OffsetsPartitions(events, silentLogger());
      const local = new LocalPartition(offsetsTopic(), 0, log);
      const appended: Buffer[] = [];
      let answer: ProduceOutcome = { errorCode: 0, baseOffset: 0n };
      const leader = fakeLeader(() => answer, appended);
      partitions.startedLeading(local, leader);
      await expect.poll(() => loaded.length).toBe(1);
      const partition = loaded[0]!;
      const record = { key: groupMetadataKeyBytes("g"), value: null };
      expect(await partitions.append(partition, [record])).toBe(ErrorCode.NONE);
      expect(appended).toHaveLength(1);
      answer = { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, errorMessage: null };
      expect(await partitions.append(partition, [record])).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
      partitions.stoppedLeading(local, leader);
      expect(unloaded).toEqual([partition]);
      expect(partitions.get(0)).toBeUndefined();
      expect(await partitions.append(partition, [record])).toBe(ErrorCode.NOT_COORDINATOR);
      await log.close();
    });
  });
});
