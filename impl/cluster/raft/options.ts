/**
 * What a RaftNode is built from, and its limits. Defaults follow KRaft's
 * (quorum.election.timeout.ms, quorum.fetch.timeout.ms, the 500 ms fetch
 * long poll); every queue and wait has a bound named with its unit last.
 */

import type { InspectionEvent } from "xstate";
import type { RaftQuorumMachine } from "../../../machines/raft-quorum.ts";
import type { Logger } from "../../log.ts";
import type { QuorumStateRecord } from "../quorum-state-file.ts";
import type { RaftClock } from "./clock.ts";
import type { RaftRole } from "./core.ts";
import type { RaftLog } from "./raft-log.ts";
import type { RaftTransport } from "./raft-transport.ts";

/** Where the quorum-state file lives: QuorumStateFile in production, a stub in tests. */
export interface QuorumStateStore {
  read(): Promise<QuorumStateRecord | null>;
  /** Resolves once the state is durable (the file is fsynced); a rejection is fatal for the node. */
  write(state: QuorumStateRecord): Promise<void>;
}

export interface RaftSettings {
  /** A follower or candidate that hears nothing for this long (plus jitter) stands for election. */
  electionTimeoutMs: number;
  /** Up to this much is added to each election timeout at random, so candidates rarely collide. */
  electionJitterMs: number;
  /** After EndQuorumEpoch, the election timer is cut to a random wait up to this. */
  electionBackoffMaxMs: number;
  /** A follower that fetched within this refuses pre-votes (KIP-996); the machine's fetchTimeoutMs. */
  fetchTimeoutMs: number;
  /** A leader that no majority fetched from within this resigns (check quorum). */
  checkQuorumTimeoutMs: number;
  /** How often clock.ticked reaches the machine. */
  tickIntervalMs: number;
  /** How long a leader holds a fetch that has nothing new (the long poll). */
  fetchMaxWaitMs: number;
  /** Entries one fetch answer carries at most. */
  fetchEntriesMax: number;
  /** Waits between fetch attempts after an error, doubling up to fetchBackoffMaxMs. */
  fetchBackoffMs: number;
  fetchBackoffMaxMs: number;
  /** Fetches a leader holds at once; beyond it, a fetch is answered at once. */
  waitingFetchesMax: number;
  /** Effects waiting at most; an inbound request that would pass it is refused as busy. */
  effectQueueMax: number;
  /** The leader's own appends waiting for commit at most. */
  pendingAppendsMax: number;
}

export const raftDefaults: RaftSettings = {
  electionTimeoutMs: 1_000,
  electionJitterMs: 1_000,
  electionBackoffMaxMs: 1_000,
  fetchTimeoutMs: 2_000,
  checkQuorumTimeoutMs: 3_000,
  tickIntervalMs: 100,
  fetchMaxWaitMs: 500,
  fetchEntriesMax: 1_000,
  fetchBackoffMs: 50,
  fetchBackoffMaxMs: 1_000,
  waitingFetchesMax: 1_024,
  effectQueueMax: 10_000,
  pendingAppendsMax: 10_000,
};

/** Kafka's controller.quorum.* timing settings, as `chronik start` takes them. */
export interface KafkaQuorumTimeouts {
  /** controller.quorum.election.timeout.ms: each election timeout is this plus a random part as long. */
  electionTimeoutMs: number;
  /** controller.quorum.fetch.timeout.ms: also sets the leader's check-quorum window. */
  fetchTimeoutMs: number;
  /** controller.quorum.election.backoff.max.ms */
  electionBackoffMaxMs: number;
}

/** Kafka's leader resigns when no majority fetched within 1.5 fetch timeouts (LeaderState's check-quorum factor). */
const checkQuorumTimeoutFactor = 1.5;

/** The runtime's settings for Kafka's: the election timeout randomized in [T, 2T), check quorum at 1.5 fetch timeouts. */
export function raftSettingsOf(timeouts: KafkaQuorumTimeouts): Partial<RaftSettings> {
  return {
    electionTimeoutMs: timeouts.electionTimeoutMs,
    electionJitterMs: timeouts.electionTimeoutMs,
    electionBackoffMaxMs: timeouts.electionBackoffMaxMs,
    fetchTimeoutMs: timeouts.fetchTimeoutMs,
    checkQuorumTimeoutMs: Math.round(timeouts.fetchTimeoutMs * checkQuorumTimeoutFactor),
  };
}

export interface LeadershipChange {
  role: RaftRole;
  epoch: number;
  leaderId: number | null;
  /** A leader's: the offset of its leader-change entry, its first of the epoch. Null otherwise. */
  epochStartOffset: number | null;
}

export interface RaftNodeOptions {
  nodeId: number;
  /** The voters before any voters entry in the log (--voters); a node outside them starts as an observer. */
  initialVoters: number[];
  log: RaftLog;
  quorumState: QuorumStateStore;
  transport: RaftTransport;
  clock: RaftClock;
  logger: Logger;
  settings?: Partial<RaftSettings>;
  /** Entries below this are known committed (the applied metadata image's end at restart). */
  highWatermark?: number;
  /**
   * The high watermark moved: entries below it are committed, apply them in
   * order. Awaited, in order with every other effect, so a slow applier holds
   * up the node: one with real work to do queues it and returns. It must not
   * await this node's own methods (they wait for the effects, which wait for it).
   */
  onCommitted?: (highWatermark: number) => void | Promise<void>;
  /**
   * The role, epoch or known leader changed (called after the step, before its
   * effects run; possibly before RaftNode.start has resolved). For observers of the quorum (the broker's controller and its
   * forwarding); it must not call back into the node synchronously.
   */
  onLeadershipChange?: (view: LeadershipChange) => void;
  /** The quorum machine to run; a variant (a mutant, a candidate fix) for tests. Default raftQuorumMachine. */
  machine?: RaftQuorumMachine;
  /** The node failed (a persist or an append failed, an invariant broke) and stopped; Kafka exits here. */
  onFatal?: (error: Error) => void;
  /** Sees every step of the quorum machine (the transition trace, `--trace`). */
  inspect?: (inspection: InspectionEvent) => void;
}

export function resolveSettings(settings: Partial<RaftSettings> | undefined): RaftSettings {
  const resolved = { ...raftDefaults, ...settings };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`raft setting ${name} must be >= 0, not ${value}`);
  }
  for (const name of ["effectQueueMax", "fetchEntriesMax", "tickIntervalMs"] as const) {
    if (resolved[name] < 1) throw new Error(`raft setting ${name} must be >= 1, not ${resolved[name]}`);
  }
  return resolved;
}
