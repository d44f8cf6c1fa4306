/**
 * The cluster as plain data, the one shape every cluster-wide invariant reads.
 * The model checker fills it from the machines' snapshots plus a few ghost
 * variables (the committed metadata log, the acknowledged records, the leaders
 * seen per epoch); the trace checker fills it from merged traces.
 *
 * Offsets follow the machines' convention: a high watermark, an applied offset
 * or an end offset N means "every record below N". Everything here is plain,
 * serializable data (arrays and plain objects only), so a view can be part of
 * a model state and be canonically serialized.
 */

/** The Raft quorum machine's state names. */
export type QuorumRole = "unattached" | "prospective" | "candidate" | "leader" | "follower" | "resigned";

/** One node's Raft quorum state: the fields of `raft-quorum-rules.ts`'s Context the invariants read. */
export interface QuorumView {
  role: QuorumRole;
  epoch: number;
  votedFor: number | null;
  leaderId: number | null;
  /** The latest voter set in this node's log, sorted. */
  voters: number[];
  /** Every metadata record below this offset is committed, as far as this node knows. */
  highWatermark: number;
}

/** One record of the metadata log (`__chronik_metadata`), summarized. */
export interface MetadataEntry {
  offset: number;
  /** The Raft epoch the record was appended in. */
  epoch: number;
  /** A short, comparable summary: the record type and its key fields, e.g. "TopicRecord foo". */
  record: string;
  /** Set only on a voters record: the complete voter set it installs, sorted. */
  voters?: number[];
}

/** One record batch of a data partition's log. */
export interface DataEntry {
  offset: number;
  /** The leader epoch it was appended in. */
  epoch: number;
  /** A unique id for the record (the producer's payload), so copies can be compared. */
  id: string;
}

/** One node's replica of one data partition. */
export interface ReplicaView {
  /** The leader epoch this replica currently follows or leads in (from the metadata it applied). */
  leaderEpoch: number;
  partitionEpoch: number;
  log: DataEntry[];
  highWatermark: number;
  /** Set only while this replica acts as the partition's leader: the ISR its ISR machine holds (committed). */
  isr?: number[];
  /** Whether the node has applied the committed metadata record that assigns it this replica. */
  appliedAssigningRecord: boolean;
}

export interface NodeView {
  nodeId: number;
  alive: boolean;
  quorum: QuorumView;
  /** The node's metadata log, in offset order (persisted; survives a crash). */
  metadataLog: MetadataEntry[];
  /** The node has applied every metadata record below this offset to its MetadataImage. */
  appliedMetadataOffset: number;
  /** Keyed by partition name ("topic-0"); a missing key means the node holds nothing for it. */
  replicas: Record<string, ReplicaView>;
}

/** A partition as the committed metadata log says it is (the controller's PartitionState). */
export interface CommittedPartition {
  /** -1 when the partition has no leader. */
  leader: number;
  isr: number[];
  replicas: number[];
  leaderEpoch: number;
  partitionEpoch: number;
}

/** A record whose acks=all produce completed successfully. */
export interface AckedRecord {
  partition: string;
  offset: number;
  id: string;
}

/** A node that acted as leader in an epoch, ever (for the Raft quorum). */
export interface QuorumLeaderSeen {
  epoch: number;
  nodeId: number;
}

/** A node that acted as a partition's leader in a leader epoch, ever. */
export interface PartitionLeaderSeen {
  partition: string;
  leaderEpoch: number;
  nodeId: number;
}

/** Ghost history carried in the view: what must be remembered beyond one state. */
export interface ViewHistory {
  quorumLeaders: QuorumLeaderSeen[];
  partitionLeaders: PartitionLeaderSeen[];
}

export interface ClusterView {
  nodes: NodeView[];
  /** The controller's committed metadata log: every record below `committedMetadataOffset`, in offset order. */
  committedMetadata: MetadataEntry[];
  /** The highest commit point ever reached on the metadata log (never decreases). */
  committedMetadataOffset: number;
  /** Keyed by partition name: what the committed metadata says of each partition. */
  partitions: Record<string, CommittedPartition>;
  /** Every acks=all record acknowledged so far (never shrinks). */
  acked: AckedRecord[];
  history: ViewHistory;
}

/** An invariant: `check` returns null when it holds, otherwise what is violated, naming the culprits. */
export interface Invariant {
  name: string;
  description: string;
  check(view: ClusterView, previous?: ClusterView): string | null;
}

export const emptyHistory: ViewHistory = { quorumLeaders: [], partitionLeaders: [] };

/** The offset the next record would get: one past the last entry, 0 when empty. */
export function endOffset(log: readonly { offset: number }[]): number {
  const last = log[log.length - 1];
  return last === undefined ? 0 : last.offset + 1;
}

/**
 * The entry at `offset`, by binary search: every log in a view is in
 * ascending offset order (the views say so), and invariants look entries up
 * once per entry of another log, which a linear search makes quadratic on
 * the long logs of a traced run.
 */
export function entryAt<T extends { offset: number }>(log: readonly T[], offset: number): T | undefined {
  let low = 0;
  let high = log.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const entry = log[middle]!;
    if (entry.offset === offset) return entry;
    if (entry.offset < offset) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

export function findNode(view: ClusterView, nodeId: number): NodeView | undefined {
  return view.nodes.find((node) => node.nodeId === nodeId);
}

/** Joins the violations found, or null when there are none. */
export function report(violations: readonly string[]): string | null {
  return violations.length === 0 ? null : violations.join("; ");
}

/**
 * The history after observing `view`: every node now leading the quorum, and
 * every replica now acting as a partition's leader, added (sorted, no
 * duplicates). The model calls this on each new state before storing it.
 */
export function observeLeaders(view: ClusterView): ViewHistory {
  const quorumLeaders = [...view.history.quorumLeaders];
  const partitionLeaders = [...view.history.partitionLeaders];
  for (const node of view.nodes) {
    if (!node.alive) continue;
    if (node.quorum.role === "leader") {
      const seen = { epoch: node.quorum.epoch, nodeId: node.nodeId };
      if (!quorumLeaders.some((s) => s.epoch === seen.epoch && s.nodeId === seen.nodeId))
        quorumLeaders.push(seen);
    }
    for (const [partition, replica] of Object.entries(node.replicas)) {
      if (replica.isr === undefined) continue;
      const seen = { partition, leaderEpoch: replica.leaderEpoch, nodeId: node.nodeId };
      if (
        !partitionLeaders.some(
          (s) => s.partition === partition && s.leaderEpoch === seen.leaderEpoch && s.nodeId === seen.nodeId,
        )
      ) {
        partitionLeaders.push(seen);
      }
    }
  }
  quorumLeaders.sort((a, b) => a.epoch - b.epoch || a.nodeId - b.nodeId);
  partitionLeaders.sort(
    (a, b) =>
      (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0) ||
      a.leaderEpoch - b.leaderEpoch ||
      a.nodeId - b.nodeId,
  );
  return { quorumLeaders, partitionLeaders };
}
