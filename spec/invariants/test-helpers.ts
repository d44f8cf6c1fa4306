/** Small builders for cluster views in the invariants' tests. */
import {
  type ClusterView,
  type DataEntry,
  type MetadataEntry,
  type NodeView,
  observeLeaders,
  type QuorumView,
  type ReplicaView,
} from "./cluster-view.ts";

/** Data entries from "epoch:id" words, at offsets 0, 1, ...: `data("1:a 1:b 2:c")`. */
export function data(spec: string): DataEntry[] {
  return spec
    .split(/\s+/)
    .filter((word) => word.length > 0)
    .map((word, offset) => {
      const [epoch, id] = word.split(":");
      return { offset, epoch: Number(epoch), id: id! };
    });
}

/** Metadata entries from [epoch, record, voters?] tuples, at offsets 0, 1, .... */
export function meta(...entries: [number, string, number[]?][]): MetadataEntry[] {
  return entries.map(([epoch, record, voters], offset) =>
    voters === undefined ? { offset, epoch, record } : { offset, epoch, record, voters },
  );
}

export function replica(overrides: Partial<ReplicaView> = {}): ReplicaView {
  return {
    leaderEpoch: 1,
    partitionEpoch: 1,
    log: data("1:a 1:b 1:c"),
    highWatermark: 3,
    appliedAssigningRecord: true,
    ...overrides,
  };
}

export const healthyMetadata: MetadataEntry[] = meta(
  [1, "VotersRecord 1,2,3", [1, 2, 3]],
  [1, "TopicRecord t"],
  [2, "LeaderChangeRecord 1"],
  [2, "PartitionRecord t-0"],
);

export function node(
  nodeId: number,
  overrides: Partial<Omit<NodeView, "quorum">> & { quorum?: Partial<QuorumView> } = {},
): NodeView {
  const { quorum, ...rest } = overrides;
  return {
    nodeId,
    alive: true,
    metadataLog: healthyMetadata,
    appliedMetadataOffset: 4,
    replicas: { "t-0": replica(nodeId === 1 ? { isr: [1, 2, 3] } : {}) },
    ...rest,
    quorum: {
      role: nodeId === 1 ? "leader" : "follower",
      epoch: 2,
      votedFor: 1,
      leaderId: 1,
      voters: [1, 2, 3],
      highWatermark: 4,
      ...quorum,
    },
  };
}

/**
 * A healthy three-node cluster: node 1 leads the quorum (epoch 2) and
 * partition t-0 (leader epoch 1, ISR 1,2,3), every record committed and
 * applied, records a, b, c acknowledged. Overrides replace top-level fields.
 */
export function healthyView(overrides: Partial<ClusterView> = {}): ClusterView {
  const base: ClusterView = {
    nodes: [node(1), node(2), node(3)],
    committedMetadata: healthyMetadata,
    committedMetadataOffset: 4,
    partitions: {
      "t-0": { leader: 1, isr: [1, 2, 3], replicas: [1, 2, 3], leaderEpoch: 1, partitionEpoch: 1 },
    },
    acked: [
      { partition: "t-0", offset: 0, id: "a" },
      { partition: "t-0", offset: 1, id: "b" },
      { partition: "t-0", offset: 2, id: "c" },
    ],
    history: { quorumLeaders: [], partitionLeaders: [] },
    ...overrides,
  };
  return { ...base, history: overrides.history ?? observeLeaders(base) };
}

/** A deep copy of `view` changed by `change`. */
export function modify(view: ClusterView, change: (copy: ClusterView) => void): ClusterView {
  const copy = structuredClone(view);
  change(copy);
  return copy;
}

/** The node with this id in `view` (throws when absent, for tests). */
export function at(view: ClusterView, nodeId: number): NodeView {
  const found = view.nodes.find((n) => n.nodeId === nodeId);
  if (found === undefined) throw new Error(`no node ${nodeId}`);
  return found;
}

/** Node `nodeId`'s replica of t-0 (throws when absent, for tests). */
export function t0(view: ClusterView, nodeId: number): ReplicaView {
  const found = at(view, nodeId).replicas["t-0"];
  if (found === undefined) throw new Error(`node ${nodeId} has no t-0`);
  return found;
}
