/**
 * The metadata quorum's messages over the Kafka protocol: a RaftTransport whose
 * requests are Kafka's own, for `__chronik_metadata` partition 0, sent to the
 * other nodes through the peer pool, so tshark's Kafka dissector reads them.
 *
 * Versions, each the oldest that carries everything the runtime says:
 * - Vote v2: the first with pre_vote (KIP-996). The directory ids of v1+ go
 *   as the zero UUID, "none": this node has no directory ids.
 * - BeginQuorumEpoch v0 and EndQuorumEpoch v0: cluster id, leader and epoch.
 *   v1 adds the voter's directory id and the leader's listeners, neither of
 *   which this transport knows.
 * - Fetch v12: the last that names the topic (v13+ name it by id, and the
 *   metadata partition has none), and the first with last_fetched_epoch and
 *   the diverging-epoch and current-leader answers (KIP-595); the replica id
 *   travels in replica_id.
 *
 * A network failure, a refusal with an error code the runtime has no name
 * for, or a malformed answer rejects (wire-transport-responses.ts); the
 * RaftNode takes any rejection as a lost message.
 */
import { metadataTopicName } from "../../metadata/internal-topics.ts";
import { beginQuorumEpochApi } from "../../protocol/apis/begin-quorum-epoch.ts";
import { endQuorumEpochApi } from "../../protocol/apis/end-quorum-epoch.ts";
import { fetchApi } from "../../protocol/apis/fetch.ts";
import { voteApi } from "../../protocol/apis/vote.ts";
import { zeroUuid } from "../../protocol/schema.ts";
import type { PeerPool } from "../peer-pool.ts";
import type {
  FetchRequest,
  FetchResponse,
  LeaderEpochRequest,
  LeaderEpochResponse,
  RaftTransport,
  VoteRequest,
  VoteResponse,
} from "./raft-transport.ts";
import { readFetchAnswer, readLeaderEpochAnswer, readVoteAnswer } from "./wire-transport-responses.ts";

export const quorumApiVersions = { vote: 2, beginQuorumEpoch: 0, endQuorumEpoch: 0, fetch: 12 } as const;

export const wireRaftDefaults = {
  /** How long Vote, BeginQuorumEpoch and EndQuorumEpoch wait for an answer (quorum.request.timeout.ms). */
  requestTimeoutMs: 2_000,
  /** Bytes of entries one fetch answer carries at most (KRaft's fetch limit). */
  fetchBytesMax: 8 * 1024 * 1024,
} as const;

export interface WireRaftTransportOptions {
  /** The quorum's connections to the other nodes; only `send` is used. */
  pool: Pick<PeerPool, "send">;
  clusterId: string;
  /** This node: every request it sends names it (candidate, leader, fetching replica). */
  nodeId: number;
  /** For Vote and the epoch announcements; a fetch waits its own maxWaitMs on top. */
  requestTimeoutMs?: number;
  fetchBytesMax?: number;
}

const int32Max = 0x7fffffff;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > int32Max) {
    throw new RangeError(`${name} must be an integer in 1..${int32Max}, got ${value}`);
  }
  return value;
}

export class WireRaftTransport implements RaftTransport {
  private readonly pool: Pick<PeerPool, "send">;
  private readonly clusterId: string;
  private readonly nodeId: number;
  private readonly requestTimeoutMs: number;
  private readonly fetchBytesMax: number;

  constructor(options: WireRaftTransportOptions) {
    this.pool = options.pool;
    this.clusterId = options.clusterId;
    this.nodeId = options.nodeId;
    this.requestTimeoutMs = positiveInteger(
      "requestTimeoutMs",
      options.requestTimeoutMs ?? wireRaftDefaults.requestTimeoutMs,
    );
    this.fetchBytesMax = positiveInteger(
      "fetchBytesMax",
      options.fetchBytesMax ?? wireRaftDefaults.fetchBytesMax,
    );
  }

  async vote(to: number, request: VoteRequest): Promise<VoteResponse> {
    this.checkSender("Vote", to, request.candidateId);
    const partition = votePartition(request);
    const answer = await this.pool.send(
      to,
      voteApi,
      quorumApiVersions.vote,
      {
        clusterId: this.clusterId,
        voterId: to,
        topics: [{ topicName: metadataTopicName, partitions: [partition] }],
      },
      { timeoutMs: this.requestTimeoutMs },
    );
    return readVoteAnswer(to, answer);
  }

