/**
 * The cluster cases: three `chronik start` processes (LocalCluster from the
 * conformance support), all voters of one metadata quorum. Topic creation
 * and Metadata are timed one request at a time against the controller and
 * against a node that is not it; produce with acks=all goes to the leader of
 * a partition replicated three times. Failover is in failover.ts.
 */
import type { LocalCluster } from "../conformance/support/cluster-process.ts";
import { contextFor, encodeRequest } from "../impl/protocol/api.ts";
import { metadataApi } from "../impl/protocol/apis/metadata.ts";
import { produceApi } from "../impl/protocol/apis/produce.ts";
import { errorName } from "../impl/protocol/error-codes.ts";
import { zeroUuid } from "../impl/protocol/schema.ts";
import { PipelinedConnection } from "./kafka-client.ts";
import { type LatencySummary, latencyHistogram, recordMilliseconds, summarise } from "./latency.ts";
import { processCpuSeconds } from "./process-cpu.ts";
import {
  type BrokerTarget,
  createTopic,
  createTopicsBody,
  createTopicsError,
  describeCase,
  type ProduceCase,
  type ProduceResult,
  produceBody,
  produceError,
  produceVersion,
  runProduceCase,
  sendCreateTopics,
  type TopicShape,
} from "./produce.ts";
import type { Progress } from "./progress.ts";

export const clusterSize = 3;
const metadataVersion = 12;
/** How long the cluster may take to settle (registration, ISR catch-up) before the benchmark gives up. */
export const settleTimeoutMs = 60_000;
const settlePollMs = 50;

