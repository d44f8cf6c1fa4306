/**
 * Failover: a client produces one record at a time with acks=all to the
 * leader of a partition replicated on all three nodes; the leader is killed
 * with SIGKILL; the figure is the time from the kill to the first produce
 * acknowledged by another node. The client behaves as a Kafka producer
 * does: on a connection error or a partition error it asks any node it can
 * reach for fresh metadata and sends to the leader named there at once; it
 * pauses only when that is the node that just failed (or no leader is
 * named), and then for retryPauseMs, so no more than about 20 ms pass
 * between attempts. The nodes' own log lines place the controller's steps
 * (an election, the fence, the new leader) on the same clock.
 */
import type { LocalCluster } from "../conformance/support/cluster-process.ts";
import { decodeResponse } from "../impl/protocol/api.ts";
import { produceApi } from "../impl/protocol/apis/produce.ts";
import { errorName } from "../impl/protocol/error-codes.ts";
import type { Reader } from "../impl/protocol/reader.ts";
import {
  askMetadata,
  clusterView,
  ledBy,
  metadataBody,
  otherNode,
  sleep,
  waitFor,
  waitForFullIsr,
  waitUntilLeading,
} from "./cluster.ts";
import { PipelinedConnection } from "./kafka-client.ts";
import { createTopic, produceBody, produceVersion } from "./produce.ts";
import type { Progress } from "./progress.ts";

/** The pause before asking again when metadata still names the node that failed, or no leader. */
const retryPauseMs = 10;
/** How long produce runs before the kill, so the client is in its steady state when the leader dies. */
const steadyBeforeKillMs = 500;
/** Past this without an acknowledged produce the run is reported as failed. */
const failoverTimeoutMs = 60_000;
/** A request without an answer this long counts as failed (the broker's own produce timeout is 30 s). */
const requestTimeoutMs = 35_000;

export type FailoverKind = "leader" | "controller-and-leader";

export interface FailoverResult {
  kind: FailoverKind;
  killedNodeId: number;
  newLeaderId: number | null;
  /** From the kill to the first acks=all produce acknowledged by another node; null when none came. */
  failoverMs: number | null;
  /** From the kill to the first metadata answer naming another leader. */
  leaderKnownMs: number | null;
  /** From the kill to the log lines of the nodes, where they logged them: null when not logged. */
  electedMs: number | null;
  fencedMs: number | null;
  leaderChangedMs: number | null;
  /** Attempts that failed between the kill and the first success, by cause. */
  failedAttempts: Record<string, number>;
  /** From the restart of the killed node until it was back in the partition's ISR. */
  rejoinMs: number | null;
  failure: string | null;
}

