/**
 * Data replication on a three-node cluster of real processes, driven by real
 * clients: KafkaJS produces with acks=all, `chronik dump-log` reads every
 * replica straight from disk, kcat consumes. Covers the baseline (auto-created
 * topic, replication factor 3, every replica the same), leader failover,
 * a follower's restart, min.insync.replicas above the ISR, and the loss of a
 * majority.
 */
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../support/cluster-process.ts";
import { dumpedRecords } from "../support/dump-log.ts";
import { eventually } from "../support/eventually.ts";
import { runKcat } from "../support/kcat.ts";
import { partitionsOf } from "../support/partition-views.ts";

/** Every record of one replica as `chronik dump-log --json` reads it from the node's disk: offset, key, value. */
async function replicaRecords(dataDir: string, topic: string, partition: number): Promise<string[]> {
  const records = await dumpedRecords(dataDir, topic, partition);
  return records.map((record) => `${record.offset}:${record.key}:${record.value}`);
}

function kafkaFor(cluster: LocalCluster, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: cluster.bootstrap,
    logLevel: logLevel.NOTHING,
    // Elections and fences take seconds: keep retrying through them rather than failing the send.
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 60 },
  });
}

async function produceNumbered(producer: Producer, topic: string, from: number, count: number) {
  const acked: string[] = [];
  for (let index = from; index < from + count; index += 50) {
    const messages = Array.from({ length: Math.min(50, from + count - index) }, (_, offset) => ({
      key: `key-${index + offset}`,
      value: `message-${index + offset}`,
    }));
    await producer.send({ topic, acks: -1, timeout: 30_000, messages });
    acked.push(...messages.map((message) => message.value));
  }
  return acked;
}