export interface PartitionView {
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface ClusterView {
  controllerId: number;
  brokerIds: number[];
  /** The partitions of the topic asked for, by index; empty when it was not asked for or is unknown. */
  partitions: PartitionView[];
  /** The topic's error, if it has one (UNKNOWN_TOPIC_OR_PARTITION while it is still being created). */
  topicError: string | null;
}

export function metadataBody(topic: string | null): Buffer {
  return encodeRequest(metadataApi, metadataVersion, {
    topics: topic === null ? [] : [{ topicId: zeroUuid, name: topic }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  }).toBuffer();
}

export async function askMetadata(connection: PipelinedConnection, body: Buffer): Promise<ClusterView> {
  const reader = await connection.send(metadataApi, metadataVersion, body);
  const response = metadataApi.response.read(reader, contextFor(metadataApi, metadataVersion), false);
  const topic = response.topics[0];
  return {
    controllerId: response.controllerId,
    brokerIds: response.brokers.map((broker) => broker.nodeId).sort((left, right) => left - right),
    partitions:
      topic === undefined || topic.errorCode !== 0
        ? []
        : [...topic.partitions]
            .sort((left, right) => left.partitionIndex - right.partitionIndex)
            .map((partition) => ({
              leader: partition.leaderId,
              leaderEpoch: partition.leaderEpoch,
              replicas: partition.replicaNodes,
              isr: partition.isrNodes,
            })),
    topicError: topic === undefined || topic.errorCode === 0 ? null : errorName(topic.errorCode),
  };
}

/** One Metadata request on a connection of its own. */
export async function clusterView(port: number, topic: string | null): Promise<ClusterView> {
  const connection = await PipelinedConnection.connect("127.0.0.1", port);
  try {
    return await askMetadata(connection, metadataBody(topic));
  } finally {
    connection.close();
  }
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Polls until `attempt` gives a value; its last error or refusal is in the timeout's message. */
export async function waitFor<T>(
  what: string,
  attempt: () => Promise<T | string>,
  timeoutMs = settleTimeoutMs,
): Promise<T> {
  const deadlineMs = performance.now() + timeoutMs;
  let last = "no attempt finished";
  while (performance.now() < deadlineMs) {
    try {
      const result = await attempt();
      if (typeof result !== "string") return result;
      last = result;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(settlePollMs);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s (last: ${last})`);
}

/** The controller as `port` reports it, once every node is registered there. */
export async function settledController(cluster: LocalCluster, port: number): Promise<number> {
  return waitFor("every node registered and a controller known", async () => {
    const view = await clusterView(port, null);
    const up = cluster.up.map((node) => node.nodeId);
    if (view.controllerId < 0) return "no controller yet";
    if (!up.every((nodeId) => view.brokerIds.includes(nodeId))) {
      return `brokers ${view.brokerIds.join(",")} of ${up.join(",")}`;
    }
    return view.controllerId;
  });
}

/** Waits until `topic`'s partition 0 is led by `leader` with every replica in sync, as `port` reports it. */
export async function waitForFullIsr(port: number, topic: string, leader: number): Promise<PartitionView> {
  return waitFor(`${topic} led by ${leader} with all replicas in sync`, async () => {
    const partition = (await clusterView(port, topic)).partitions[0];
    if (partition === undefined) return "not created yet";
    if (partition.leader !== leader || partition.isr.length !== partition.replicas.length) {
      return `leader ${partition.leader}, isr ${partition.isr.join(",")} of ${partition.replicas.join(",")}`;
    }
    return partition;
  });
}

/** One partition whose replicas are `leader` first, then the other nodes. */
export function ledBy(cluster: LocalCluster, leader: number): TopicShape {
  const others = cluster.nodes.map((node) => node.nodeId).filter((nodeId) => nodeId !== leader);
  return {
    numPartitions: -1,
    replicationFactor: -1,
    assignments: [{ partitionIndex: 0, brokerIds: [leader, ...others] }],
  };
}

export function otherNode(cluster: LocalCluster, than: number): number {
  const other = cluster.up.find((node) => node.nodeId !== than);
  if (other === undefined) throw new Error(`no running node other than ${than}`);
  return other.nodeId;
}

/**
 * Until the leader accepts an acks=all produce of one record: the metadata
 * names it as soon as it applied the topic, but it answers
 * NOT_LEADER_OR_FOLLOWER until it has opened the replica and taken the role,
 * as a Kafka broker does. A client retries that; the measured case must not
 * count it.
 */
export async function waitUntilLeading(port: number, topic: string): Promise<void> {
  const body = produceBody(topic, { messageBytes: 1, acks: -1, recordsPerRequest: 1 });
  await waitFor(`${topic} accepting produce at its leader`, async () => {
    const connection = await PipelinedConnection.connect("127.0.0.1", port);
    try {
      const error = produceError(await connection.send(produceApi, produceVersion, body));
      return error === null ? true : error;
    } finally {
      connection.close();
    }
  });
}

export interface RequestLatencyResult {
  /** What was asked, of which node: the row's name. */
  label: string;
  nodeId: number;
  controller: boolean;
  latency: LatencySummary;
  /** The first error: then the figures cover only the requests before it. */
  failure: string | null;
  /** CPU every node of the cluster spent during the row, divided by the requests answered. */
  clusterCpuMsPerRequest?: number;
}

/**
 * `count` CreateTopics requests, each for one new topic of 3 partitions and
 * replication factor 3, one at a time on one connection: back to back
 * (`gapMs` 0), or each sent `gapMs` after the answer to the one before, so
 * that it finds the work the previous creation started on every node done.
 * The bodies are encoded before the clock starts, so only the exchange is
 * timed; the CPU all nodes spent during the row is reported per creation.
 */
export async function measureTopicCreation(
  cluster: LocalCluster,
  request: { nodeId: number; controllerId: number; count: number; gapMs: number; namePrefix: string },
  progress: Progress,
): Promise<RequestLatencyResult> {
  const { nodeId, controllerId, count, gapMs, namePrefix } = request;
  const shape: TopicShape = { numPartitions: 3, replicationFactor: clusterSize, assignments: [] };
  const bodies = Array.from({ length: count }, (_, index) =>
    createTopicsBody(`${namePrefix}-${index}`, shape),
  );
  const target = nodeId === controllerId ? "the controller" : "a non-controller (forwarded)";
  const pacing = gapMs === 0 ? "back to back" : `${gapMs} ms apart`;
  const label = `CreateTopics (1 topic, 3 partitions, RF 3) to ${target}, ${pacing}`;
  const histogram = latencyHistogram();
  const pids = cluster.up.map((node) => node.process!.child.pid!);
  const clusterCpuSeconds = () => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const connection = await PipelinedConnection.connect("127.0.0.1", cluster.node(nodeId).port);
  const cpuBefore = clusterCpuSeconds();
  let failure: string | null = null;
  try {
    for (const [index, body] of bodies.entries()) {
      if (gapMs > 0) await sleep(gapMs);
      const sentMs = performance.now();
      const reader = await sendCreateTopics(connection, body);
      const answeredMs = performance.now();
      failure = createTopicsError(reader);
      if (failure !== null) break;
      recordMilliseconds(histogram, answeredMs - sentMs);
      progress.update(`cluster: ${label}: ${index + 1} of ${count}`);
    }
  } catch (error) {
    failure = (error as Error).message;
  } finally {
    connection.close();
  }
  const created = Math.max(1, histogram.totalCount);
  return {
    label,
    nodeId,
    controller: nodeId === controllerId,
    latency: summarise(histogram),
    failure,
    clusterCpuMsPerRequest: ((clusterCpuSeconds() - cpuBefore) * 1000) / created,
  };
}

/** Metadata for one topic, one request at a time on one connection, for `durationMs`. */
export async function measureMetadata(
  port: number,
  nodeId: number,
  controllerId: number,
  topic: string,
  durationMs: number,
  progress: Progress,
): Promise<RequestLatencyResult> {
  const label = `Metadata (one topic) to ${nodeId === controllerId ? "the controller" : "a non-controller"}`;
  const body = metadataBody(topic);
  const histogram = latencyHistogram();
  const connection = await PipelinedConnection.connect("127.0.0.1", port);
  let failure: string | null = null;
  try {
    const endMs = performance.now() + durationMs;
    while (performance.now() < endMs) {
      const sentMs = performance.now();
      const view = await askMetadata(connection, body);
      const answeredMs = performance.now();
      if (view.topicError !== null) {
        failure = `Metadata ${topic}: ${view.topicError}`;
        break;
      }
      recordMilliseconds(histogram, answeredMs - sentMs);
      progress.update(`cluster: ${label}: ${histogram.totalCount} requests`);
    }
  } catch (error) {
    failure = (error as Error).message;
  } finally {
    connection.close();
  }
  return { label, nodeId, controller: nodeId === controllerId, latency: summarise(histogram), failure };
}

export interface ClusterProduceResult extends ProduceResult {
  leaderId: number;
  leaderIsController: boolean;
}

/**
 * One produce case on a topic of its own with one partition replicated on
 * all three nodes, led by a node that is not the controller and with every
 * replica in the ISR before the case starts, so acks=all waits for both
 * followers.
 */
export async function runClusterProduceCase(
  cluster: LocalCluster,
  controllerId: number,
  topic: string,
  testCase: ProduceCase,
  timing: { warmupMs: number; measureMs: number },
  progress: Progress,
): Promise<ClusterProduceResult> {
  const leaderId = otherNode(cluster, controllerId);
  const leader = cluster.node(leaderId);
  progress.update(`cluster: produce ${describeCase(testCase)}: creating ${topic}`, true);
  await createTopic(
    { host: "127.0.0.1", port: cluster.node(controllerId).port },
    topic,
    ledBy(cluster, leaderId),
  );
  await waitForFullIsr(leader.port, topic, leaderId);
  await waitUntilLeading(leader.port, topic);
  const target: BrokerTarget = {
    host: "127.0.0.1",
    port: leader.port,
    pid: leader.process!.child.pid!,
    followerPids: cluster.up
      .filter((node) => node.nodeId !== leaderId)
      .map((node) => node.process!.child.pid!),
  };
  const result = await runProduceCase(target, topic, testCase, timing, progress);
  return { ...result, leaderId, leaderIsController: leaderId === controllerId };
}
