/**
 * Three RaftNodes over real sockets: each with its metadata log on disk, a
 * Kafka listener on 127.0.0.1 serving the quorum's APIs (Vote,
 * BeginQuorumEpoch, EndQuorumEpoch, a replica's Fetch), and a
 * WireRaftTransport over a peer pool to the other two. Timers are real but
 * short; the test waits on conditions, never on how long anything took.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../log.ts";
import { RaftMetadataLog } from "../../metadata/raft-metadata-log.ts";
import { beginQuorumEpochApi } from "../../protocol/apis/begin-quorum-epoch.ts";
import { endQuorumEpochApi } from "../../protocol/apis/end-quorum-epoch.ts";
import { fetchApi } from "../../protocol/apis/fetch.ts";
import { voteApi } from "../../protocol/apis/vote.ts";
import { defaultDecodeLimits } from "../../protocol/reader.ts";
import { Dispatcher } from "../../server/dispatcher.ts";
import { beginQuorumEpochHandler } from "../../server/handlers/begin-quorum-epoch.ts";
import { endQuorumEpochHandler } from "../../server/handlers/end-quorum-epoch.ts";
import {
  answerMetadataReplicaFetch,
  isMetadataReplicaFetch,
} from "../../server/handlers/metadata-replica-fetch.ts";
import { voteHandler } from "../../server/handlers/vote.ts";
import { KafkaListener } from "../../server/server.ts";
import { SyncScheduler } from "../../storage/sync-scheduler.ts";
import { PeerPool } from "../peer-pool.ts";
import { QuorumStateFile } from "../quorum-state-file.ts";
import { systemRaftClock } from "./clock.ts";
import type { RaftSettings } from "./options.ts";
import { RaftNode } from "./raft-node.ts";
import { WireRaftTransport } from "./wire-transport.ts";

const clusterId = "wire-test-cluster";
const voters = [1, 2, 3];
const settings: Partial<RaftSettings> = {
  electionTimeoutMs: 300,
  electionJitterMs: 300,
  electionBackoffMaxMs: 200,
  fetchTimeoutMs: 600,
  checkQuorumTimeoutMs: 900,
  tickIntervalMs: 50,
  fetchMaxWaitMs: 100,
  fetchBackoffMs: 20,
  fetchBackoffMaxMs: 200,
};
/** How long a condition may take to hold before the test gives up: a guard against hanging, not a timing claim. */
const conditionLimitMs = 60_000;

interface WireNode {
  nodeId: number;
  node: RaftNode;
  log: RaftMetadataLog;
  listener: KafkaListener;
  pool: PeerPool;
  port: number;
  stopped: boolean;
}

let directory: string | null = null;
let running: WireNode[] = [];
const sync = new SyncScheduler("always");

afterEach(async () => {
  for (const wire of running) await stopNode(wire);
  running = [];
  if (directory !== null) await rm(directory, { recursive: true, force: true });
  directory = null;
});
afterAll(() => sync.close());

async function stopNode(wire: WireNode): Promise<void> {
  if (wire.stopped) return;
  wire.stopped = true;
  wire.node.stop("test over");
  await wire.listener.close();
  await wire.pool.close();
  await wire.log.close();
}

/** Node `nodeId`'s listener with the quorum's handlers, answering through `node`. */
function dispatcherFor(nodeId: number, node: RaftNode): Dispatcher {
  const services = { clusterId, config: { nodeId }, quorum: { rpc: node } };
  const dispatcher = new Dispatcher(defaultDecodeLimits, silentLogger());
  dispatcher.register(voteApi, voteHandler(services));
  dispatcher.register(beginQuorumEpochApi, beginQuorumEpochHandler(services));
  dispatcher.register(endQuorumEpochApi, endQuorumEpochHandler(services));
  dispatcher.register(fetchApi, async (request, context) => {
    context.releaseNext();
    if (!isMetadataReplicaFetch(request, context.version))
      throw new Error("only metadata replicas fetch here");
    return answerMetadataReplicaFetch(services, request, context.version, context.connectionClosed);
  });
  return dispatcher;
}

async function startNode(nodeId: number, root: string): Promise<WireNode> {
  const dataDir = path.join(root, `node-${nodeId}`);
  const logger = silentLogger();
  const log = await RaftMetadataLog.open(dataDir, sync, logger);
  const pool = new PeerPool({ clientId: `chronik-node-${nodeId}`, logger, reconnectBackoffMsMax: 200 });
  const node = await RaftNode.start({
    nodeId,
    initialVoters: voters,
    log,
    quorumState: new QuorumStateFile(dataDir),
    transport: new WireRaftTransport({ pool, clusterId, nodeId, requestTimeoutMs: 1_000 }),
    clock: systemRaftClock,
    logger,
    settings,
  });
  const listener = new KafkaListener(
    { host: "127.0.0.1", port: 0, connectionsMax: 16, requestBytesMax: 1 << 20, inFlightRequestsMax: 16 },
    dispatcherFor(nodeId, node),
    logger,
  );
  const port = await listener.listen();
  return { nodeId, node, log, listener, pool, port, stopped: false };
}

