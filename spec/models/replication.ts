/**
 * The Replication model: one partition with three replicas (nodes 1, 2, 3,
 * min.insync.replicas 2), its leader running the real ISR machine and the
 * controller the real partition lifecycle machine, both stepped through
 * xstate's pure `transition()` (spec/models/machine-stepper.ts). It covers
 * acks=all produce, follower fetch, ISR shrink and expand through
 * AlterPartition, leader failure and clean election, follower truncation on a
 * new leader epoch (the diverging epoch of Fetch v12+), crashes and restarts.
 *
 * It starts with the partition created and its PartitionRecord committed and
 * applied on every node: node 1 leads epoch 0 with the ISR [1, 2, 3] and every
 * log is empty. The controller's records commit as they are appended (the
 * quorum model covers the controller's own replication); nodes apply them
 * each in its own step. Time is a clock that jumps past
 * replica.lag.time.max.ms at most `maxTicks` times; fetches carry it. The
 * runtime's choices (durable logs and high watermarks, one outstanding fetch
 * per follower, restarts only after the controller fenced the node, ...) are
 * described in partition-replicas.ts and partition-cluster.ts.
 *
 * Bounds: `maxProduce` acks=all records, `maxTicks`, `maxCrashes`,
 * `maxDrops` lost messages, `maxMessages` in flight. Reaching a committed
 * record takes nine steps, so its failover is explored from a script that
 * commits it (createReplicationFailoverModel, registered as
 * "replication-failover"); the fresh model explores everything else.
 */
import { isrMachine } from "../../machines/isr.ts";
import type { Model, ModelEntry, Sometimes } from "../checker/model.ts";
import {
  applyNext,
  createPartitionClusterModel,
  createRuntime,
  createTopic,
  emptyCluster,
} from "./partition-cluster.ts";
import type { ClusterOptions, ClusterState, Runtime } from "./partition-state.ts";

export type ReplicationOptions = Partial<ClusterOptions> & {
  /** Action labels taken from the initial state before exploration starts (the bounds count from there). */
  script?: string[];
};

export const replicationDefaults: ClusterOptions = {
  isrMachine,
  nodeIds: [1, 2, 3],
  replicaLagMsMax: 100,
  minInsyncReplicas: 2,
  waitingProducesMax: 2,
  maxProduce: 2,
  maxTicks: 1,
  maxCrashes: 1,
  maxDrops: 0,
  maxMessages: 4,
  commitOnAppend: true,
  faults: {},
};

export const replicationSometimes: Array<Sometimes<ClusterState>> = [
  { name: "a record is committed (acks=all acknowledged)", reached: (s) => s.acked.length > 0 },
  {
    name: "the ISR shrank and expanded again (through AlterPartition)",
    reached: (s) => s.isrStory === "shrankAndExpanded",
  },
  {
    name: "a leader failed over (another node leads a later epoch after the controller fenced the old one)",
    reached: (s) => new Set(s.leaders.map((l) => l.nodeId)).size > 1,
  },
];

/**
 * From the initial state: a client produces r1 to n1, both followers fetch it,
 * then fetch again, and n1 counts the second fetch of n3 as the last ISR member
 * reaching offset 1: r1 is acknowledged. Both answers, carrying the high
 * watermarks 0 and 1, are still in flight, so neither follower knows r1 is
 * committed (the situation of KIP-101).
 */
export const r1AckedOnEveryReplica: string[] = [
  "client produces r1 to n1: appended",
  "n2 sends n2→n1 Fetch(epoch 0, offset 0, last epoch -1)",
  "n2→n1 Fetch(epoch 0, offset 0, last epoch -1): answered 1 record, hw 0",
  "n1→n2 FetchAnswer(epoch 0, offset 0, [r1], hw 0): appended 1 record, hw 0",
  "n3 sends n3→n1 Fetch(epoch 0, offset 0, last epoch -1)",
  "n3→n1 Fetch(epoch 0, offset 0, last epoch -1): answered 1 record, hw 0",
  "n1→n3 FetchAnswer(epoch 0, offset 0, [r1], hw 0): appended 1 record, hw 0",
  "n2→n1 Fetch(epoch 0, offset 1, last epoch 0): answered 0 records, hw 0",
  "n3→n1 Fetch(epoch 0, offset 1, last epoch 0): answered 0 records, hw 1",
];

