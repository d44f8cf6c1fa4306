/**
 * Controlled shutdown on a three-node cluster of real processes: a node asked
 * to stop (SIGTERM) first has the controller move its leaderships to other
 * ISR replicas and take it out of every ISR, and only then stops, so no
 * partition waits out its session without a leader. Restarted, it registers
 * again and rejoins. The last node of a cluster that lost its quorum cannot
 * be let go by any controller and stops anyway.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopicsApi } from "../../impl/protocol/apis/create-topics.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { LocalCluster } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";
import { partitionsOf } from "../support/partition-views.ts";
import { exchange } from "../support/raw-connection.ts";

const messages = (lines: Array<Record<string, unknown>>) => lines.map((line) => String(line.msg));

describe("controlled shutdown on a three-node cluster", () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await LocalCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("moves a stopping node's leaderships and ISR places away before it exits, and takes it back on restart", async () => {
    const [first, second] = cluster.nodes;
    const created = await exchange(first!.port, createTopicsApi, 7, {
      topics: [
        {
          name: "orders",
          numPartitions: 3,
          replicationFactor: 3,
          assignments: [],
          configs: [],
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    expect(created.topics[0]?.errorCode).toBe(ErrorCode.NONE);
    const before = await eventually("every partition has a full ISR", async () => {
      const partitions = await partitionsOf(first!.port, "orders");
      if (partitions === undefined || partitions.some((partition) => partition.isr.length !== 3))
        throw new Error("ISR not full yet");
      return partitions;
    });
    const stopping = before.find((partition) => partition.leader !== first!.nodeId)!.leader;
    const led = before.filter((partition) => partition.leader === stopping).map((p) => p.partition);
    const stoppingProcess = cluster.nodes.find((node) => node.nodeId === stopping)!.process!;

    expect(await cluster.stopNode(stopping)).toBe(0);

    const stoppedLog = messages(stoppingProcess.logLines);
    expect(stoppedLog).toContain("controlled shutdown granted");
    expect(stoppedLog.indexOf("controlled shutdown granted")).toBeLessThan(
      stoppedLog.indexOf("broker stopped"),
    );
    const observer = stopping === first!.nodeId ? second! : first!;
    // Right after the exit, without waiting out any session: new leaders, one epoch on, and no ISR holds the node.
    const after = (await partitionsOf(observer.port, "orders"))!;
    for (const partition of after) {
      expect(partition.isr).not.toContain(stopping);
      expect(partition.leader).not.toBe(stopping);
      expect(partition.leader).toBeGreaterThan(0);
      const was = before[partition.partition]!;
      expect(partition.leaderEpoch).toBe(
        led.includes(partition.partition) ? was.leaderEpoch + 1 : was.leaderEpoch,
      );
    }

    await cluster.startNode(stopping);
    await eventually("the restarted node is back in every ISR", async () => {
      const partitions = await partitionsOf(observer.port, "orders");
      if (partitions === undefined || partitions.some((partition) => !partition.isr.includes(stopping)))
        throw new Error("not back yet");
      return partitions;
    });
  });

  it("lets the last node of a cluster without a quorum stop, saying no controller could move anything", async () => {
    const [first, second, third] = cluster.nodes;
    await cluster.stopNode(first!.nodeId);
    await cluster.stopNode(second!.nodeId);
    const lastProcess = third!.process!;
    expect(await cluster.stopNode(third!.nodeId)).toBe(0);
    expect(messages(lastProcess.logLines)).toContain(
      "controlled shutdown abandoned: no controller answered; stopping with this node's leaderships in place",
    );
  });
});
