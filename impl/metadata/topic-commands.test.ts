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

/** The planned topic in the image, with the partitions its lifecycle machines would create (leader first replica). */
function applyTopic(
  image: MetadataImage,
  plan: { topicId: string; records: MetadataRecord[]; assignments: number[][] },
) {
  applyAll(image, plan.records);
  applyPartitions(image, plan.topicId, 0, plan.assignments);
}

function applyPartitions(
  image: MetadataImage,
  topicId: string,
  firstPartition: number,
  assignments: number[][],
) {
  applyAll(
    image,
    assignments.map(
      (replicas, index): MetadataRecord => ({
        type: "PartitionRecord",
        version: 0,
        value: {
          partitionId: firstPartition + index,
          topicId,
          replicas,
          isr: replicas,
          removingReplicas: [],
          addingReplicas: [],
          leader: replicas[0]!,
          leaderRecoveryState: 0,
          leaderEpoch: 0,
          partitionEpoch: 0,
          directories: [],
          eligibleLeaderReplicas: null,
          lastKnownElr: null,
        },
      }),
    ),
  );
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

  it("plans a topic as its TopicRecord and ConfigRecords, and leaves the partitions' records to their machines", () => {
    const image = imageWithBrokers(1, 2, 3);
    const plan = planCreateTopic(
      image,
      topic("orders", { replicationFactor: 2, configs: [{ name: "retention.ms", value: "1000" }] }),
      defaults,
    );
    if ("errorCode" in plan) throw new Error(plan.errorMessage);
    expect(plan.records.map((record) => record.type)).toEqual(["TopicRecord", "ConfigRecord"]);
    expect(plan).toMatchObject({
      numPartitions: 3,
      replicationFactor: 2,
      assignments: [
        [1, 2],
        [2, 3],
        [3, 1],
      ],
      configs: new Map([["retention.ms", "1000"]]),
    });
  });

  it("places only on unfenced brokers, and accepts a fenced but registered broker in an explicit assignment", () => {
    const image = imageWithBrokers(1, 2, 3);
    applyAll(image, [{ type: "FenceBrokerRecord", version: 0, value: { id: 2, epoch: 1n } }]);
    const placed = planCreateTopic(image, topic("placed", { replicationFactor: 2 }), defaults);
    expect(placed).toMatchObject({
      assignments: [
        [1, 3],
        [3, 1],
        [1, 3],
      ],
    });
    const assigned = planCreateTopic(
      image,
      topic("assigned", { assignments: [{ partitionIndex: 0, brokerIds: [2, 1] }] }),
      defaults,
    );
    expect(assigned).toMatchObject({ assignments: [[2, 1]] });
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
    applyTopic(image, existing);
    expect(planCreateTopic(image, topic(name, overrides), defaults)).toMatchObject({ errorCode });
  });

  it("grows a topic's partitions and refuses to shrink it", () => {
    const image = imageWithBrokers(1);
    const plan = planCreateTopic(image, topic("orders"), defaults);
    if ("errorCode" in plan) throw new Error(plan.errorMessage);
    applyTopic(image, plan);
    expect(planCreatePartitions(image, "orders", 2, null)).toMatchObject({
      errorCode: ErrorCode.INVALID_PARTITIONS,
    });
    const grown = planCreatePartitions(image, "orders", 5, null);
    if ("errorCode" in grown) throw new Error(grown.errorMessage);
    expect(grown).toMatchObject({ topicId: plan.topicId, firstPartition: 3, assignments: [[1], [1]] });
    applyPartitions(image, grown.topicId, grown.firstPartition, grown.assignments);
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
