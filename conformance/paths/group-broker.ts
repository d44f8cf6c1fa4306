/**
 * The broker the consumer group paths run against: one node, restarted on the
 * same data between phases (or a cluster's nodes, group-cluster.ts), with
 * group limits that are the models' times the phase's scale. A phase whose
 * group writes fail runs with
 * min.insync.replicas 2: on one node every acks=all append to
 * __consumer_offsets is then refused with NOT_ENOUGH_REPLICAS, as Kafka's
 * would be.
 */

import { offsetsPartitionFor, offsetsTopicName } from "../../impl/groups/offsets-topic.ts";
import { createTopicsApi } from "../../impl/protocol/apis/create-topics.ts";
import { findCoordinatorApi } from "../../impl/protocol/apis/find-coordinator.ts";
import { limits } from "../../machines/testing/consumer-group-paths.ts";
import { type BrokerProcess, startBroker } from "../support/broker-process.ts";
import { eventually } from "../support/eventually.ts";
import { exchange } from "../support/raw-connection.ts";
import type { Phase } from "./group-path-selection.ts";
import { commitTopic } from "./group-requests.ts";

/** Few partitions of __consumer_offsets: each restart loads them all before a restored path can start. */
export const offsetsPartitions = 5;
const loadedMessage = "group coordinator loaded the partition's groups";

/** The flags a phase's broker runs with: the models' group limits times the phase's scale. */
export function brokerArgs(
  phase: Pick<Phase, "scale" | "groupMaxSize" | "groupWritesFail">,
  offsetsReplicationFactor = 1,
): string[] {
  const scaled = (modelMs: number) => modelMs * phase.scale;
  return [
    ["--offsets-topic-partitions", offsetsPartitions],
    ["--offsets-topic-replication-factor", offsetsReplicationFactor],
    // Durability is not what the paths check; a clean stop still writes everything out.
    ["--fsync", "never"],
    ["--group-min-session-timeout-ms", scaled(limits.groupMinSessionTimeoutMs)],
    ["--group-max-session-timeout-ms", scaled(limits.groupMaxSessionTimeoutMs)],
    ["--group-initial-rebalance-delay-ms", scaled(limits.groupInitialRebalanceDelayMs)],
    ["--group-max-size", phase.groupMaxSize],
    ["--min-insync-replicas", phase.groupWritesFail ? 2 : 1],
  ].flatMap(([flag, value]) => [String(flag), String(value)]);
}

/** Starts the broker and waits until it coordinates every group (each __consumer_offsets partition loaded). */
export async function startGroupBroker(
  dataDir: string,
  args: string[],
  first: boolean,
): Promise<BrokerProcess> {
  const broker = await startBroker({ dataDir, args });
  if (first) await createTopics(broker.port);
  await eventually("every __consumer_offsets partition loaded", async () =>
    loadTimes(broker).size === offsetsPartitions ? true : undefined,
  );
  return broker;
}

/** The first lookup creates __consumer_offsets; the commits need their topic. */
export async function createTopics(port: number): Promise<void> {
  await eventually("__consumer_offsets exists", async () => {
    const answer = await exchange(port, findCoordinatorApi, 3, { key: "any", keyType: 0 });
    return answer.errorCode === 0 ? true : undefined;
  });
  const created = await exchange(port, createTopicsApi, 7, {
    topics: [{ name: commitTopic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
  });
  if (created.topics[0]?.errorCode !== 0)
    throw new Error(`creating ${commitTopic}: ${JSON.stringify(created)}`);
}

/** When each partition's groups were loaded, by partition, from the broker's log. */
function loadTimes(broker: BrokerProcess): Map<string, number> {
  const times = new Map<string, number>();
  for (const line of broker.logLines) {
    if (line.msg === loadedMessage) times.set(String(line.partition), Number(line.time));
  }
  return times;
}

/** When the broker loaded the group: its stored members' sessions start then. */
export function groupLoadedAtMs(broker: BrokerProcess, groupId: string): number {
  const partition = `${offsetsTopicName}-${offsetsPartitionFor(groupId, offsetsPartitions)}`;
  const loadedAt = loadTimes(broker).get(partition);
  if (loadedAt === undefined) throw new Error(`${partition} is not loaded`);
  return loadedAt;
}