async function startCluster(): Promise<WireNode[]> {
  directory = await mkdtemp(path.join(os.tmpdir(), "chronik-raft-wire-"));
  const root = directory;
  for (const nodeId of voters) running.push(await startNode(nodeId, root));
  // Until the pools know the others' ports every message is lost, which Raft takes in its stride.
  for (const wire of running) {
    const peers = running.filter((other) => other !== wire);
    await wire.pool.update(
      peers.map((other) => ({ nodeId: other.nodeId, host: "127.0.0.1", port: other.port })),
    );
  }
  return running;
}

function describeNodes(nodes: readonly WireNode[]): string {
  return nodes
    .map((wire) => {
      const status = wire.node.status();
      return `n${wire.nodeId} ${wire.node.isStopped ? "stopped" : status.role} epoch ${status.epoch} leader ${status.leaderId ?? "-"} hw ${status.highWatermark} end ${status.logEndOffset}`;
    })
    .join("\n");
}

async function waitFor(what: string, nodes: readonly WireNode[], condition: () => boolean): Promise<void> {
  const deadline = Date.now() + conditionLimitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}\n${describeNodes(nodes)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function leaderOf(nodes: readonly WireNode[]): WireNode | undefined {
  const leaders = nodes.filter((wire) => !wire.node.isStopped && wire.node.role() === "leader");
  return leaders.length === 1 ? leaders[0] : undefined;
}

/** Every node holds the leader's whole log and knows it is committed. */
function caughtUp(nodes: readonly WireNode[], leader: WireNode): boolean {
  const end = leader.node.status().logEndOffset;
  return nodes.every((wire) => {
    const status = wire.node.status();
    return status.logEndOffset === end && status.highWatermark === end && status.leaderId === leader.nodeId;
  });
}

/** Each node's log as `epoch:kind[:payload]`, read from disk. */
async function logsOf(nodes: readonly WireNode[]): Promise<string[][]> {
  return Promise.all(
    nodes.map(async (wire) =>
      (await wire.log.read(0, 1_000)).map(
        (entry) =>
          `${entry.epoch}:${entry.kind}${entry.kind === "data" ? `:${new TextDecoder().decode(entry.payload)}` : ""}`,
      ),
    ),
  );
}

const text = (value: string) => new TextEncoder().encode(value);

describe("RaftNodes over the Kafka wire protocol", () => {
  it("elect a leader, commit on all three, and fail over to a new leader that keeps committing", async () => {
    const nodes = await startCluster();
    await waitFor("a leader", nodes, () => leaderOf(nodes) !== undefined);
    const first = leaderOf(nodes)!;
    const firstEpoch = first.node.status().epoch;

    await first.node.append([text("topic a"), text("topic b")]);
    await waitFor("every node to hold and commit the appends", nodes, () => caughtUp(nodes, first));
    const logs = await logsOf(nodes);
    expect(logs[0]).toEqual([
      `${firstEpoch}:leaderChange`,
      `${firstEpoch}:data:topic a`,
      `${firstEpoch}:data:topic b`,
    ]);
    expect(logs[1]).toEqual(logs[0]);
    expect(logs[2]).toEqual(logs[0]);

    // The leader goes away: its node stops, its listener closes.
    await stopNode(first);
    const survivors = nodes.filter((wire) => wire !== first);
    await waitFor("a new leader among the other two", survivors, () => leaderOf(survivors) !== undefined);
    const second = leaderOf(survivors)!;
    const secondEpoch = second.node.status().epoch;
    expect(secondEpoch).toBeGreaterThan(firstEpoch);

    await second.node.append([text("topic c")]);
    await waitFor("both survivors to hold and commit the new append", survivors, () =>
      caughtUp(survivors, second),
    );
    const after = await logsOf(survivors);
    expect(after[0]).toEqual([
      `${firstEpoch}:leaderChange`,
      `${firstEpoch}:data:topic a`,
      `${firstEpoch}:data:topic b`,
      `${secondEpoch}:leaderChange`,
      `${secondEpoch}:data:topic c`,
    ]);
    expect(after[1]).toEqual(after[0]);
  });
});
