/**
 * The state of the cluster models that replicate one data partition (the
 * replication and metadata-before-data models), their options, and the
 * helpers every part of them uses: the partition as a node's metadata image
 * (the controller's records replayed with the lifecycle machine's own
 * `applyPartitionChangeRecord`), one-line summaries for transcripts, and the
 * bounded network.
 */
import type { AnyStateMachine } from "xstate";
import type { Context as IsrContext, Event as IsrEvent, Input as IsrInput } from "../../machines/isr.ts";
import {
  applyPartitionChangeRecord,
  leaderUnchanged,
  type PartitionLifecycleContext,
  type PartitionLifecycleEvent,
  type PartitionLifecycleInput,
  type PartitionMetadataRecord,
  type PartitionState,
} from "../../machines/partition-lifecycle.ts";
import { canonicalize } from "../checker/serialize.ts";
import type { AckedRecord, DataEntry, PartitionLeaderSeen } from "../invariants/index.ts";
import type { MachineNode, MachineStepper } from "./machine-stepper.ts";

export const TOPIC_ID = "t";
export const PARTITION_ID = 0;
/** The partition's name in the cluster view. */
export const PARTITION = `${TOPIC_ID}-${PARTITION_ID}`;

/** A node's replica of the partition, durable; the log starts at offset 0, so the record at offset i is log[i]. */
export interface Replica {
  log: DataEntry[];
  highWatermark: number;
}

export interface PartitionNode {
  id: number;
  up: boolean;
  /** How many records of the controller's metadata log this node applied (durable). */
  applied: number;
  /** Null until the node creates its replica. */
  replica: Replica | null;
  /** The ISR machine while this node leads; lost in a crash. */
  isr: MachineNode<IsrContext> | null;
  /** An AlterPartition is unanswered: if it or its answer is lost, the runtime sends it again. */
  awaitingAlterPartition: boolean;
}

export interface AlterPartitionRequest {
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
}

export type Message =
  | {
      type: "Fetch";
      from: number;
      to: number;
      leaderEpoch: number;
      fetchOffset: number;
      lastFetchedEpoch: number;
    }
  | {
      type: "FetchAnswer";
      from: number;
      to: number;
      leaderEpoch: number;
      fetchOffset: number;
      records: DataEntry[];
      highWatermark: number;
    }
  | {
      type: "FetchDiverging";
      from: number;
      to: number;
      leaderEpoch: number;
      fetchOffset: number;
      epoch: number;
      endOffset: number;
    }
  | ({ type: "AlterPartition"; from: number } & AlterPartitionRequest)
  | {
      type: "AlterPartitionAnswer";
      to: number;
      errorCode: number;
      errorName: string;
      leaderEpoch: number;
      partitionEpoch: number;
      isr: number[];
      /** The request it answers, so the leader can tell an answer to an earlier request. */
      request: AlterPartitionRequest;
      /** Sent once the metadata log has committed this many records (Kafka answers after the commit). */
      committedAt: number;
    };

/** How far "the ISR shrank through AlterPartition and expanded again" has got. */
export type IsrStory = "none" | "shrank" | "shrankAndExpanded";

export interface ClusterState {
  /** The global clock; fetches and ticks carry it. */
  nowMs: number;
  ticks: number;
  /** The controller's partition lifecycle machine. */
  controller: MachineNode<PartitionLifecycleContext>;
  /** The controller's broker registry: fenced brokers, ascending. */
  fenced: number[];
  /** The controller's metadata log (only this partition's records). */
  metadata: PartitionMetadataRecord[];
  /** Records of `metadata` committed. */
  committed: number;
  nodes: PartitionNode[];
  /** In flight: a multiset kept sorted by canonical serialization. */
  messages: Message[];
  /** Produce requests sent so far; request n carries record "r<n>". */
  produced: number;
  /** Ghost: every acks=all record acknowledged, by offset. */
  acked: AckedRecord[];
  /** Ghost: every (leader epoch, node) that acted as leader, sorted. */
  leaders: PartitionLeaderSeen[];
  crashes: number;
  /** Controlled shutdowns begun so far. */
  shutdowns: number;
  drops: number;
  isrStory: IsrStory;
  /** Ghost: a follower has truncated records off its log on a diverging epoch. */
  truncated: boolean;
}

/** Mistakes in the runtime that mutants switch on; the real runtime has none. */
export interface RuntimeFaults {
  /** On a new leader epoch a follower truncates to its high watermark (Kafka before KIP-101). */
  truncateToHighWatermarkOnNewEpoch?: boolean;
  /** A follower takes the partition's leader from the committed metadata log, applied or not. */
  followerReadsUnappliedMetadata?: boolean;
  /** A node applies metadata records before they commit. */
  applyUncommittedMetadata?: boolean;
  /** The controller's AlterPartition answer goes out before the record it answers for commits. */
  answerAlterPartitionBeforeCommit?: boolean;
}

export interface ClusterOptions {
  /** The ISR machine every leader runs: the real one or a mutant from `isrMachine.provide(...)`. */
  isrMachine: AnyStateMachine;
  nodeIds: number[];
  replicaLagMsMax: number;
  minInsyncReplicas: number;
  waitingProducesMax: number;
  /** acks=all produce requests in all. */
  maxProduce: number;
  /** Times the clock jumps past replica.lag.time.max.ms. */
  maxTicks: number;
  maxCrashes: number;
  /**
   * Times a node may begin a controlled shutdown (BrokerHeartbeat
   * want_shut_down: the controller tells its lifecycle machine
   * broker.shutdownStarted); the node stops later by a crash. None by default.
   */
  maxControlledShutdowns?: number;
  /** Messages the network may lose in all. */
  maxDrops: number;
  /** Messages in flight at most; a send beyond it is lost. */
  maxMessages: number;
  /** The controller's records commit as they are appended (its own quorum is the quorum model's concern). */
  commitOnAppend: boolean;
  faults: RuntimeFaults;
}

