/**
 * The cluster as merged traces show it, in the shape the invariants of spec/
 * read (ClusterView), built up one line at a time:
 *
 * - each node's quorum state is its Raft quorum machine's latest snapshot;
 * - each node's metadata log is what it applied since it last started (applied
 *   entries are committed ones), and the committed metadata log is the first
 *   entry any node applied at each offset;
 * - each partition's committed leader, ISR and epochs are the latest applied
 *   record's, whichever node applied it;
 * - a node's replicas are the partitions whose ISR machine it runs (it leads
 *   them), with that machine's epochs, ISR and high watermark, and whether the
 *   node applied the record that created the partition before leading it.
 *
 * A start line means the node's process started again: whatever its last
 * incarnation held in memory is gone. Record contents are not traced, so
 * replica logs stay empty: the invariants that compare records are checked
 * elsewhere (see trace-check.ts).
 */
import type { AppliedLine, TraceLine, TransitionLine } from "../../impl/trace/trace-lines.ts";
import {
  type ClusterView,
  type CommittedPartition,
  emptyHistory,
  type MetadataEntry,
  type NodeView,
  observeLeaders,
  type QuorumRole,
  type QuorumView,
  type ReplicaView,
} from "../../spec/invariants/index.ts";

interface NodeState {
  quorum: QuorumView;
  /** Shared with the views built from this state: entries are only ever appended. */
  applied: MetadataEntry[];
  appliedOffset: number;
  /** Partitions whose creating record this incarnation applied. */
  assigned: Set<string>;
  replicas: Record<string, ReplicaView>;
}

const unknownQuorum: QuorumView = {
  role: "unattached",
  epoch: 0,
  votedFor: null,
  leaderId: null,
  voters: [],
  highWatermark: 0,
};

export class TraceView {
  private readonly nodes = new Map<number, NodeState>();
  private readonly committed: MetadataEntry[] = [];
  private readonly committedOffsets = new Set<number>();
  private committedOffset = 0;
  private readonly partitions = new Map<string, CommittedPartition & { offset: number }>();
  private history = emptyHistory;

  /** Takes one line in; true when what the invariants read changed. */
  apply(line: TraceLine): boolean {
    switch (line.kind) {
      case "start": {
        // The quorum state is persisted: the new process resumes its epoch and vote, which its
        // machine's first step shows; everything else it held is gone.
        const quorum = this.nodes.get(line.node)?.quorum ?? unknownQuorum;
        this.nodes.set(line.node, { ...this.freshNode(), quorum });
        return true;
      }
      case "applied":
        this.applyEntry(line);
        return true;
      case "transition":
        return this.applyTransition(line);
      case "stopped": {
        if (line.machine !== "isr") return false;
        const replicas = this.node(line.node).replicas;
        const had = line.instance in replicas;
        delete replicas[line.instance];
        return had;
      }
      case "gap":
        return false;
    }
  }

  /** The cluster now, as plain data; the leaders it shows are added to the view's history. */
  view(): ClusterView {
    const nodes: NodeView[] = [...this.nodes.entries()]
      .sort(([a], [b]) => a - b)
      .map(([nodeId, state]) => ({
        nodeId,
        alive: true,
        quorum: { ...state.quorum },
        metadataLog: state.applied,
        appliedMetadataOffset: state.appliedOffset,
        replicas: Object.fromEntries(
          Object.entries(state.replicas).map(([name, replica]) => [name, { ...replica }]),
        ),
      }));
    const partitions = Object.fromEntries(
      [...this.partitions.entries()].map(([name, { offset: _offset, ...partition }]) => [name, partition]),
    );
    const view: ClusterView = {
      nodes,
      committedMetadata: this.committed,
      committedMetadataOffset: this.committedOffset,
      partitions,
      acked: [],
      history: this.history,
    };
    this.history = observeLeaders(view);
    return { ...view, history: this.history };
  }

  private freshNode(): NodeState {
    return { quorum: unknownQuorum, applied: [], appliedOffset: 0, assigned: new Set(), replicas: {} };
  }

  private node(nodeId: number): NodeState {
    let state = this.nodes.get(nodeId);
    if (state === undefined) {
      state = this.freshNode();
      this.nodes.set(nodeId, state);
    }
    return state;
  }

  private applyEntry(line: AppliedLine): void {
    const node = this.node(line.node);
    const entry: MetadataEntry = {
      offset: line.offset,
      epoch: line.epoch,
      record: line.record,
      ...(line.voters === undefined ? {} : { voters: line.voters }),
    };
    node.applied.push(entry);
    node.appliedOffset = line.offset + 1;
    if (!this.committedOffsets.has(line.offset)) {
      this.committedOffsets.add(line.offset);
      this.committed.push(entry);
      // Entries arrive in offset order but for a node that replays from the start after others moved on.
      const previous = this.committed[this.committed.length - 2];
      if (previous !== undefined && previous.offset > entry.offset) {
        this.committed.sort((a, b) => a.offset - b.offset);
      }
    }
    this.committedOffset = Math.max(this.committedOffset, line.offset + 1);
    const partition = line.partition;
    if (partition === undefined) return;
    if (line.record.startsWith("PartitionRecord ")) node.assigned.add(partition.instance);
    const known = this.partitions.get(partition.instance);
    if (known === undefined || known.offset <= line.offset) {
      const { instance: _instance, ...committed } = partition;
      this.partitions.set(partition.instance, { ...committed, offset: line.offset });
    }
  }

  private applyTransition(line: TransitionLine): boolean {
    const node = this.node(line.node);
    const context = line.after.context as Record<string, unknown>;
    if (line.machine === "raft-quorum") {
      const quorum: QuorumView = {
        role: line.after.value as QuorumRole,
        epoch: context.epoch as number,
        votedFor: context.votedFor as number | null,
        leaderId: context.leaderId as number | null,
        voters: [...(context.voters as number[])],
        highWatermark: context.highWatermark as number,
      };
      const changed = JSON.stringify(quorum) !== JSON.stringify(node.quorum);
      node.quorum = quorum;
      return changed;
    }
    if (line.machine === "isr") {
      const replica: ReplicaView = {
        leaderEpoch: context.leaderEpoch as number,
        partitionEpoch: context.partitionEpoch as number,
        log: [],
        highWatermark: context.highWatermark as number,
        isr: [...(context.isr as number[])],
        appliedAssigningRecord: node.assigned.has(line.instance),
      };
      const before = node.replicas[line.instance];
      node.replicas[line.instance] = replica;
      return (
        before === undefined ||
        before.leaderEpoch !== replica.leaderEpoch ||
        before.partitionEpoch !== replica.partitionEpoch ||
        JSON.stringify(before.isr) !== JSON.stringify(replica.isr)
      );
    }
    return false;
  }
}
