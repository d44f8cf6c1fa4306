/**
 * The quorum's messages between nodes, as plain data, and the two sides that
 * carry them: a RaftTransport sends a request to a node and resolves with its
 * answer (rejecting when the network fails), a RaftRpcHandler (a RaftNode)
 * answers it. The production transport will wrap the peer client and the
 * Kafka APIs (Vote 52, BeginQuorumEpoch 53, EndQuorumEpoch 54, Fetch 1); tests
 * connect nodes in process (in-process-transport.ts). Error names are Kafka's
 * (impl/protocol/error-codes.ts maps them to codes).
 */
import type { EpochEnd } from "../../../machines/log-divergence.ts";
import type { RaftEntry } from "./raft-log.ts";

export interface VoteRequest {
  candidateId: number;
  epoch: number;
  /** The candidate's log end: the epoch of its last entry and its end offset. */
  lastEpoch: number;
  endOffset: number;
  /** KIP-996: a pre-vote asks whether the voter would vote, and changes nothing on it. */
  preVote: boolean;
}

export interface VoteResponse {
  voterId: number;
  /** The voter's epoch after it handled the request. */
  epoch: number;
  granted: boolean;
  /** The leader the voter knows in that epoch, if any: a candidate that missed it may follow it. */
  leaderId: number | null;
}

/** BeginQuorumEpoch and EndQuorumEpoch: the leader of `epoch` took or gave up leadership. */
export interface LeaderEpochRequest {
  leaderId: number;
  epoch: number;
}

export type LeaderEpochErrorName = "NONE" | "FENCED_LEADER_EPOCH";

export interface LeaderEpochResponse {
  errorName: LeaderEpochErrorName;
  /** The receiver's epoch and leader after it handled the request. */
  epoch: number;
  leaderId: number | null;
}

export interface FetchRequest {
  replicaId: number;
  /** The fetcher's epoch: the leader answers only fetches of its own epoch. */
  epoch: number;
  /** The fetcher's log end, and the epoch of its last entry there (KIP-595's divergence check). */
  fetchOffset: number;
  lastFetchedEpoch: number;
  /** How long the leader may hold the fetch when it has nothing new. */
  maxWaitMs: number;
  maxEntries: number;
}

export type FetchErrorName =
  | "NONE"
  | "FENCED_LEADER_EPOCH"
  | "NOT_LEADER_OR_FOLLOWER"
  | "UNKNOWN_LEADER_EPOCH";

export interface FetchResponse {
  errorName: FetchErrorName;
  /** The answering node's epoch and the leader it knows: on an error, where to fetch instead. */
  epoch: number;
  leaderId: number | null;
  highWatermark: number;
  /** Set when the fetch position does not match the leader's log: truncate, nothing appended. */
  diverging: EpochEnd | null;
  /** The leader's entries from fetchOffset on (empty on an error or a divergence). */
  records: RaftEntry[];
}

export interface RaftTransport {
  vote(to: number, request: VoteRequest): Promise<VoteResponse>;
  beginQuorumEpoch(to: number, request: LeaderEpochRequest): Promise<LeaderEpochResponse>;
  endQuorumEpoch(to: number, request: LeaderEpochRequest): Promise<LeaderEpochResponse>;
  fetch(to: number, request: FetchRequest): Promise<FetchResponse>;
}

/** The receiving side: what a RaftNode answers, and what a server's API handlers call. */
export interface RaftRpcHandler {
  handleVote(request: VoteRequest): Promise<VoteResponse>;
  handleBeginQuorumEpoch(request: LeaderEpochRequest): Promise<LeaderEpochResponse>;
  handleEndQuorumEpoch(request: LeaderEpochRequest): Promise<LeaderEpochResponse>;
  handleFetch(request: FetchRequest): Promise<FetchResponse>;
}
