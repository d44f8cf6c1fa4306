/**
 * ElectLeaders and IncrementalAlterConfigs on a cluster of real processes:
 * KafkaJS creates the topics and reads their configs back (it has no
 * ElectLeaders nor IncrementalAlterConfigs), @platformatic/kafka's admin
 * changes configs, and the elections (and the changes the test must read
 * per partition) go as raw requests to a node that forwards them to the
 * controller.
 *
 * A preferred election moves leadership back to the first replica once it
 * has returned to the ISR. An out-of-sync replica is elected for a leaderless
 * partition only when asked (an unclean ElectLeaders), or once the topic
 * allows it (unclean.leader.election.enable set by IncrementalAlterConfigs).
 */
import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { electLeadersApi } from "../../impl/protocol/apis/elect-leaders.ts";
import { incrementalAlterConfigsApi } from "../../impl/protocol/apis/incremental-alter-configs.ts";
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { LocalCluster } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";
import { exchange } from "../support/raw-connection.ts";

const preferred = 0;
const unclean = 1;

async function metadataOf(port: number, topic: string) {
  return exchange(port, metadataApi, 12, {
    topics: [{ topicId: "00000000000000000000000000000000", name: topic }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
}

/** Each partition's [leader, isr], once the topic is known to the node. */
async function leadersOf(port: number, topic: string): Promise<Array<[number, number[]]> | undefined> {
  const found = (await metadataOf(port, topic)).topics[0];
  if (found === undefined || found.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return undefined;
  return [...found.partitions]
    .sort((left, right) => left.partitionIndex - right.partitionIndex)
    .map((partition) => [partition.leaderId, [...partition.isrNodes].sort((a, b) => a - b)]);
}

/** Waits until the node's view of the topic is `expected`. */
function settled(port: number, topic: string, expected: Array<[number, number[]]>) {
  return eventually(`${topic} settles to ${JSON.stringify(expected)}`, async () => {
    const seen = await leadersOf(port, topic);
    if (JSON.stringify(seen) === JSON.stringify(expected)) return seen;
    throw new Error(`seen ${JSON.stringify(seen)}`);
  });
}

async function elect(port: number, electionType: number, topic: string, partitions: number[]) {
  const response = await exchange(port, electLeadersApi, 2, {
    electionType,
    topicPartitions: [{ topic, partitions }],
    timeoutMs: 30_000,
  });
  return response.replicaElectionResults.flatMap((result) =>
    result.partitionResult.map(({ partitionId, errorCode }) => [partitionId, errorCode]),
  );
}

describe("ElectLeaders and IncrementalAlterConfigs on a three-node cluster", () => {
  let cluster: LocalCluster;
  let kafka: Kafka;
  beforeAll(async () => {
    cluster = await LocalCluster.start(3);
    // A fourth node, an observer: two nodes holding a partition may then be down while a quorum stays up.
    await cluster.addNode(4);
    kafka = new Kafka({
      clientId: "elections",
      brokers: [`127.0.0.1:${cluster.node(1).port}`],
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 30 },
    });
  }, 90_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function createTopic(
    topic: string,
    replicaAssignment: Array<{ partition: number; replicas: number[] }>,
  ) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, replicaAssignment }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  }

  it("moves leadership back to the preferred replica once it is in the ISR again", async () => {
    await createTopic("preferred", [{ partition: 0, replicas: [1, 2, 3] }]);
    const observer = cluster.node(3).port;
    await settled(observer, "preferred", [[1, [1, 2, 3]]]);

    await cluster.killNode(1);
    await settled(observer, "preferred", [[2, [2, 3]]]);
    await cluster.startNode(1);
    await settled(observer, "preferred", [[2, [1, 2, 3]]]);

    expect(await elect(observer, preferred, "preferred", [0])).toEqual([[0, ErrorCode.NONE]]);
    // Committed before the answer, so the node that forwarded it already sees the new leader.
    expect(await leadersOf(observer, "preferred")).toEqual([[1, [1, 2, 3]]]);
    expect(await elect(observer, preferred, "preferred", [0])).toEqual([[0, ErrorCode.ELECTION_NOT_NEEDED]]);
    expect(await elect(observer, preferred, "missing", [0])).toEqual([
      [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
  }, 120_000);

  it("elects an out-of-sync replica only on an unclean ElectLeaders or once the topic allows it", async () => {
    await createTopic("unclean", [
      { partition: 0, replicas: [3, 4] },
      { partition: 1, replicas: [3, 4] },
    ]);
    const port = cluster.node(1).port;
    await settled(port, "unclean", [
      [3, [3, 4]],
      [3, [3, 4]],
    ]);
    // The follower goes first and leaves the ISR; then the leader: nothing in sync is left.
    await cluster.killNode(4);
    await settled(port, "unclean", [
      [3, [3]],
      [3, [3]],
    ]);
    await cluster.killNode(3);
    await settled(port, "unclean", [
      [-1, [3]],
      [-1, [3]],
    ]);
    await cluster.startNode(4);
    await eventually("node 4 is a live broker again", async () => {
      const brokers = (await metadataOf(port, "unclean")).brokers.map((broker) => broker.nodeId);
      return brokers.includes(4) ? brokers : undefined;
    });
    // Back and unfenced, but out of sync: with unclean election off, nothing elects it.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await leadersOf(port, "unclean")).toEqual([
      [-1, [3]],
      [-1, [3]],
    ]);
    expect(await elect(port, preferred, "unclean", [0])).toEqual([
      [0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE],
    ]);

    expect(await elect(port, unclean, "unclean", [0])).toEqual([[0, ErrorCode.NONE]]);
    expect(await leadersOf(port, "unclean")).toEqual([
      [4, [4]],
      [-1, [3]],
    ]);

    const altered = await exchange(port, incrementalAlterConfigsApi, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: "unclean",
          configs: [{ name: "unclean.leader.election.enable", configOperation: 0, value: "true" }],
        },
      ],
      validateOnly: false,
    });
    expect(altered.responses.map(({ errorCode }) => errorCode)).toEqual([ErrorCode.NONE]);
    expect(await leadersOf(port, "unclean")).toEqual([
      [4, [4]],
      [4, [4]],
    ]);

    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        resources: [{ type: 2, name: "unclean", configNames: ["unclean.leader.election.enable"] }],
        includeSynonyms: false,
      });
      expect(
        described.resources[0]!.configEntries.map(({ configName, configValue }) => [configName, configValue]),
      ).toEqual([["unclean.leader.election.enable", "true"]]);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
  it("changes topic configs from @platformatic/kafka's admin, seen by every node, and refuses bad ones", async () => {
    await createTopic("configured", [{ partition: 0, replicas: [1, 2, 3] }]);
    const admin = new Admin({
      clientId: "chronik-configs",
      bootstrapBrokers: [`127.0.0.1:${cluster.node(2).port}`],
      retries: 2,
      timeout: 10_000,
    });
    const { SET, DELETE } = IncrementalAlterConfigOperationTypes;
    try {
      await admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: "configured",
            configs: [
              { name: "retention.ms", configOperation: SET, value: "3600000" },
              { name: "min.insync.replicas", configOperation: SET, value: "2" },
            ],
          },
        ],
      });
      await admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: "configured",
            configs: [{ name: "min.insync.replicas", configOperation: DELETE }],
          },
        ],
      });
      await expect(
        admin.incrementalAlterConfigs({
          resources: [
            {
              resourceType: ConfigResourceTypes.TOPIC,
              resourceName: "configured",
              configs: [{ name: "retention.ms", configOperation: SET, value: "soon" }],
            },
          ],
        }),
      ).rejects.toThrow();
    } finally {
      await admin.close();
    }

    for (const node of cluster.up) {
      const reader = new Kafka({
        clientId: "configs-reader",
        brokers: [`127.0.0.1:${node.port}`],
        logLevel: logLevel.NOTHING,
      }).admin();
      await reader.connect();
      try {
        const entries = await eventually(`node ${node.nodeId} sees the changed configs`, async () => {
          const described = await reader.describeConfigs({
            resources: [
              { type: 2, name: "configured", configNames: ["retention.ms", "min.insync.replicas"] },
            ],
            includeSynonyms: false,
          });
          const pairs = described.resources[0]!.configEntries.map(
            ({ configName, configValue, isDefault }) => [configName, configValue, isDefault],
          );
          return JSON.stringify(pairs).includes("3600000") ? pairs : undefined;
        });
        expect(entries).toEqual([
          ["min.insync.replicas", "1", true],
          ["retention.ms", "3600000", false],
        ]);
      } finally {
        await reader.disconnect();
      }
    }
  }, 60_000);
});
