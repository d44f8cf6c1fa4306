/**
 * The cluster models of one data partition as the shared invariants read
 * them (spec/invariants' ClusterView), the ghost history of leaders, the
 * invariants checked, and the transcript view of a state.
 *
 * The controller is the only writer of the metadata log, so every record is
 * in epoch 0 and a node's metadata log is the prefix it applied; its "quorum
 * high watermark" is its applied offset. A replica's leader epoch is the one
 * its ISR machine leads in, or else its applied image's; its partition epoch
 * the larger of the two (an AlterPartition answer may bring the ISR machine
 * a partition epoch before the node applies its record).
 */
import type { PartitionMetadataRecord } from "../../machines/partition-lifecycle.ts";
import type { Invariant } from "../checker/model.ts";
import {
  type Invariant as ClusterInvariant,
  type ClusterView,
  ElectionSafety,
  EpochsMonotonic,
  HighWatermarkValid,
  IsrSubsetOfReplicas,
  LeaderCompleteness,
  LeaderInIsr,
  LogMatching,
  MetadataBeforeData,
  type MetadataEntry,
  MetadataLogMatching,
  NoAckedRecordLost,
  type NodeView,
  observeLeaders,
} from "../invariants/index.ts";
import {
  appliedImage,
  type ClusterState,
  imageAt,
  list,
  messageLabel,
  PARTITION,
  type PartitionNode,
  recordSummary,
} from "./partition-state.ts";

const views = new WeakMap<ClusterState, ClusterView>();
const entries = new WeakMap<readonly PartitionMetadataRecord[], MetadataEntry[]>();

/** The metadata log as the view's entries (one controller, so every record is in epoch 0). */
function metadataEntries(records: readonly PartitionMetadataRecord[]): MetadataEntry[] {
  let known = entries.get(records);
  if (known === undefined) {
    known = records.map((record, offset) => ({ offset, epoch: 0, record: recordSummary(record) }));
    entries.set(records, known);
  }
  return known;
}

function nodeView(state: ClusterState, node: PartitionNode): NodeView {
  const image = appliedImage(state, node);
  const machine = node.isr?.context;
  return {
    nodeId: node.id,
    alive: node.up,
    quorum: {
      role: "unattached",
      epoch: 0,
      votedFor: null,
      leaderId: null,
      voters: [],
      highWatermark: node.applied,
    },
    metadataLog: metadataEntries(state.metadata).slice(0, node.applied),
    appliedMetadataOffset: node.applied,
    replicas:
      node.replica === null
        ? {}
        : {
            [PARTITION]: {
              leaderEpoch: machine?.leaderEpoch ?? image?.leaderEpoch ?? -1,
              partitionEpoch: Math.max(machine?.partitionEpoch ?? -1, image?.partitionEpoch ?? -1),
              log: node.replica.log,
              highWatermark: node.replica.highWatermark,
              ...(machine === undefined ? {} : { isr: machine.isr }),
              appliedAssigningRecord: image?.replicas.includes(node.id) === true,
            },
          },
  };
}

/** The state as the shared invariants read it. */
export function clusterView(state: ClusterState): ClusterView {
  const known = views.get(state);
  if (known !== undefined) return known;
  const committed = imageAt(state.metadata, state.committed);
  const view: ClusterView = {
    nodes: state.nodes.map((node) => nodeView(state, node)),
    committedMetadata: metadataEntries(state.metadata).slice(0, state.committed),
    committedMetadataOffset: state.committed,
    partitions:
      committed === null
        ? {}
        : {
            [PARTITION]: {
              leader: committed.leader,
              isr: committed.isr,
              replicas: committed.replicas,
              leaderEpoch: committed.leaderEpoch,
              partitionEpoch: committed.partitionEpoch,
            },
          },
    acked: state.acked,
    history: { quorumLeaders: [], partitionLeaders: state.leaders },
  };
  views.set(state, view);
  return view;
}

/** Records every replica now acting as leader, with its leader epoch, in the ghost history. */
export function withLeaders(state: ClusterState): ClusterState {
  const seen = observeLeaders(clusterView(state)).partitionLeaders;
  return seen.length === state.leaders.length ? state : { ...state, leaders: seen };
}

/** The DESIGN invariants these models have data for; the change invariants are judged on every action. */
const checked: readonly ClusterInvariant[] = [
  ElectionSafety,
  LogMatching,
  LeaderCompleteness,
  MetadataLogMatching,
  LeaderInIsr,
  IsrSubsetOfReplicas,
  HighWatermarkValid,
  NoAckedRecordLost,
  MetadataBeforeData,
  EpochsMonotonic,
];
const changeInvariants = new Set(["HighWatermarkValid", "NoAckedRecordLost", "EpochsMonotonic"]);

export const clusterInvariants: Array<Invariant<ClusterState>> = checked.map((invariant) => ({
  name: invariant.name,
  everyStep: changeInvariants.has(invariant.name),
  holds: (state, previous) =>
    invariant.check(clusterView(state), previous === undefined ? undefined : clusterView(previous)) ?? true,
}));

// --- transcripts --------------------------------------------------------------------------

/** One node as leaves of facts, so a transcript line shows only what a step changed. */
function describeNode(state: ClusterState, node: PartitionNode): Record<string, string> {
  const shown: Record<string, string> = { up: node.up ? "yes" : "no", applied: String(node.applied) };
  if (node.replica !== null) {
    shown.log = `[${node.replica.log.map((e) => `${e.id}@${e.offset}e${e.epoch}`).join(" ")}]`;
    shown.hw = String(node.replica.highWatermark);
  }
  const machine = node.isr?.context;
  if (machine !== undefined) {
    shown.role = `leader epoch ${machine.leaderEpoch}`;
    shown.isr = `${list(machine.isr)} partition epoch ${machine.partitionEpoch}`;
    const pending = machine.pendingIsrChange;
    if (pending !== null) shown.pending = `${pending.kind} ${list(pending.isr)}`;
  } else {
    const image = appliedImage(state, node);
    if (image !== null && image.leader !== node.id)
      shown.role = `follower of n${image.leader} epoch ${image.leaderEpoch}`;
  }
  return shown;
}

export function describeCluster(state: ClusterState): Record<string, unknown> {
  const c = state.controller.context;
  const shown: Record<string, unknown> = {
    clock: `${state.nowMs} ms`,
    controller: {
      state: String(state.controller.value),
      leader: String(c.leader),
      isr: list(c.isr),
      epochs: `${c.leaderEpoch}/${c.partitionEpoch}`,
      fenced: list(state.fenced),
    },
    metadata: `${state.committed} of ${state.metadata.length} committed`,
  };
  for (const node of state.nodes) shown[`n${node.id}`] = describeNode(state, node);
  const inFlight: Record<string, string> = {};
  for (const m of state.messages) {
    const label = messageLabel(m);
    inFlight[label] = inFlight[label] === undefined ? "in flight" : `${inFlight[label]} +1`;
  }
  if (state.messages.length > 0) shown.net = inFlight;
  shown.acked = state.acked.map((a) => `${a.id}@${a.offset}`).join(" ") || "none";
  return shown;
}
