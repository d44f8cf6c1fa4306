/**
 * One data partition's replicas on the nodes of a cluster model: the data
 * path the replication and metadata-before-data models share. The model plays
 * the broker runtime around the real machines: the ISR machine (machines/isr.ts)
 * decides on the leader, and this file carries out what it asks (append a
 * batch, move the high watermark, send AlterPartition, complete or refuse a
 * produce); the follower side uses the log-divergence rules
 * (machines/log-divergence.ts) the broker runtime uses; every node's view of
 * the partition is the committed metadata it applied, replayed with the
 * lifecycle machine's own `applyPartitionChangeRecord`.
 *
 * The runtime's choices, which both models document:
 * - A node acts on the partition only from the metadata it applied (`applied`
 *   records of the controller's log). It creates its replica when it applies
 *   the assigning record; it starts an ISR machine when the applied image
 *   names it leader at a leader epoch it does not lead yet (resigning an older
 *   one first), feeds it `isr.committed` when an applied record bumps the
 *   partition epoch of the epoch it leads, and resigns it when the image
 *   names another leader. A restarted node does the same from its applied
 *   image, so it may briefly lead an epoch the controller has since ended.
 * - Logs, high watermarks and applied metadata are durable; a crash loses the
 *   ISR machine and the node's connections (messages to it, fetches from it,
 *   whose answers could not reach it); what it sent before still arrives; a
 *   message sent to a node that is down is lost.
 * - A follower keeps one fetch outstanding and sends the next as soon as it
 *   handles an answer (Kafka's fetcher loop), carrying its leader epoch, its
 *   log end and the epoch of its last record (Fetch v12+). The leader answers
 *   at once (no long poll): a refusal for a wrong epoch (the follower's fetch
 *   is simply gone, it fetches again), a diverging epoch (fetchDivergence), or
 *   every record from the fetch offset with its high watermark after the ISR
 *   machine took the fetch. A follower ignores an answer from another leader
 *   epoch or for another log end; it truncates with truncationOffset, and
 *   takes the leader's high watermark capped by its own log end, never
 *   moving its own backwards.
 * - An AlterPartition answer reaches the ISR machine only if it answers the
 *   change the machine still has pending (Kafka's AlterPartitionManager
 *   callback checks the proposed state is still the current one): a success
 *   as `isr.committed`, an error as `isr.rejected`. An answer to an earlier
 *   request is ignored. The applied record also brings `isr.committed`;
 *   whichever comes first wins. A request or answer that is lost is sent
 *   again (the AlterPartitionManager's retry).
 */
import { ACKS_ALL, alterPartitionRequest, type Event as IsrEvent } from "../../machines/isr.ts";
import { epochStartsOf, fetchDivergence, truncationOffset } from "../../machines/log-divergence.ts";
import type { PartitionState } from "../../machines/partition-lifecycle.ts";
import type { DataEntry } from "../invariants/index.ts";
import type { Effect } from "./machine-stepper.ts";
import {
  type AlterPartitionRequest,
  appliedImage,
  type ClusterState,
  count,
  imageAt,
  logEnd,
  type Message,
  nodeOf,
  PARTITION,
  type PartitionNode,
  type Replica,
  type Runtime,
  send,
  withNode,
} from "./partition-state.ts";

/** The image a follower fetches by: what it applied (or, with the fault, whatever committed). */
function followerImage(rt: Runtime, state: ClusterState, node: PartitionNode): PartitionState | null {
  return rt.options.faults.followerReadsUnappliedMetadata
    ? imageAt(state.metadata, state.committed)
    : appliedImage(state, node);
}

// --- the ISR machine and its effects ------------------------------------------------------

/** Steps a node's ISR machine and carries out its effects. */
export function stepIsr(rt: Runtime, state: ClusterState, id: number, event: IsrEvent): ClusterState {
  const node = nodeOf(state, id);
  if (node.isr === null) return state;
  const { node: machine, effects } = rt.isr.step(node.isr, event);
  return runIsrEffects(rt, withNode(state, { ...node, isr: machine.done ? null : machine }), id, effects);
}