function withTimeout<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${milliseconds} ms`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The error code of the only partition of a one-partition produce response. */
function produceErrorCode(reader: Reader): number {
  const response = decodeResponse(produceApi, produceVersion, reader.buffer.subarray(reader.offset));
  return response.responses[0]?.partitionResponses[0]?.errorCode ?? -1;
}

/** The failover producer: one request at a time, metadata from whichever node answers. */
class RetryingProducer {
  private readonly metadataConnections = new Map<number, PipelinedConnection>();
  private leader: { nodeId: number; connection: PipelinedConnection } | null = null;
  private stopped = false;
  /** Node that failed last; metadata naming it again makes the client pause before retrying. */
  private failedNodeId: number | null = null;
  readonly failedAttempts: Record<string, number> = {};
  /** Each acknowledged produce: the node that answered and when (performance.now()). */
  readonly acknowledged: Array<{ nodeId: number; answeredMs: number }> = [];
  /** Each metadata answer's leader and when it arrived. */
  readonly leadersSeen: Array<{ nodeId: number; answeredMs: number }> = [];
  private readonly body: Buffer;
  private readonly metadataRequest: Buffer;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly cluster: LocalCluster,
    topic: string,
    private readonly onAcknowledged: (nodeId: number) => void,
  ) {
    this.body = produceBody(topic, { messageBytes: 100, acks: -1, recordsPerRequest: 1 });
    this.metadataRequest = metadataBody(topic);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.leader?.connection.close();
    for (const connection of this.metadataConnections.values()) connection.close();
  }

  private failed(cause: string, nodeId: number): void {
    this.failedAttempts[cause] = (this.failedAttempts[cause] ?? 0) + 1;
    this.failedNodeId = nodeId;
    this.leader?.connection.close();
    this.leader = null;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.leader === null) {
        const leaderId = await this.refresh();
        if (leaderId === null || leaderId < 0 || leaderId === this.failedNodeId) {
          await sleep(retryPauseMs);
          // A node named again after failing gets one more try after the pause: it may have become leader.
          if (leaderId !== null && leaderId >= 0) this.failedNodeId = null;
          continue;
        }
        try {
          const port = this.cluster.node(leaderId).port;
          this.leader = {
            nodeId: leaderId,
            connection: await PipelinedConnection.connect("127.0.0.1", port),
          };
        } catch {
          this.failed("connect refused", leaderId);
          await sleep(retryPauseMs);
          continue;
        }
      }
      const { nodeId, connection } = this.leader;
      try {
        const reader = await withTimeout(
          connection.send(produceApi, produceVersion, this.body),
          requestTimeoutMs,
          "produce",
        );
        const answeredMs = performance.now();
        const code = produceErrorCode(reader);
        if (code === 0) {
          this.acknowledged.push({ nodeId, answeredMs });
          this.failedNodeId = null;
          this.onAcknowledged(nodeId);
        } else {
          this.failed(errorName(code), nodeId);
        }
      } catch {
        this.failed("connection lost", nodeId);
      }
    }
  }

  /** The leader named by the first node that answers, trying the node that failed last, last. */
  private async refresh(): Promise<number | null> {
    const order = this.cluster.nodes
      .map((node) => node.nodeId)
      .sort((left, right) => Number(left === this.failedNodeId) - Number(right === this.failedNodeId));
    for (const nodeId of order) {
      try {
        let connection = this.metadataConnections.get(nodeId);
        if (connection === undefined) {
          connection = await PipelinedConnection.connect("127.0.0.1", this.cluster.node(nodeId).port);
          this.metadataConnections.set(nodeId, connection);
        }
        const view = await withTimeout(askMetadata(connection, this.metadataRequest), 5_000, "metadata");
        const leader = view.partitions[0]?.leader ?? -1;
        this.leadersSeen.push({ nodeId: leader, answeredMs: performance.now() });
        return leader;
      } catch {
        this.metadataConnections.get(nodeId)?.close();
        this.metadataConnections.delete(nodeId);
      }
    }
    return null;
  }
}

/** When a line with `msg` matching and `match` true was first logged by any node, in epoch ms. */
function firstLogged(
  cluster: LocalCluster,
  message: RegExp,
  match: (line: Record<string, unknown>) => boolean,
  afterEpochMs: number,
): number | null {
  let first: number | null = null;
  for (const node of cluster.nodes) {
    for (const line of cluster.logLines(node.nodeId)) {
      const time = Number(line.time);
      if (!message.test(String(line.msg)) || !(time >= afterEpochMs) || !match(line)) continue;
      if (first === null || time < first) first = time;
    }
  }
  return first;
}

/**
 * One run: a fresh topic led by `leaderId` (the controller or not, as
 * `kind` says), produce until steady, kill the leader, wait for the first
 * acknowledged produce elsewhere, restart the node and wait until it is back
 * in the ISR, so the next run starts from a whole cluster.
 */
export async function runFailover(
  cluster: LocalCluster,
  kind: FailoverKind,
  leaderId: number,
  controllerId: number,
  topic: string,
  progress: Progress,
): Promise<FailoverResult> {
  const result: FailoverResult = {
    kind,
    killedNodeId: leaderId,
    newLeaderId: null,
    failoverMs: null,
    leaderKnownMs: null,
    electedMs: null,
    fencedMs: null,
    leaderChangedMs: null,
    failedAttempts: {},
    rejoinMs: null,
    failure: null,
  };
  progress.update(`cluster: failover (${kind}, node ${leaderId}): creating ${topic}`, true);
  await createTopic(
    { host: "127.0.0.1", port: cluster.node(controllerId).port },
    topic,
    ledBy(cluster, leaderId),
  );
  await waitForFullIsr(cluster.node(leaderId).port, topic, leaderId);
  await waitUntilLeading(cluster.node(leaderId).port, topic);

  let killMs = Number.POSITIVE_INFINITY;
  let acknowledgedAfterKill!: () => void;
  const firstAfterKill = new Promise<void>((resolve) => {
    acknowledgedAfterKill = resolve;
  });
  const producer = new RetryingProducer(cluster, topic, (nodeId) => {
    if (nodeId !== leaderId && performance.now() > killMs) acknowledgedAfterKill();
  });
  producer.start();
  try {
    await sleep(steadyBeforeKillMs);
    if (producer.acknowledged.length === 0) {
      result.failure = `no produce acknowledged in the ${steadyBeforeKillMs} ms before the kill`;
      return result;
    }
    progress.update(`cluster: failover (${kind}): kill -9 node ${leaderId}`, true);
    const killEpochMs = Date.now();
    killMs = performance.now();
    await cluster.killNode(leaderId);
    const timedOut = await Promise.race([
      firstAfterKill.then(() => false),
      sleep(failoverTimeoutMs).then(() => true),
    ]);
    const success = producer.acknowledged.find(
      (acknowledged) => acknowledged.answeredMs > killMs && acknowledged.nodeId !== leaderId,
    );
    if (timedOut || success === undefined) {
      result.failure = `no acks=all produce acknowledged within ${failoverTimeoutMs / 1000} s of the kill`;
    } else {
      result.failoverMs = success.answeredMs - killMs;
      result.newLeaderId = success.nodeId;
    }
    const known = producer.leadersSeen.find(
      (seen) => seen.answeredMs > killMs && seen.nodeId >= 0 && seen.nodeId !== leaderId,
    );
    result.leaderKnownMs = known === undefined ? null : known.answeredMs - killMs;
    result.failedAttempts = { ...producer.failedAttempts };
    await producer.stop();
    // The nodes write their logs asynchronously: give the lines of the last steps time to arrive.
    await sleep(200);
    const since = (epochMs: number | null) => (epochMs === null ? null : epochMs - killEpochMs);
    if (kind === "controller-and-leader") {
      result.electedMs = since(firstLogged(cluster, /^raft leader elected$/, () => true, killEpochMs));
    }
    result.fencedMs = since(
      firstLogged(cluster, /^node fenced/, (line) => line.brokerId === leaderId, killEpochMs),
    );
    result.leaderChangedMs = since(
      firstLogged(cluster, /^partition leader changed$/, (line) => line.topic === topic, killEpochMs),
    );
  } finally {
    await producer.stop();
  }

  progress.update(`cluster: failover (${kind}): restarting node ${leaderId}`, true);
  const restartMs = performance.now();
  await cluster.startNode(leaderId);
  // Back in the ISR of the partition it led: caught up, and unfenced; the next run needs every node.
  // Asked of a survivor: the restarted node's own image may still be the one from before the kill.
  const survivor = cluster.node(result.newLeaderId ?? otherNode(cluster, leaderId));
  await waitFor(`node ${leaderId} back in the ISR of ${topic}`, async () => {
    const partition = (await clusterView(survivor.port, topic)).partitions[0];
    if (partition === undefined) return "no partition";
    if (partition.isr.length !== partition.replicas.length) return `isr ${partition.isr.join(",")}`;
    return partition;
  });
  result.rejoinMs = performance.now() - restartMs;
  return result;
}