export interface Runtime {
  options: ClusterOptions;
  isr: MachineStepper<IsrContext, IsrEvent, IsrInput>;
  lifecycle: MachineStepper<PartitionLifecycleContext, PartitionLifecycleEvent, PartitionLifecycleInput>;
}

// --- the metadata image -------------------------------------------------------------------

const images = new WeakMap<readonly PartitionMetadataRecord[], Array<PartitionState | null>>();

/** The partition as the first `count` records of `records` leave it, replayed as every node's image does. */
export function imageAt(records: readonly PartitionMetadataRecord[], count: number): PartitionState | null {
  let memo = images.get(records);
  if (memo === undefined) {
    memo = [null];
    images.set(records, memo);
  }
  for (let i = memo.length; i <= count; i++) memo.push(replayOne(memo[i - 1]!, records[i - 1]!));
  return memo[count]!;
}

function replayOne(image: PartitionState | null, record: PartitionMetadataRecord): PartitionState | null {
  switch (record.type) {
    case "PartitionRecord": {
      const v = record.value;
      return {
        topicId: v.topicId,
        partitionId: v.partitionId,
        replicas: v.replicas,
        isr: v.isr,
        leader: v.leader,
        leaderEpoch: v.leaderEpoch,
        partitionEpoch: v.partitionEpoch,
        fencedBrokers: [],
        shuttingDownBrokers: [],
        uncleanLeaderElectionEnabled: false,
      };
    }
    case "PartitionChangeRecord":
      return image === null ? null : applyPartitionChangeRecord(image, record);
    case "RemoveTopicRecord":
      return null;
  }
}

/** A record as one comparable line: the cluster view's MetadataEntry.record. */
export function recordSummary(record: PartitionMetadataRecord): string {
  switch (record.type) {
    case "PartitionRecord": {
      const v = record.value;
      return `PartitionRecord ${PARTITION} replicas ${list(v.replicas)} isr ${list(v.isr)} leader ${v.leader}`;
    }
    case "PartitionChangeRecord": {
      const v = record.value;
      const isr = v.isr === null ? "" : ` isr ${list(v.isr)}`;
      const leader = v.leader === leaderUnchanged ? "" : ` leader ${v.leader}`;
      return `PartitionChangeRecord ${PARTITION}${isr}${leader}`;
    }
    case "RemoveTopicRecord":
      return `RemoveTopicRecord ${record.value.topicId}`;
  }
}

export function count(records: number): string {
  return `${records} record${records === 1 ? "" : "s"}`;
}

export function list(ids: readonly number[]): string {
  return `[${ids.join(",")}]`;
}

/** The image a node serves from: what it applied. */
export function appliedImage(state: ClusterState, node: PartitionNode): PartitionState | null {
  return imageAt(state.metadata, node.applied);
}

// --- small helpers over the state ---------------------------------------------------------

export function nodeOf(state: ClusterState, id: number): PartitionNode {
  const node = state.nodes.find((n) => n.id === id);
  if (node === undefined) throw new Error(`model: no node ${id}`);
  return node;
}

export function withNode(state: ClusterState, node: PartitionNode): ClusterState {
  return { ...state, nodes: state.nodes.map((n) => (n.id === node.id ? node : n)) };
}

export function logEnd(replica: Replica | null): number {
  return replica?.log.length ?? 0;
}

/** Adds a message to the network, unless it is full or its node is down (then the send is lost). */
export function send(rt: Runtime, state: ClusterState, message: Message): ClusterState {
  if (state.messages.length >= rt.options.maxMessages) return state;
  if ("to" in message && !nodeOf(state, message.to).up) return state;
  return { ...state, messages: sortMessages([...state.messages, message]) };
}

export function sortMessages(messages: Message[]): Message[] {
  return messages
    .map((m) => [canonicalize(m), m] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, m]) => m);
}

/** A one-line name for a message, for transcripts. */
export function messageLabel(m: Message): string {
  switch (m.type) {
    case "Fetch":
      return `n${m.from}→n${m.to} Fetch(epoch ${m.leaderEpoch}, offset ${m.fetchOffset}, last epoch ${m.lastFetchedEpoch})`;
    case "FetchAnswer":
      return (
        `n${m.from}→n${m.to} FetchAnswer(epoch ${m.leaderEpoch}, offset ${m.fetchOffset}, ` +
        `[${m.records.map((r) => r.id).join(",")}], hw ${m.highWatermark})`
      );
    case "FetchDiverging":
      return `n${m.from}→n${m.to} FetchAnswer(epoch ${m.leaderEpoch}, diverging epoch ${m.epoch} end ${m.endOffset})`;
    case "AlterPartition":
      return `n${m.from}→controller AlterPartition(epochs ${m.leaderEpoch}/${m.partitionEpoch}, isr ${list(m.newIsr)})`;
    case "AlterPartitionAnswer":
      return (
        `controller→n${m.to} AlterPartitionAnswer(${m.errorName}, epochs ${m.leaderEpoch}/${m.partitionEpoch}, ` +
        `isr ${list(m.isr)})`
      );
  }
}
