/**
 * The Quorum model's state as plain data: each node's Raft quorum machine
 * (value and context), what it persisted, its metadata log; the messages in
 * flight; the clock; and ghost variables the invariants and `sometimes`
 * properties read (leaders seen, the committed log, membership changes).
 */

import type { EpochEnd } from "../../machines/log-divergence.ts";
import type { Context, Event } from "../../machines/raft-quorum.ts";
import { canonicalize } from "../checker/serialize.ts";
import type { QuorumLeaderSeen } from "../invariants/index.ts";
import type { MachineNode } from "./machine-stepper.ts";

/** One record of the metadata log. Offsets are array positions. */
export interface LogEntry {
  /** The Raft epoch it was appended in. */
  epoch: number;
  /** "LeaderChange n1", "Voters [1,2,3,4]" or a client record "r1". */
  record: string;
  /** Set only on a voters record: the voter set it installs. */
  voters?: number[];
}

/** What persistQuorumState wrote: the quorum-state file. */
export interface Persisted {
  epoch: number;
  votedFor: number | null;
}

export interface QuorumNode {
  id: number;
  /** The running machine; null while the node is down. */
  machine: MachineNode<Context> | null;
  persisted: Persisted;
  /** The durable log: every append is on disk before the machine hears of it. */
  log: LogEntry[];
}

/** The quorum messages that are the machine's own events. */
export type QuorumEvent = Extract<
  Event,
  { type: "vote.requested" | "vote.answered" | "leader.announced" | "leader.resigned" }
>;

export type Message =
  | { from: number; to: number; kind: "event"; event: QuorumEvent }
  | { from: number; to: number; kind: "fetch"; epoch: number; fetchOffset: number; lastFetchedEpoch: number }
  | {
      from: number;
      to: number;
      kind: "fetchAnswer";
      epoch: number;
      leaderId: number;
      highWatermark: number;
      fetchOffset: number;
      records: LogEntry[];
      /** Set when the fetch position did not match the leader's log: truncate, append nothing. */
      diverging: EpochEnd | null;
    };

export interface Ghost {
  /** Every (epoch, leader) seen so far, sorted. */
  leaders: QuorumLeaderSeen[];
  /** The committed metadata log as the leaders published it, and its end. */
  committed: LogEntry[];
  votersAdded: number;
  votersRemoved: number;
  /** Times a follower cut records off its log on a diverging Fetch answer. */
  truncations: number;
  /** The first time a node persisted an epoch below one it had persisted before. */
  epochRegression: string | null;
  /** The epochs in which a leader's removal of itself committed, sorted. */
  selfRemovalEpochs: number[];
}

/**
 * What the exploration from a starting point may do at most: elections up to
 * `maxEpoch`, and so many of each environment move. A model's scenarios may
 * each have their own.
 */
export interface Budget {
  /** No election timer fires on a node already in this epoch. */
  maxEpoch: number;
  ticks: number;
  crashes: number;
  duplicates: number;
  appends: number;
  membershipRequests: number;
}

export interface QuorumState {
  nodes: QuorumNode[];
  /** In flight: a multiset, sorted by canonical serialization; any may be delivered next. */
  messages: Message[];
  nowMs: number;
  /** The budgets of the scenario this state was reached from. */
  budget: Budget;
  /** Budgets spent, each bounded by `budget`. */
  spent: {
    ticks: number;
    crashes: number;
    restarts: number;
    duplicates: number;
    appends: number;
    membershipRequests: number;
  };
  ghost: Ghost;
}

export function isUp(node: QuorumNode): node is QuorumNode & { machine: MachineNode<Context> } {
  return node.machine !== null;
}

/** The state name of a running node's machine. */
export function roleOf(node: QuorumNode): string {
  return node.machine === null ? "down" : String(node.machine.value);
}

/** The voter set the latest voters record in `log` installs, or `initial` when there is none. */
export function votersOf(log: readonly LogEntry[], initial: readonly number[]): number[] {
  for (let i = log.length - 1; i >= 0; i--) {
    const voters = log[i]!.voters;
    if (voters !== undefined) return voters;
  }
  return [...initial];
}

export function lastEpochOf(log: readonly LogEntry[]): number {
  return log[log.length - 1]?.epoch ?? 0;
}

export function sortMessages(messages: Message[]): Message[] {
  return messages
    .map((m) => [canonicalize(m), m] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, m]) => m);
}

export function who(id: number | null): string {
  return id === null ? "none" : `n${id}`;
}

/** A transcript name for a message: `n2→n1 Vote(epoch 2, pre, log 1:3)`. */
export function messageLabel(m: Message): string {
  const route = `n${m.from}→n${m.to}`;
  if (m.kind === "fetch")
    return `${route} Fetch(epoch ${m.epoch}, offset ${m.fetchOffset}, last epoch ${m.lastFetchedEpoch})`;
  if (m.kind === "fetchAnswer") {
    const body =
      m.diverging !== null
        ? `diverging at epoch ${m.diverging.epoch} end ${m.diverging.endOffset}`
        : m.records.length === 0
          ? "no records"
          : `records ${m.records.map((r) => r.record).join(", ")} from ${m.fetchOffset}`;
    return `${route} FetchAnswer(epoch ${m.epoch}, ${body}, hw ${m.highWatermark})`;
  }
  const e = m.event;
  switch (e.type) {
    case "vote.requested":
      return `${route} Vote(epoch ${e.epoch}${e.preVote ? ", pre" : ""}, log ${e.lastEpoch}:${e.endOffset})`;
    case "vote.answered":
      return `${route} VoteAnswer(epoch ${e.epoch}${e.preVote ? ", pre" : ""}, ${e.granted ? "granted" : "refused"})`;
    case "leader.announced":
      return `${route} BeginQuorumEpoch(epoch ${e.epoch}, leader n${e.leaderId})`;
    case "leader.resigned":
      return `${route} EndQuorumEpoch(epoch ${e.epoch}, leader n${e.leaderId})`;
  }
}

/** A log as one short string: `1:LeaderChange n1 | 1:r1`. */
export function logSummary(log: readonly LogEntry[]): string {
  return log.map((e) => `${e.epoch}:${e.record}`).join(" | ") || "empty";
}