function runIsrEffects(
  rt: Runtime,
  state: ClusterState,
  id: number,
  effects: readonly Effect[],
): ClusterState {
  let s = state;
  for (const effect of effects) {
    const node = nodeOf(s, id);
    const p = effect.params;
    switch (effect.type) {
      case "sendAlterPartition":
        s = withNode(s, { ...node, awaitingAlterPartition: true });
        s = send(rt, s, {
          type: "AlterPartition",
          from: id,
          leaderEpoch: p.leaderEpoch as number,
          partitionEpoch: p.partitionEpoch as number,
          newIsr: p.newIsr as number[],
        });
        break;
      case "advanceHighWatermark":
        s = withNode(s, { ...node, replica: { ...node.replica!, highWatermark: p.highWatermark as number } });
        break;
      case "appendBatch": {
        const log = node.replica!.log;
        const entry: DataEntry = {
          offset: log.length,
          epoch: node.isr!.context.leaderEpoch,
          id: `r${p.requestId as number}`,
        };
        s = withNode(s, { ...node, replica: { ...node.replica!, log: [...log, entry] } });
        break;
      }
      case "completeProduce": {
        const id = `r${p.requestId as number}`;
        const entry = node.replica!.log.find((e) => e.id === id)!;
        const acked = [...s.acked, { partition: PARTITION, offset: entry.offset, id }];
        s = { ...s, acked: acked.sort((a, b) => a.offset - b.offset || (a.id < b.id ? -1 : 1)) };
        break;
      }
      default:
        break; // refuseProduce: the client hears an error; nothing to keep
    }
  }
  return s;
}

function startLeading(rt: Runtime, state: ClusterState, id: number, image: PartitionState): ClusterState {
  const node = nodeOf(state, id);
  const end = logEnd(node.replica);
  const { node: machine, effects } = rt.isr.start({
    leaderId: id,
    leaderEpoch: image.leaderEpoch,
    partitionEpoch: image.partitionEpoch,
    replicas: image.replicas,
    isr: image.isr,
    leaderEndOffset: end,
    leaderEpochStartOffset: end,
    highWatermark: node.replica!.highWatermark,
    minInsyncReplicas: rt.options.minInsyncReplicas,
    // Nodes apply only the partition's records here, never the broker registry's, so a leader
    // never learns a follower ineligible: it proposes it, and the controller refuses
    // (INELIGIBLE_REPLICA), which ends where not proposing would. That keeps every timing of
    // the real leader, which learns of a fencing only some time after it.
    ineligibleReplicas: [],
    replicaLagMsMax: rt.options.replicaLagMsMax,
    nowMs: state.nowMs,
    waitingProducesMax: rt.options.waitingProducesMax,
  });
  return runIsrEffects(
    rt,
    withNode(state, { ...node, isr: machine, awaitingAlterPartition: false }),
    id,
    effects,
  );
}

function resign(rt: Runtime, state: ClusterState, id: number): ClusterState {
  const s = stepIsr(rt, state, id, { type: "leader.resigned" });
  const node = nodeOf(s, id);
  return withNode(s, { ...node, isr: null, awaitingAlterPartition: false });
}

/**
 * The node's runtime after its applied image changed (or it restarted): create
 * the replica, start, update or resign the ISR machine. `before` is the image
 * before the change, for the pre-KIP-101 truncation fault.
 */
