import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultBrokerConfig } from "../broker/config.ts";
import { MetadataQuorum } from "../broker/metadata-quorum.ts";
import type { RaftTransport } from "../cluster/raft/raft-transport.ts";
import { silentLogger } from "../log.ts";
import { planBrokerRegistration } from "../metadata/broker-registrations.ts";
import { Controller } from "../metadata/controller.ts";
import { planCreateTopic } from "../metadata/topic-commands.ts";
import { SyncScheduler } from "../storage/sync-scheduler.ts";
import { type ControlPlane, startControlPlane } from "./control-plane.ts";

let dataDir: string;
let sync: SyncScheduler;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "chronik-control-plane-"));
  sync = new SyncScheduler("always");
});
afterEach(async () => {
  await sync.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A sole voter has no one to send to. */
const nobody: RaftTransport = {
  vote: () => Promise.reject(new Error("no peers")),
  beginQuorumEpoch: () => Promise.reject(new Error("no peers")),
  endQuorumEpoch: () => Promise.reject(new Error("no peers")),
  fetch: () => Promise.reject(new Error("no peers")),
};

/** Node 1 alone: its quorum, controller and control plane, registered (fenced, as every node registers). */
async function startNode(): Promise<{
  quorum: MetadataQuorum;
  controller: Controller;
  controlPlane: ControlPlane;
}> {
  const logger = silentLogger();
  const quorum = await MetadataQuorum.open({
    dataDir,
    nodeId: 1,
    initialVoters: [1],
    transport: nobody,
    sync,
    logger,
    raftSettings: { electionTimeoutMs: 50, electionJitterMs: 50, tickIntervalMs: 20 },
    onFatal: (error) => {
      throw error;
    },
  });
  // A sole voter elects itself after one election timeout.
  await quorum.whenLeaderKnown();
  await quorum.whenWritable();
  const controller = new Controller(quorum.image, quorum, logger);
  const controlPlane = startControlPlane({ config: defaultBrokerConfig, quorum, controller, logger });
  await controller.decide((image) => {
    const endpoint = { name: "PLAINTEXT", host: "127.0.0.1", port: 9092, securityProtocol: 0 };
    const { record } = planBrokerRegistration(
      image,
      { brokerId: 1, incarnationId: "1".repeat(32), endpoints: [endpoint], rack: null },
      Date.now(),
    );
    return { records: [record], result: null };
  });
  return { quorum, controller, controlPlane };
}

async function stopNode(node: { quorum: MetadataQuorum; controlPlane: ControlPlane }): Promise<void> {
  node.controlPlane.stop();
  await node.quorum.close();
}

describe("the control plane on a one-node metadata quorum", () => {
  it("unfences the node once its registration applies, creates partitions through the machines, and moves them off a restarted incarnation", async () => {
    const first = await startNode();
    await first.quorum.whenImage((image) => image.brokers.get(1)?.fenced === false);
    const defaults = { numPartitions: 2, replicationFactor: 1, checkConfig: () => null };
    const topicId = await first.controlPlane.lifecycles.decide((decision) => {
      const topic = {
        name: "orders",
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [],
        configs: [],
      };
      const plan = planCreateTopic(decision.image, topic, defaults);
      if ("errorCode" in plan) throw new Error(plan.errorMessage);
      const created = decision.createPartitions(plan, plan.assignments, 0, { validateOnly: false });
      if ("errorCode" in created) throw new Error(created.errorMessage);
      return { records: [...plan.records, ...created.records], result: plan.topicId };
    });
    const partitions = () => [...first.quorum.image.topicsById.get(topicId)!.partitions.values()];
    expect(partitions().map(({ leader, leaderEpoch, isr }) => ({ leader, leaderEpoch, isr }))).toEqual([
      { leader: 1, leaderEpoch: 0, isr: [1] },
      { leader: 1, leaderEpoch: 0, isr: [1] },
    ]);
    expect(first.controlPlane.lifecycles.stateOf(topicId, 0)?.value).toBe("Online");
    await stopNode(first);

    // A new incarnation registers fenced: its old leaderships are taken away, then given back once it is unfenced.
    const second = await startNode();
    await second.quorum.whenImage((image) => image.brokers.get(1)?.fenced === false);
    await second.quorum.whenImage((image) =>
      [...image.topicsById.get(topicId)!.partitions.values()].every((partition) => partition.leader === 1),
    );
    const restarted = [...second.quorum.image.topicsById.get(topicId)!.partitions.values()];
    expect(restarted.map(({ leader, leaderEpoch, isr }) => ({ leader, leaderEpoch, isr }))).toEqual([
      { leader: 1, leaderEpoch: 2, isr: [1] },
      { leader: 1, leaderEpoch: 2, isr: [1] },
    ]);
    await stopNode(second);
  });
});