describe("replication on a three-node cluster", () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await LocalCluster.start(3, ["--default-replication-factor", "3", "--num-partitions", "3"]);
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("acknowledges 1000 acks=all messages to an auto-created topic, and every replica holds the same records", async () => {
    const producer = kafkaFor(cluster, "baseline").producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      const acked = await produceNumbered(producer, "baseline", 0, 1000);
      expect(acked).toHaveLength(1000);
    } finally {
      await producer.disconnect();
    }
    const partitions = (await partitionsOf(cluster.nodes[0]!.port, "baseline"))!;
    expect(partitions.map((partition) => partition.replicas)).toEqual([
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 2],
    ]);
    let total = 0;
    for (const { partition } of partitions) {
      // Followers may still be fetching the last batch: compare once all three agree.
      const replicas = await eventually(`replicas of baseline-${partition} agree`, async () => {
        const read = await Promise.all(
          cluster.nodes.map((node) => replicaRecords(node.dataDir, "baseline", partition)),
        );
        if (read.every((records) => records.join() === read[0]!.join())) return read;
        // Kept as the last error, so a failure says how far each replica got.
        throw new Error(`records per node: ${read.map((records) => records.length).join(", ")}`);
      });
      total += replicas[0]!.length;
    }
    expect(total).toBe(1000);
    for (const node of cluster.nodes) {
      const degraded = cluster
        .logLines(node.nodeId)
        .filter((line) => line.msg === "proposing ISR change" && (line.newIsr as number[]).length < 3);
      expect(degraded).toEqual([]);
      const isrs = (await partitionsOf(node.port, "baseline"))!.map((partition) => partition.isr.length);
      expect(isrs).toEqual([3, 3, 3]);
    }
  });

  it("keeps producing through the kill -9 of a partition leader, and every acknowledged message is consumed", async () => {
    const kafka = kafkaFor(cluster, "failover");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "failover", numPartitions: 1, replicationFactor: 3 }] });
    await admin.disconnect();
    const [before] = (await eventually("failover created everywhere", () =>
      partitionsOf(cluster.nodes[0]!.port, "failover"),
    ))!;

    const producer = kafka.producer();
    await producer.connect();
    const acked = await produceNumbered(producer, "failover", 0, 200);
    await cluster.killNode(before!.leader);
    acked.push(...(await produceNumbered(producer, "failover", 200, 200)));
    await producer.disconnect();

    const survivor = cluster.up[0]!;
    const [after] = (await partitionsOf(survivor.port, "failover"))!;
    expect(after!.leader).not.toBe(before!.leader);
    expect(after!.leaderEpoch).toBeGreaterThan(before!.leaderEpoch);
    const consumed = await runKcat([
      "-C",
      "-b",
      cluster.bootstrap.join(","),
      "-t",
      "failover",
      "-p",
      "0",
      "-o",
      "beginning",
      "-e",
      "-f",
      "%s\\n",
    ]);
    const values = consumed.stdout
      .toString()
      .split("\n")
      .filter((line) => line !== "");
    for (const value of acked) expect(values).toContain(value);

    await cluster.startNode(before!.leader);
  });

  it("lets a restarted follower catch up and rejoin the ISR with the same records", async () => {
    const kafka = kafkaFor(cluster, "restart");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "restart", numPartitions: 1, replicationFactor: 3 }] });
    await admin.disconnect();
    const [partition] = (await eventually("restart created", () =>
      partitionsOf(cluster.nodes[0]!.port, "restart"),
    ))!;
    const follower = partition!.replicas.find((id) => id !== partition!.leader)!;
    await cluster.stopNode(follower);

    const producer = kafka.producer();
    await producer.connect();
    await produceNumbered(producer, "restart", 0, 300);
    await producer.disconnect();

    await cluster.startNode(follower);
    await eventually("the follower back in the ISR", async () => {
      const [view] = (await partitionsOf(cluster.node(follower).port, "restart")) ?? [];
      return view?.isr.includes(follower) ? view : undefined;
    });
    const leaderNode = cluster.node(partition!.leader);
    const followerNode = cluster.node(follower);
    await eventually("the follower holds the leader's records", async () => {
      const [leaderRecords, followerRecords] = await Promise.all([
        replicaRecords(leaderNode.dataDir, "restart", 0),
        replicaRecords(followerNode.dataDir, "restart", 0),
      ]);
      return leaderRecords.length === 300 && leaderRecords.join() === followerRecords.join()
        ? true
        : undefined;
    });
  });

  it("refuses acks=all with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas, writing nothing", async () => {
    const kafka = kafkaFor(cluster, "min-insync");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: "strict",
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: "min.insync.replicas", value: "3" }],
        },
      ],
    });
    await admin.disconnect();
    const [partition] = (await eventually("strict created", () =>
      partitionsOf(cluster.nodes[0]!.port, "strict"),
    ))!;
    const victim = partition!.replicas.find((id) => id !== partition!.leader)!;
    await cluster.killNode(victim);
    const leaderPort = cluster.node(partition!.leader).port;
    await eventually("the ISR shrinks to two", async () => {
      const [view] = (await partitionsOf(leaderPort, "strict")) ?? [];
      return view !== undefined && view.isr.length === 2 ? view : undefined;
    });

    const producer = new Kafka({
      clientId: "strict",
      brokers: [`127.0.0.1:${leaderPort}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).producer();
    await producer.connect();
    const failure = await producer
      .send({ topic: "strict", acks: -1, messages: [{ value: "refused" }] })
      .catch((error: { type?: string }) => error);
    await producer.disconnect();
    // KafkaJS reports the broker's error as the cause of its "retries exceeded" error.
    const reported = (failure as { cause?: { type?: string }; type?: string }).cause ?? failure;
    expect(reported).toMatchObject({ type: "NOT_ENOUGH_REPLICAS" });
    expect(await replicaRecords(cluster.node(partition!.leader).dataDir, "strict", 0)).toEqual([]);
    await cluster.startNode(victim);
  });

  it("never reports an acks=all produce as a success when two of three nodes are down", async () => {
    const kafka = kafkaFor(cluster, "majority");
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .createTopics({ topics: [{ topic: "majority", numPartitions: 1, replicationFactor: 3 }] })
      .catch((error: { errors?: unknown[] }) => {
        throw new Error(`creating majority: ${JSON.stringify(error.errors)}`);
      });
    await admin.disconnect();
    const [partition] = (await eventually("majority created", () =>
      partitionsOf(cluster.nodes[0]!.port, "majority"),
    ))!;
    const others = partition!.replicas.filter((id) => id !== partition!.leader);
    await Promise.all(others.map((id) => cluster.killNode(id)));

    const producer = new Kafka({
      clientId: "majority",
      brokers: [`127.0.0.1:${cluster.node(partition!.leader).port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).producer();
    await producer.connect();
    const outcome = await producer
      .send({ topic: "majority", acks: -1, timeout: 3_000, messages: [{ value: "unreplicated" }] })
      .then(
        () => "acknowledged",
        (error: { type?: string; name?: string; cause?: { type?: string; name?: string } }) =>
          error.cause?.type ?? error.cause?.name ?? error.type ?? error.name,
      );
    await producer.disconnect().catch(() => undefined);
    expect(outcome).not.toBe("acknowledged");
    expect([
      "REQUEST_TIMED_OUT",
      "NOT_ENOUGH_REPLICAS",
      "KafkaJSRequestTimeoutError",
      "NOT_LEADER_OR_FOLLOWER",
    ]).toContain(outcome);
    for (const id of others) await cluster.startNode(id);
  });
});
