import { afterEach, describe, expect, it } from "vitest";
import { defaultBrokerConfig } from "../broker/config.ts";
import { LocalPartition } from "../broker/replica-manager.ts";
import { MetadataImage, type TopicImage } from "../metadata/image.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import type { PartitionLeader } from "../replication/partition-leader.ts";
import {
  closeTestSchedulers,
  openTestLog,
  produced,
  silentLogger,
  withTemporaryDirectory,
} from "../storage/test-support.ts";
import { GroupCoordinator } from "./group-coordinator.ts";
import { offsetCommitKeyBytes, offsetCommitValueBytes } from "./offsets-records.ts";
import { offsetsTopicName } from "./offsets-topic.ts";

afterEach(() => closeTestSchedulers());

/** `__consumer_offsets` with one partition, led here: every group lives in partition 0. */
function imageWithOffsetsTopic(): { image: MetadataImage; topic: TopicImage } {
  const image = new MetadataImage();
  const topic: TopicImage = {
    name: offsetsTopicName,
    topicId: "1".repeat(32),
    partitions: new Map(),
    configs: new Map(),
  };
  topic.partitions.set(0, {
    partitionId: 0,
    replicas: [1],
    isr: [1],
    leader: 1,
    leaderEpoch: 0,
    partitionEpoch: 0,
  } as never);
  image.topicsByName.set(offsetsTopicName, topic);
  return { image, topic };
}

const leader = {
  leaderEpoch: 0,
  produce: async () => ({ errorCode: ErrorCode.NONE, baseOffset: 0n }),
} as unknown as PartitionLeader;

describe("the group coordinator", () => {
  it("serves a group known only by its offsets as Empty, without starting its machine to read it", async () => {
    await withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const batch = encodeRecordBatch([
        {
          key: offsetCommitKeyBytes("simple", "orders", 0),
          value: offsetCommitValueBytes({ offset: 4n, leaderEpoch: 0, metadata: "", commitTimestamp: 1n }),
        },
      ]);
      const { records, batches } = produced(batch);
      await log.append(records, batches, 0).durable;
      const { image, topic } = imageWithOffsetsTopic();
      const coordinator = new GroupCoordinator({
        config: defaultBrokerConfig,
        image,
        logger: silentLogger(),
      });
      expect(coordinator.coordinated("simple")).toEqual({ errorCode: ErrorCode.NOT_COORDINATOR });
      coordinator.partitions.startedLeading(new LocalPartition(topic, 0, log), leader);
      await expect.poll(() => "partition" in coordinator.coordinated("simple")).toBe(true);
      const found = coordinator.coordinated("simple");
      if (!("partition" in found)) throw new Error("not coordinated");
      expect([...coordinator.knownGroups()].map((group) => group.groupId)).toEqual(["simple"]);
      expect(coordinator.exists("simple", found.partition)).toBe(true);
      expect(coordinator.running("simple", found.partition)).toBeNull();
      expect(coordinator.exists("unknown", found.partition)).toBe(false);
      // A commit or a join does start it, Empty, as Kafka loads such a group.
      expect(coordinator.runtime("simple", found.partition, false)?.state).toBe("Empty");
      expect(coordinator.running("simple", found.partition)).not.toBeNull();
      expect(coordinator.runtime("unknown", found.partition, false)).toBeNull();
      coordinator.partitions.stoppedLeading(new LocalPartition(topic, 0, log), leader);
      expect(coordinator.coordinated("simple")).toEqual({ errorCode: ErrorCode.NOT_COORDINATOR });
      await log.close();
    });
  });
});
