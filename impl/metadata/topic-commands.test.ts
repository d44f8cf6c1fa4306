import { describe, expect, it } from "vitest";
import { ErrorCode } from "../protocol/error-codes.ts";
import { MetadataImage } from "./image.ts";
import type { MetadataRecord } from "./records.ts";
import { assignReplicas, planCreatePartitions, planCreateTopic } from "./topic-commands.ts";

const defaults = {
  numPartitions: 3,
  replicationFactor: 1,
  checkConfig: (name: string) => (name === "bogus" ? "unknown" : null),
};

function imageWithBrokers(...brokerIds: number[]): MetadataImage {
  const image = new MetadataImage();
  brokerIds.forEach((brokerId, index) => {
    image.apply(
      {
        type: "RegisterBrokerRecord",
        version: 0,
        value: {
          brokerId,
          isMigratingZkBroker: false,
          incarnationId: "0".repeat(32),
          brokerEpoch: 1n,
          endPoints: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 9092 + brokerId, securityProtocol: 0 }],
          features: [],
          rack: null,
          fenced: false,
          inControlledShutdown: false,
          logDirs: [],
        },
      } as MetadataRecord,
      BigInt(index),
    );
  });
  return image;
}

function applyAll(image: MetadataImage, records: MetadataRecord[]): void {
  for (const record of records) image.apply(record, image.appliedOffset + 1n);
}

const topic = (name: string, overrides: Partial<Parameters<typeof planCreateTopic>[1]> = {}) => ({
  name,
  numPartitions: -1,
  replicationFactor: -1,
  assignments: [],
  configs: [],
  ...overrides,
});

describe("topic decisions", () => {
  it("places replicas round-robin: [1,2,3], [2,3,1], [3,1,2]", () => {
    expect([0, 1, 2].map((partition) => assignReplicas([1, 2, 3], partition, 3))).toEqual([
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 2],
    ]);
  });

  it("creates a topic as a TopicRecord then one PartitionRecord per partition, leader first replica", () => {
    const image = imageWithBrokers(1);
    const plan = planCreateTopic(image, topic("orders"), defaults);
    if ("errorCode" in plan) throw new Error(plan.errorMessage);
    expect(plan.records.map((record) => record.type)).toEqual([
      "TopicRecord",
      "PartitionRecord",
      "PartitionRecord",
      "PartitionRecord",
    ]);
    applyAll(image, plan.records);
    const partitions = [...image.topicsByName.get("orders")!.partitions.values()];
    expect(partitions.map((p) => [p.partitionId, p.leader, p.isr, p.leaderEpoch])).toEqual([
      [0, 1, [1], 0],
      [1, 1, [1], 0],
      [2, 1, [1], 0],
    ]);
  });

  it.each([
    ["an existing name", "orders", {}, ErrorCode.TOPIC_ALREADY_EXISTS],
    ["an illegal character", "a/b", {}, ErrorCode.INVALID_TOPIC_EXCEPTION],
    ["the metadata topic", "__chronik_metadata", {}, ErrorCode.INVALID_TOPIC_EXCEPTION],
    ["zero partitions", "t", { numPartitions: 0 }, ErrorCode.INVALID_PARTITIONS],
    ["more replicas than brokers", "t", { replicationFactor: 2 }, ErrorCode.INVALID_REPLICATION_FACTOR],
    ["an unknown config", "t", { configs: [{ name: "bogus", value: "1" }] }, ErrorCode.INVALID_CONFIG],
    [
      "an assignment naming an unregistered broker",
      "t",
      { assignments: [{ partitionIndex: 0, brokerIds: [7] }] },
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
    ],
    [
      "an assignment together with a partition count",
      "t",
      { numPartitions: 1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] },
      ErrorCode.INVALID_REQUEST,
    ],
  ])("refuses %s", (_, name, overrides, errorCode) => {
    const image = imageWithBrokers(1);
    const existing = planCreateTopic(image, topic("orders"), defaults);
    if ("errorCode" in existing) throw new Error(existing.errorMessage);
    applyAll(image, existing.records);
    expect(planCreateTopic(image, topic(name, overrides), defaults)).toMatchObject({ errorCode });
  });

  it("grows a topic's partitions and refuses to shrink it", () => {
    const image = imageWithBrokers(1);
    const plan = planCreateTopic(image, topic("orders"), defaults);
    if ("errorCode" in plan) throw new Error(plan.errorMessage);
    applyAll(image, plan.records);
    expect(planCreatePartitions(image, "orders", 2, null)).toMatchObject({
      errorCode: ErrorCode.INVALID_PARTITIONS,
    });
    const grown = planCreatePartitions(image, "orders", 5, null);
    if ("errorCode" in grown) throw new Error(grown.errorMessage);
    applyAll(image, grown);
    expect([...image.topicsByName.get("orders")!.partitions.keys()]).toEqual([0, 1, 2, 3, 4]);
    expect(planCreatePartitions(image, "missing", 2, null)).toMatchObject({
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });
  });

  it("refuses to apply a record twice or out of order", () => {
    const image = imageWithBrokers(1);
    const plan = planCreateTopic(image, topic("orders"), defaults);
    if ("errorCode" in plan) throw new Error(plan.errorMessage);
    expect(() => image.apply(plan.records[0]!, 0n)).toThrow(/in order/);
  });
});
