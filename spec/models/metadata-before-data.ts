/**
 * The Metadata-before-data model: a topic is created and then produced to
 * across three nodes, with the metadata log and data replication interleaved
 * every way the network allows. The controller runs the real partition
 * lifecycle machine; CreateTopics appends the PartitionRecord, which commits
 * in a later step (then the machine hears `partition.creationCommitted`);
 * each node applies committed records in order, each in its own step, and
 * only then creates its replica, leads (starting the real ISR machine) or
 * follows. A client produces acks=all records to a node that leads; followers
 * fetch from the leader their applied metadata names. So every order of
 * "the leader applied", "a follower applied", "a record was produced", "a
 * follower fetched" and, with ticks, "an ISR change committed and was
 * applied" is explored.
 *
 * The TopicRecord is left out: CreateTopics appends it in the same batch as
 * the PartitionRecord, so a node applies both at once. The runtime is the one
 * of partition-replicas.ts and the controller the one of partition-cluster.ts.
 */
import { isrMachine } from "../../machines/isr.ts";
import type { Model, ModelEntry, Sometimes } from "../checker/model.ts";
import { createPartitionClusterModel, createRuntime, emptyCluster } from "./partition-cluster.ts";
import type { ClusterOptions, ClusterState } from "./partition-state.ts";

export type MetadataBeforeDataOptions = Partial<ClusterOptions> & {
  /** Action labels taken from the initial state before exploration starts (the bounds count from there). */
  script?: string[];
};

export const metadataBeforeDataDefaults: ClusterOptions = {
  isrMachine,
  nodeIds: [1, 2, 3],
  replicaLagMsMax: 100,
  minInsyncReplicas: 2,
  waitingProducesMax: 2,
  maxProduce: 1,
  maxTicks: 1,
  maxCrashes: 1,
  maxDrops: 0,
  maxMessages: 4,
  commitOnAppend: false,
  faults: {},
};

/** The PartitionRecord is the first record of the metadata log: applied once a node applied one record. */
export const metadataBeforeDataSometimes: Array<Sometimes<ClusterState>> = [
  {
    name: "the topic's PartitionRecord is applied on every node",
    reached: (s) => s.metadata[0]?.type === "PartitionRecord" && s.nodes.every((n) => n.applied >= 1),
  },
  { name: "a record is committed (acks=all acknowledged)", reached: (s) => s.acked.length > 0 },
];

export function createMetadataBeforeDataModel(options: MetadataBeforeDataOptions = {}): Model<ClusterState> {
  const { script, ...bounds } = options;
  const rt = createRuntime({ ...metadataBeforeDataDefaults, ...bounds });
  return createPartitionClusterModel(rt, emptyCluster(rt), metadataBeforeDataSometimes, script);
}

export const metadataBeforeDataModel: ModelEntry = {
  name: "metadata-before-data",
  description:
    "a topic created and produced to across 3 nodes, the real partition lifecycle and ISR machines: " +
    "metadata commit and application interleaved with produce, replication, an ISR change and a crash",
  create: () => createMetadataBeforeDataModel() as Model<unknown>,
  ciBounds: { depth: 17, maxStates: 1_000_000 },
};