export function reconcile(
  rt: Runtime,
  state: ClusterState,
  id: number,
  before: PartitionState | null,
): ClusterState {
  let node = nodeOf(state, id);
  if (!node.up) return state;
  const image = appliedImage(state, node);
  const assigned = image?.replicas.includes(id) === true;
  let s = state;
  if (assigned && node.replica === null) {
    node = { ...node, replica: { log: [], highWatermark: 0 } };
    s = withNode(s, node);
  }
  if (
    rt.options.faults.truncateToHighWatermarkOnNewEpoch &&
    image !== null &&
    before !== null &&
    image.leaderEpoch !== before.leaderEpoch &&
    image.leader !== id &&
    node.replica !== null
  ) {
    const hw = node.replica.highWatermark;
    node = { ...node, replica: { ...node.replica, log: node.replica.log.slice(0, hw) } };
    s = withNode(s, node);
  }
  const machine = node.isr;
  if (assigned && image.leader === id) {
    if (machine !== null && machine.context.leaderEpoch === image.leaderEpoch) {
      if (image.partitionEpoch <= machine.context.partitionEpoch) return s;
      return stepIsr(rt, s, id, {
        type: "isr.committed",
        leaderEpoch: image.leaderEpoch,
        partitionEpoch: image.partitionEpoch,
        isr: image.isr,
      });
    }
    if (machine !== null) s = resign(rt, s, id);
    return startLeading(rt, s, id, image);
  }
  return machine === null ? s : resign(rt, s, id);
}

// --- produce, time ------------------------------------------------------------------------

/** A client's acks=all produce of the next record to node `id`, which leads. */
export function produce(rt: Runtime, state: ClusterState, id: number): ClusterState {
  const requestId = state.produced + 1;
  const end = logEnd(nodeOf(state, id).replica);
  let s = stepIsr(rt, { ...state, produced: requestId }, id, {
    type: "produce.requested",
    requestId,
    acks: ACKS_ALL,
    lastOffset: end,
  });
  const grown = logEnd(nodeOf(s, id).replica);
  if (grown > end) s = stepIsr(rt, s, id, { type: "leader.appended", endOffset: grown });
  return s;
}

/** The clock jumps past replica.lag.time.max.ms; every ISR machine hears it. */
export function tick(rt: Runtime, state: ClusterState): ClusterState {
  const nowMs = state.nowMs + rt.options.replicaLagMsMax + 1;
  let s: ClusterState = { ...state, nowMs, ticks: state.ticks + 1 };
  for (const node of s.nodes) {
    if (node.up && node.isr !== null) s = stepIsr(rt, s, node.id, { type: "clock.ticked", nowMs });
  }
  return s;
}

// --- fetch --------------------------------------------------------------------------------

function fetchInFlight(state: ClusterState, id: number): boolean {
  return state.messages.some(
    (m) =>
      (m.type === "Fetch" && m.from === id) ||
      ((m.type === "FetchAnswer" || m.type === "FetchDiverging") && m.to === id),
  );
}

/** The fetch a follower would send now, or null if it has nothing to fetch or one is outstanding. */
export function nextFetch(rt: Runtime, state: ClusterState, id: number): Message | null {
  const node = nodeOf(state, id);
  if (!node.up || fetchInFlight(state, id)) return null;
  const image = followerImage(rt, state, node);
  if (image === null || !image.replicas.includes(id) || image.leader < 0 || image.leader === id) return null;
  if (!nodeOf(state, image.leader).up) return null; // connection refused: nothing changes
  if (node.replica === null && !rt.options.faults.followerReadsUnappliedMetadata) return null;
  const log = node.replica?.log ?? [];
  return {
    type: "Fetch",
    from: id,
    to: image.leader,
    leaderEpoch: image.leaderEpoch,
    fetchOffset: log.length,
    lastFetchedEpoch: log[log.length - 1]?.epoch ?? -1,
  };
}

/** Follower `id` sends its next fetch, creating an empty replica first if it has none (only the fault gets here). */
export function sendFetch(rt: Runtime, state: ClusterState, id: number): ClusterState {
  const fetch = nextFetch(rt, state, id);
  if (fetch === null) return state;
  const node = nodeOf(state, id);
  const s =
    node.replica === null ? withNode(state, { ...node, replica: { log: [], highWatermark: 0 } }) : state;
  return send(rt, s, fetch);
}

