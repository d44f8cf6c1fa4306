/**
 * A three-node cluster of real processes on loopback, seen over the wire:
 * one controller that every node names, topic changes sent to any node and
 * answered once applied there, the same metadata from every node, a new
 * controller after the old one is killed, and voters added and removed.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopicsApi } from "../../impl/protocol/apis/create-topics.ts";
import { describeQuorumApi } from "../../impl/protocol/apis/describe-quorum.ts";
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { chronikBin } from "../support/broker-process.ts";
import { LocalCluster } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";
import { partitionViewsOf } from "../support/partition-views.ts";
import { exchange } from "../support/raw-connection.ts";

function describeQuorum(port: number) {
  return exchange(port, describeQuorumApi, 2, {
    topics: [{ topicName: "__chronik_metadata", partitions: [{ partitionIndex: 0 }] }],
  });
}

/** The quorum as a node reports it (forwarded to the controller when it is not the controller). */
async function quorumSeenFrom(port: number) {
  const response = await describeQuorum(port);
  const partition = response.topics[0]!.partitions[0]!;
  expect(response.errorCode).toBe(ErrorCode.NONE);
  expect(partition.errorCode).toBe(ErrorCode.NONE);
  return {
    leaderId: partition.leaderId,
    epoch: partition.leaderEpoch,
    voters: partition.currentVoters.map((voter) => voter.replicaId).sort(),
    observers: partition.observers.map((observer) => observer.replicaId).sort(),
  };
}