  async beginQuorumEpoch(to: number, request: LeaderEpochRequest): Promise<LeaderEpochResponse> {
    this.checkSender("BeginQuorumEpoch", to, request.leaderId);
    const partition = { partitionIndex: 0, leaderId: request.leaderId, leaderEpoch: request.epoch };
    const answer = await this.pool.send(
      to,
      beginQuorumEpochApi,
      quorumApiVersions.beginQuorumEpoch,
      { clusterId: this.clusterId, topics: [{ topicName: metadataTopicName, partitions: [partition] }] },
      { timeoutMs: this.requestTimeoutMs },
    );
    return readLeaderEpochAnswer("BeginQuorumEpoch", to, answer);
  }

  async endQuorumEpoch(to: number, request: LeaderEpochRequest): Promise<LeaderEpochResponse> {
    this.checkSender("EndQuorumEpoch", to, request.leaderId);
    // The runtime names no successors: every voter campaigns after its own backoff.
    const partition = {
      partitionIndex: 0,
      leaderId: request.leaderId,
      leaderEpoch: request.epoch,
      preferredSuccessors: [],
    };
    const answer = await this.pool.send(
      to,
      endQuorumEpochApi,
      quorumApiVersions.endQuorumEpoch,
      { clusterId: this.clusterId, topics: [{ topicName: metadataTopicName, partitions: [partition] }] },
      { timeoutMs: this.requestTimeoutMs },
    );
    return readLeaderEpochAnswer("EndQuorumEpoch", to, answer);
  }

  async fetch(to: number, request: FetchRequest): Promise<FetchResponse> {
    this.checkSender("Fetch", to, request.replicaId);
    if (!Number.isInteger(request.maxWaitMs) || request.maxWaitMs < 0 || request.maxWaitMs > int32Max) {
      throw new RangeError(`Fetch maxWaitMs must be an integer in 0..${int32Max}, got ${request.maxWaitMs}`);
    }
    const partition = {
      partition: 0,
      currentLeaderEpoch: request.epoch,
      fetchOffset: BigInt(request.fetchOffset),
      lastFetchedEpoch: request.lastFetchedEpoch,
      partitionMaxBytes: this.fetchBytesMax,
    };
    const answer = await this.pool.send(
      to,
      fetchApi,
      quorumApiVersions.fetch,
      {
        clusterId: this.clusterId,
        replicaId: request.replicaId,
        maxWaitMs: request.maxWaitMs,
        // The leader answers as soon as it has an entry or a new high watermark, or when the wait ends.
        minBytes: 1,
        maxBytes: this.fetchBytesMax,
        topics: [{ topic: metadataTopicName, partitions: [partition] }],
      },
      // The leader may hold the fetch for maxWaitMs before it answers.
      { timeoutMs: request.maxWaitMs + this.requestTimeoutMs },
    );
    return readFetchAnswer(to, request, answer);
  }

  /** A request names this node as its sender and goes to another node: anything else is the caller's bug. */
  private checkSender(api: string, to: number, sender: number): void {
    if (sender !== this.nodeId)
      throw new RangeError(`${api} from node ${sender} sent by node ${this.nodeId}`);
    if (to === this.nodeId) throw new RangeError(`${api} from node ${this.nodeId} to itself`);
  }
}

/** The metadata partition's entry of a Vote request from a candidate (or a pre-vote). */
export function votePartition(
  request: Pick<VoteRequest, "epoch" | "candidateId" | "lastEpoch" | "endOffset" | "preVote">,
) {
  return {
    partitionIndex: 0,
    candidateEpoch: request.epoch,
    candidateId: request.candidateId,
    candidateDirectoryId: zeroUuid,
    voterDirectoryId: zeroUuid,
    lastOffsetEpoch: request.lastEpoch,
    // Kafka's candidates send their log end offset here, as the machine's endOffset is.
    lastOffset: BigInt(request.endOffset),
    preVote: request.preVote,
  };
}
