/**
 * The metadata log as the Raft runtime sees it: numbered entries, each with
 * the epoch it was appended in, ending at `endOffset`. The runtime never
 * touches storage itself; the in-memory log (tests) and, later, the metadata
 * partition implement this. Every write resolves only once it is durable,
 * because the machine is told of an append (log.appended) only after that.
 */
import type { EpochStart } from "../../../machines/log-divergence.ts";

export type RaftEntryKind = "data" | "leaderChange" | "voters";

export interface RaftEntry {
  offset: number;
  /** The Raft epoch of the leader that appended it. */
  epoch: number;
  kind: RaftEntryKind;
  payload: Uint8Array;
}

/** What a leader hands its log; the log gives the offsets. */
export interface NewRaftEntry {
  kind: RaftEntryKind;
  payload: Uint8Array;
}

export interface RaftLog {
  /** The offset the next entry gets: every entry below it is durable. */
  endOffset(): number;
  /** The epoch of the last entry, 0 when the log is empty. */
  lastEpoch(): number;
  /** Where each epoch starts, ascending (the leader-epoch cache), for the divergence rules. */
  epochStarts(): EpochStart[];
  /** Appends at the log end in `epoch`, resolving with the entries (offsets given) once durable. */
  appendAsLeader(entries: readonly NewRaftEntry[], epoch: number): Promise<RaftEntry[]>;
  /** Appends a leader's entries as they are (offsets from endOffset on, epochs never decreasing), durably. */
  appendAsFollower(entries: readonly RaftEntry[]): Promise<void>;
  /** Removes every entry at or above `offset`, durably. */
  truncateTo(offset: number): Promise<void>;
  /** Up to `maxEntries` entries from `fromOffset` on (fewer at the log end). */
  read(fromOffset: number, maxEntries: number): Promise<RaftEntry[]>;
  /** The voter set of the latest voters entry, or null when the log holds none. */
  latestVoters(): number[] | null;
}

/*
 * The payloads of the runtime's own control entries. Kafka writes these as
 * LeaderChangeMessage and VotersRecord control records; the log that stores
 * them decides their bytes on disk, and only has to give these back.
 */

export interface LeaderChangePayload {
  leaderId: number;
  voters: number[];
}

export function encodeLeaderChange(payload: LeaderChangePayload): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ leaderId: payload.leaderId, voters: payload.voters }));
}

export function encodeVoters(voters: readonly number[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ voters }));
}

export function decodeVoters(payload: Uint8Array): number[] {
  const parsed = JSON.parse(new TextDecoder().decode(payload)) as { voters?: unknown };
  const voters = parsed.voters;
  if (!Array.isArray(voters) || !voters.every((id) => Number.isInteger(id) && id >= 0)) {
    throw new Error("raft: a voters entry without a list of node ids");
  }
  return voters as number[];
}