/** What a client learns from one node: brokers, controller, and each topic's partitions. */
async function metadataFrom(port: number, topics: string[] | null = null) {
  const response = await exchange(port, metadataApi, 12, {
    topics:
      topics === null ? null : topics.map((name) => ({ topicId: "00000000000000000000000000000000", name })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  return {
    controllerId: response.controllerId,
    brokers: response.brokers.map((broker) => `${broker.nodeId}@${broker.host}:${broker.port}`).sort(),
    topics: response.topics
      .map((topic) => ({
        name: topic.name,
        errorCode: topic.errorCode,
        partitions: partitionViewsOf(topic.partitions),
      }))
      .sort((left, right) => (left.name ?? "").localeCompare(right.name ?? "")),
  };
}

function createTopic(port: number, name: string, numPartitions: number, replicationFactor: number) {
  return exchange(port, createTopicsApi, 7, {
    topics: [{ name, numPartitions, replicationFactor, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [chronikBin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("a three-node cluster", () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await LocalCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("has one controller that every node names, all three nodes as voters and as brokers", async () => {
    const views = await Promise.all(cluster.nodes.map((node) => quorumSeenFrom(node.port)));
    const leaderId = views[0]!.leaderId;
    expect([1, 2, 3]).toContain(leaderId);
    for (const view of views) expect(view).toMatchObject({ leaderId, voters: [1, 2, 3], observers: [] });

    const expectedBrokers = cluster.nodes.map((node) => `${node.nodeId}@127.0.0.1:${node.port}`).sort();
    for (const node of cluster.nodes) {
      const metadata = await eventually("every registration applied", async () => {
        const seen = await metadataFrom(node.port);
        return seen.brokers.length === 3 ? seen : undefined;
      });
      expect(metadata).toMatchObject({ controllerId: leaderId, brokers: expectedBrokers });
    }
  });

  it("creates a topic sent to a node that is not the controller; that node answers with it at once, and every node agrees", async () => {
    const { leaderId } = await quorumSeenFrom(cluster.nodes[0]!.port);
    const follower = cluster.nodes.find((node) => node.nodeId !== leaderId)!;
    const created = await createTopic(follower.port, "orders", 3, 3);
    expect(created.topics[0]).toMatchObject({ name: "orders", errorCode: ErrorCode.NONE, numPartitions: 3 });

    // Answered only once applied on the node that was asked.
    const here = await metadataFrom(follower.port, ["orders"]);
    expect(here.topics[0]!.partitions).toEqual([
      { partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2, 3], isr: [1, 2, 3] },
      { partition: 1, leader: 2, leaderEpoch: 0, replicas: [2, 3, 1], isr: [2, 3, 1] },
      { partition: 2, leader: 3, leaderEpoch: 0, replicas: [3, 1, 2], isr: [3, 1, 2] },
    ]);
    for (const node of cluster.nodes) {
      await eventually(`node ${node.nodeId} applies the topic`, async () => {
        const there = await metadataFrom(node.port, ["orders"]);
        return there.topics[0]!.errorCode === ErrorCode.NONE ? there : undefined;
      }).then((there) => expect(there).toEqual(here));
    }

    const again = await createTopic(follower.port, "orders", 3, 3);
    expect(again.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
  });

  it("elects a new controller when the controller is killed, keeps creating topics, and the restarted node catches up", async () => {
    const before = await quorumSeenFrom(cluster.nodes[0]!.port);
    await cluster.killNode(before.leaderId);
    const survivors = cluster.up;
    const after = await eventually("a new controller", async () => {
      const view = await quorumSeenFrom(survivors[0]!.port);
      return view.leaderId !== before.leaderId && view.leaderId !== -1 ? view : undefined;
    });
    expect(after.epoch).toBeGreaterThan(before.epoch);

    const created = await createTopic(survivors[1]!.port, "after-failover", 1, 2);
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    const seen = await Promise.all(
      survivors.map((node) =>
        eventually(`node ${node.nodeId} applies the topic`, async () => {
          const metadata = await metadataFrom(node.port, ["orders", "after-failover"]);
          return metadata.topics.every((topic) => topic.errorCode === ErrorCode.NONE) ? metadata : undefined;
        }),
      ),
    );
    expect(seen[1]!.topics).toEqual(seen[0]!.topics);
    expect(seen[0]!.controllerId).toBe(after.leaderId);

    // The restarted node is a new incarnation: it registers fenced, and the controller takes it out of
    // the leaderships and ISRs its old incarnation held before unfencing it. So it must agree with what
    // a survivor reports now, not with the view from before it came back.
    await cluster.startNode(before.leaderId);
    const restarted = await eventually("the restarted node catches up", async () => {
      const topics = ["orders", "after-failover"];
      const [metadata, survivor] = await Promise.all([
        metadataFrom(cluster.node(before.leaderId).port, topics),
        metadataFrom(survivors[0]!.port, topics),
      ]);
      const applied = metadata.topics.every((topic) => topic.errorCode === ErrorCode.NONE);
      return applied && JSON.stringify(metadata.topics) === JSON.stringify(survivor.topics)
        ? metadata
        : undefined;
    });
    expect(restarted.topics.map((topic) => topic.name)).toEqual(["after-failover", "orders"]);
    expect(restarted.brokers).toContain(`${before.leaderId}@127.0.0.1:${cluster.node(before.leaderId).port}`);
  });

  it("adds a fourth node as a voter and removes one, and keeps serving", async () => {
    await cluster.addNode(4);
    const bootstrap = `127.0.0.1:${cluster.node(4).port}`;
    await eventually("node 4 fetching as an observer", async () => {
      const view = await quorumSeenFrom(cluster.nodes[0]!.port);
      return view.observers.includes(4) ? view : undefined;
    });

    const added = await eventually("node 4 added (once caught up)", async () => {
      const result = await runCli(["cluster", "add-voter", "--bootstrap", bootstrap, "--node-id", "4"]);
      return result.code === 0 ? result : undefined;
    });
    expect(added.stdout).toContain("node 4 added as a voter");
    expect((await quorumSeenFrom(cluster.nodes[0]!.port)).voters).toEqual([1, 2, 3, 4]);

    const removed = await runCli(["cluster", "remove-voter", "--bootstrap", bootstrap, "--node-id", "2"]);
    expect(removed.stderr).toBe("");
    expect(removed.stdout).toContain("node 2 removed from the voters");
    // Node 2 keeps fetching the metadata log, now as an observer.
    await eventually("the removal committed, node 2 an observer", async () => {
      const seen = await quorumSeenFrom(cluster.node(4).port);
      return seen.voters.join() === "1,3,4" && seen.observers.includes(2) ? seen : undefined;
    });

    const created = await createTopic(cluster.node(2).port, "after-membership", 1, 1);
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);

    const status = await runCli(["cluster", "status", "--bootstrap", bootstrap]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/leader \d, epoch \d+, high watermark \d+/);
    expect(status.stdout).toMatch(/^2\s+observer\s+127\.0\.0\.1:\d+/m);
    expect(status.stdout).toMatch(/^4\s+(voter|leader)\s+127\.0\.0\.1:\d+/m);
  });
});
