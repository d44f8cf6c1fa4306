/**
 * KafkaJS consumer groups (`consumer.run`, the classic group protocol) against
 * one node and against three: members in processes of their own share a
 * topic's partitions, every message is consumed once while the group is
 * stable, a member that leaves or crashes hands its partitions over, a new
 * member gets some, committed offsets survive a restart of every node, and
 * on three nodes the group and its offsets survive the coordinator's kill -9.
 */
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { offsetsPartitionFor, offsetsTopicName } from "../../impl/groups/offsets-topic.ts";
import { LocalCluster } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";
import { type ConsumedMessage, GroupMember } from "../support/group-members.ts";

const offsetsTopicPartitions = 5;
/** Short sessions so a crashed member is noticed soon (the broker's minimum is lowered to allow it). */
const sessionTimeoutMs = 2000;
const partitions = 3;

function brokerFlags(nodes: number): string[] {
  return [
    "--group-initial-rebalance-delay-ms",
    "0",
    "--group-min-session-timeout-ms",
    "1000",
    "--offsets-topic-partitions",
    String(offsetsTopicPartitions),
    "--default-replication-factor",
    String(nodes),
  ];
}

const messageKey = (message: ConsumedMessage) => `${message.topic}-${message.partition}@${message.offset}`;

describe.each([
  ["one node", 1],
  ["three nodes", 3],
])("KafkaJS consumer groups on %s", (_name, nodes) => {
  const topic = `orders-${nodes}`;
  const groupId = `order-processors-${nodes}`;
  let cluster: LocalCluster;
  let kafka: Kafka;
  let admin: Admin;
  const members: GroupMember[] = [];
  const sent: string[] = [];

  function startMember(): GroupMember {
    const member = GroupMember.start({ brokers: cluster.bootstrap, groupId, topic, sessionTimeoutMs });
    members.push(member);
    return member;
  }

  async function produce(count: number): Promise<void> {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const values = Array.from({ length: count }, (_, index) => `message-${sent.length + index}`);
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, index) => ({ key: `key-${sent.length + index}`, value })),
    });
    sent.push(...values);
    await producer.disconnect();
  }

  /** Waits until the members together cover every partition, each one at most once. */
  async function settledAssignment(expectedMembers: GroupMember[]): Promise<void> {
    await eventually(`${expectedMembers.length} members sharing ${partitions} partitions`, async () => {
      const assigned = expectedMembers.flatMap((member) => member.assigned);
      const complete =
        assigned.length === partitions &&
        new Set(assigned).size === partitions &&
        expectedMembers.every((member) => member.assigned.length > 0);
      return complete ? true : undefined;
    });
  }

  function consumedByAll(): ConsumedMessage[] {
    return members.flatMap((member) => member.consumed);
  }

  async function allSentConsumed(): Promise<void> {
    await eventually(`all ${sent.length} messages consumed`, async () => {
      const values = new Set(consumedByAll().map((message) => message.value));
      return sent.every((value) => values.has(value)) ? true : undefined;
    });
  }

  beforeAll(async () => {
    cluster = await LocalCluster.start(nodes, brokerFlags(nodes));
    kafka = new Kafka({ clientId: "groups-test", brokers: cluster.bootstrap, logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor: nodes }],
    });
  });

  afterAll(async () => {
    await Promise.all(members.map((member) => member.kill()));
    await admin?.disconnect();
    await cluster?.destroy();
  });

  it("shares the partitions among three members and consumes every message once", async () => {
    const three = [startMember(), startMember(), startMember()];
    await settledAssignment(three);
    await produce(300);
    await allSentConsumed();
    const consumed = consumedByAll();
    expect(new Set(consumed.map(messageKey)).size, "no message consumed twice").toBe(consumed.length);
    expect(consumed).toHaveLength(300);
    for (const member of three) expect(member.problems).toEqual([]);
  });

  it("moves a leaving member's and a crashed member's partitions to the others, and takes in a new one", async () => {
    const [first, second, third] = members;
    await third!.stop();
    await settledAssignment([first!, second!]);
    await produce(60);
    await allSentConsumed();

    await second!.kill();
    await settledAssignment([first!]);
    await produce(60);
    await allSentConsumed();

    const fourth = startMember();
    await settledAssignment([first!, fourth]);
    await produce(60);
    await allSentConsumed();
    // Crashes and leaves may deliver a message again (at least once), but never skip one.
    const values = new Set(consumedByAll().map((message) => message.value));
    expect(sent.filter((value) => !values.has(value))).toEqual([]);
  });

  it("keeps committed offsets across a restart of every node and resumes from them", async () => {
    await Promise.all(members.map((member) => member.stop()));
    const ends = await admin.fetchTopicOffsets(topic);
    const committedBefore = await eventually(
      "offsets committed up to the end of each partition",
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const caughtUp = ends.every(
          (end) => committed!.partitions.find((p) => p.partition === end.partition)?.offset === end.offset,
        );
        return caughtUp ? committed : undefined;
      },
    );
    await admin.disconnect();
    for (const node of cluster.up) await cluster.stopNode(node.nodeId);
    await Promise.all(cluster.nodes.map((node) => cluster.startNode(node.nodeId)));
    kafka = new Kafka({ clientId: "groups-test", brokers: cluster.bootstrap, logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    const committedAfter = await eventually("the coordinator serving offsets again", async () => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return committed;
    });
    expect(committedAfter).toEqual(committedBefore);

    const resumed = startMember();
    await settledAssignment([resumed]);
    const before = sent.length;
    await produce(30);
    await allSentConsumed();
    expect(resumed.consumed.map((message) => message.value)).toEqual(
      expect.arrayContaining(sent.slice(before)),
    );
    expect(resumed.consumed.filter((message) => !sent.slice(before).includes(message.value!))).toEqual([]);
  });

  it.runIf(nodes === 3)(
    "survives kill -9 of the coordinator's node without losing committed offsets",
    async () => {
      const [committedBefore] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const coordinatorPartition = offsetsPartitionFor(groupId, offsetsTopicPartitions);
      const metadata = await admin.fetchTopicMetadata({ topics: [offsetsTopicName] });
      const coordinatorId = metadata.topics[0]!.partitions.find(
        (partition) => partition.partitionId === coordinatorPartition,
      )!.leader;
      await cluster.killNode(coordinatorId);
      const before = sent.length;
      await produce(30);
      await allSentConsumed();
      const [committedAfter] = await eventually("offsets served by the new coordinator", async () => {
        const fetched = await admin.fetchOffsets({ groupId, topics: [topic] });
        const ahead = fetched[0]!.partitions.every(
          (partition) =>
            BigInt(partition.offset) >=
            BigInt(committedBefore!.partitions.find((p) => p.partition === partition.partition)!.offset),
        );
        return ahead ? fetched : undefined;
      });
      expect(committedAfter!.partitions).toHaveLength(partitions);
      expect(sent.length - before).toBe(30);
    },
  );
});