/** What exploring failover from a committed record must show. */
export const replicationFailoverSometimes: Array<Sometimes<ClusterState>> = [
  {
    name: "an acknowledged record outlived its leader (a later leader epoch's leader holds it)",
    reached: (s) =>
      s.acked.length > 0 &&
      s.nodes.some(
        (n) =>
          n.isr !== null &&
          n.isr.context.leaderEpoch > 0 &&
          s.acked.every((a) => n.replica?.log[a.offset]?.id === a.id),
      ),
  },
  { name: "a follower truncated records on a diverging epoch", reached: (s) => s.truncated },
  replicationSometimes[2]!,
];

/**
 * The Replication model explored from r1AckedOnEveryReplica (failover,
 * truncation and restarts of committed data), with one more record and one
 * lost message by default.
 */
/** The topic created, its PartitionRecord committed and applied on every node: where the models start. */
function topicOnEveryNode(rt: Runtime): ClusterState {
  let state = createTopic(rt, emptyCluster(rt));
  for (const id of rt.options.nodeIds) state = applyNext(rt, state, id);
  return state;
}

export function createReplicationFailoverModel(options: ReplicationOptions = {}): Model<ClusterState> {
  const rt = createRuntime({ ...replicationDefaults, maxProduce: 1, maxDrops: 1, ...options });
  return createPartitionClusterModel(
    rt,
    topicOnEveryNode(rt),
    replicationFailoverSometimes,
    r1AckedOnEveryReplica,
  );
}

export function createReplicationModel(options: ReplicationOptions = {}): Model<ClusterState> {
  const { script, ...bounds } = options;
  const rt = createRuntime({ ...replicationDefaults, ...bounds });
  return createPartitionClusterModel(rt, topicOnEveryNode(rt), replicationSometimes, script);
}

export const replicationModel: ModelEntry = {
  name: "replication",
  description:
    "one partition on 3 nodes, the real ISR and partition lifecycle machines: acks=all produce, follower fetch, " +
    "ISR shrink and expand, leader failover, truncation, a crash and restart",
  create: () => createReplicationModel() as Model<unknown>,
  ciBounds: { depth: 11, maxStates: 1_000_000 },
};

export const replicationFailoverModel: ModelEntry = {
  name: "replication-failover",
  description:
    "the replication model from r1 acknowledged on all 3 replicas: leader failure and clean election, " +
    "truncation of a diverging follower, a crash and restart, another record, an ISR change, a lost message",
  create: () => createReplicationFailoverModel() as Model<unknown>,
  ciBounds: { depth: 10, maxStates: 1_000_000 },
};

/** What exploring a controlled shutdown from a committed record must show. */
export const controlledShutdownSometimes: Array<Sometimes<ClusterState>> = [
  {
    name: "a controlled shutdown moved the leadership while the old leader still ran",
    reached: (s) =>
      s.controller.context.shuttingDownBrokers.some(
        (id) => s.nodes.find((n) => n.id === id)?.up === true && s.controller.context.leader !== id,
      ) && s.controller.context.leaderEpoch > 0,
  },
  {
    name: "an acknowledged record outlived its leader's controlled shutdown (the new leader holds it)",
    reached: (s) => s.shutdowns > 0 && replicationFailoverSometimes[0]!.reached(s),
  },
];

/**
 * The replication model from r1 acknowledged on all 3 replicas, where a node
 * may begin a controlled shutdown and later stop: the controller moves its
 * leadership and takes it out of the ISR while it still fetches, answers its
 * leader's attempts to take it back with INELIGIBLE_REPLICA, and fences it
 * once it is down.
 */
export function createControlledShutdownModel(options: ReplicationOptions = {}): Model<ClusterState> {
  const rt = createRuntime({
    ...replicationDefaults,
    maxProduce: 1,
    maxControlledShutdowns: 1,
    ...options,
  });
  return createPartitionClusterModel(
    rt,
    topicOnEveryNode(rt),
    controlledShutdownSometimes,
    r1AckedOnEveryReplica,
  );
}

export const controlledShutdownModel: ModelEntry = {
  name: "controlled-shutdown",
  description:
    "the replication model from r1 acknowledged on all 3 replicas: a node begins a controlled shutdown " +
    "(leadership moved, out of the ISR, its leader's attempts to take it back refused), then stops, is " +
    "fenced, restarts; another record, a lost message",
  create: () => createControlledShutdownModel() as Model<unknown>,
  ciBounds: { depth: 9, maxStates: 1_000_000 },
};