/** The leader handles a fetch; returns the new state and what happened, for the label. */
export function deliverFetch(
  rt: Runtime,
  state: ClusterState,
  fetch: Extract<Message, { type: "Fetch" }>,
): { state: ClusterState; outcome: string } {
  const leader = nodeOf(state, fetch.to);
  const machine = leader.isr;
  if (machine === null) return { state, outcome: "refused NOT_LEADER_OR_FOLLOWER" };
  const epoch = machine.context.leaderEpoch;
  if (fetch.leaderEpoch < epoch) return { state, outcome: "refused FENCED_LEADER_EPOCH" };
  if (fetch.leaderEpoch > epoch) return { state, outcome: "refused UNKNOWN_LEADER_EPOCH" };
  const log = leader.replica!.log;
  const starts = epochStartsOf(log.map((e) => e.epoch));
  const diverging = fetchDivergence(starts, log.length, fetch.fetchOffset, fetch.lastFetchedEpoch);
  const reply = { from: fetch.to, to: fetch.from, leaderEpoch: epoch, fetchOffset: fetch.fetchOffset };
  if (diverging !== null) {
    const answer: Message = { type: "FetchDiverging", ...reply, ...diverging };
    return {
      state: send(rt, state, answer),
      outcome: `diverging (epoch ${diverging.epoch} ends at ${diverging.endOffset})`,
    };
  }
  const s = stepIsr(rt, state, fetch.to, {
    type: "replica.fetched",
    replicaId: fetch.from,
    fetchOffset: fetch.fetchOffset,
    nowMs: state.nowMs,
  });
  const after = nodeOf(s, fetch.to).replica!;
  const records = after.log.slice(fetch.fetchOffset);
  const answer: Message = { type: "FetchAnswer", ...reply, records, highWatermark: after.highWatermark };
  return {
    state: send(rt, s, answer),
    outcome: `answered ${count(records.length)}, hw ${after.highWatermark}`,
  };
}

/** The follower handles a fetch answer: truncate or append, then fetch again. */
export function deliverFetchAnswer(
  rt: Runtime,
  state: ClusterState,
  answer: Extract<Message, { type: "FetchAnswer" | "FetchDiverging" }>,
): { state: ClusterState; outcome: string } {
  const node = nodeOf(state, answer.to);
  const image = followerImage(rt, state, node);
  const replica = node.replica;
  if (
    replica === null ||
    image === null ||
    image.leader !== answer.from ||
    image.leaderEpoch !== answer.leaderEpoch ||
    replica.log.length !== answer.fetchOffset
  ) {
    return { state, outcome: "ignored (stale)" };
  }
  let updated: Replica;
  let outcome: string;
  let truncated = state.truncated;
  if (answer.type === "FetchDiverging") {
    const starts = epochStartsOf(replica.log.map((e) => e.epoch));
    const end = truncationOffset(starts, replica.log.length, {
      epoch: answer.epoch,
      endOffset: answer.endOffset,
    });
    updated = { log: replica.log.slice(0, end), highWatermark: Math.min(replica.highWatermark, end) };
    outcome = `truncated to ${end}`;
    truncated ||= end < replica.log.length;
  } else {
    const log = [...replica.log, ...answer.records];
    const highWatermark = Math.max(replica.highWatermark, Math.min(answer.highWatermark, log.length));
    updated = { log, highWatermark };
    outcome = `appended ${count(answer.records.length)}, hw ${highWatermark}`;
  }
  const s = withNode(truncated === state.truncated ? state : { ...state, truncated }, {
    ...node,
    replica: updated,
  });
  return { state: sendFetch(rt, s, node.id), outcome };
}

/** The AlterPartition request for the change the node's ISR machine has pending, if any. */
export function pendingAlterPartition(node: PartitionNode): AlterPartitionRequest | null {
  const machine = node.isr;
  if (machine === null || machine.context.pendingIsrChange === null) return null;
  return alterPartitionRequest(machine.context);
}
