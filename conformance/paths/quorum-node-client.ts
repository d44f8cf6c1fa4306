/**
 * The test's requests to the node under test, as the peers it plays (a
 * candidate asking for a vote, a leader announcing or ending its epoch, a
 * replica fetching the metadata log) or as an operator (AddRaftVoter,
 * RemoveRaftVoter, DescribeQuorum), each on a connection of its own: the node
 * answers in request order per connection, and a voter change is answered
 * only once it commits.
 */
import { quorumApiVersions, votePartition } from "../../impl/cluster/raft/wire-transport.ts";
import { metadataTopicName } from "../../impl/metadata/internal-topics.ts";
import { addRaftVoterApi } from "../../impl/protocol/apis/add-raft-voter.ts";
import { beginQuorumEpochApi } from "../../impl/protocol/apis/begin-quorum-epoch.ts";
import { brokerRegistrationApi } from "../../impl/protocol/apis/broker-registration.ts";
import { describeQuorumApi } from "../../impl/protocol/apis/describe-quorum.ts";
import { endQuorumEpochApi } from "../../impl/protocol/apis/end-quorum-epoch.ts";
import { fetchApi } from "../../impl/protocol/apis/fetch.ts";
import { removeRaftVoterApi } from "../../impl/protocol/apis/remove-raft-voter.ts";
import { voteApi } from "../../impl/protocol/apis/vote.ts";
import { zeroUuid } from "../../impl/protocol/schema.ts";
import { exchange } from "../support/raw-connection.ts";

/** The versions the node's own transport sends, so the node reads the test's requests as a peer's. */
const versions = { ...quorumApiVersions, describeQuorum: 2, voterChange: 0, brokerRegistration: 3 } as const;
/** Bytes a test fetch takes at most: the metadata log of a path is a few entries. */
const fetchBytesMax = 1 << 20;
/** A voter change is answered when it commits: far longer than any path, so it never times out first. */
const voterChangeTimeoutMs = 120_000;
/**
 * The replica id of the test's probe: a Fetch at epoch 0 is refused by every
 * node that does not lead epoch 0 (no node ever does) without a step of its
 * machine, and names the node's epoch, the leader it knows and its high
 * watermark.
 */
const probeReplicaId = 999;

export interface LeaderEpochAnswer {
  errorCode: number;
  leaderId: number;
  epoch: number;
}

export interface FetchAnswer {
  errorCode: number;
  highWatermark: number;
  leaderId: number;
  epoch: number;
  diverging: { epoch: number; endOffset: number } | null;
  /** The record batches in the answer. */
  records: Buffer;
}

export class NodeClient {
  constructor(
    private readonly port: number,
    private readonly clusterId: string,
  ) {}

  async vote(request: {
    candidateId: number;
    epoch: number;
    lastEpoch: number;
    endOffset: number;
    preVote: boolean;
  }): Promise<{ errorCode: number; granted: boolean; leaderId: number; epoch: number }> {
    const response = await exchange(this.port, voteApi, versions.vote, {
      clusterId: this.clusterId,
      voterId: 1,
      topics: [
        {
          topicName: metadataTopicName,
          partitions: [votePartition(request)],
        },
      ],
    });
    const partition = onlyPartition("Vote", response.errorCode, response.topics);
    return {
      errorCode: partition.errorCode,
      granted: partition.voteGranted,
      leaderId: partition.leaderId,
      epoch: partition.leaderEpoch,
    };
  }

  async beginQuorumEpoch(leaderId: number, epoch: number): Promise<LeaderEpochAnswer> {
    const response = await exchange(this.port, beginQuorumEpochApi, versions.beginQuorumEpoch, {
      clusterId: this.clusterId,
      topics: [
        { topicName: metadataTopicName, partitions: [{ partitionIndex: 0, leaderId, leaderEpoch: epoch }] },
      ],
    });
    const partition = onlyPartition("BeginQuorumEpoch", response.errorCode, response.topics);
    return { errorCode: partition.errorCode, leaderId: partition.leaderId, epoch: partition.leaderEpoch };
  }

  async endQuorumEpoch(leaderId: number, epoch: number): Promise<LeaderEpochAnswer> {
    const response = await exchange(this.port, endQuorumEpochApi, versions.endQuorumEpoch, {
      clusterId: this.clusterId,
      topics: [
        {
          topicName: metadataTopicName,
          partitions: [{ partitionIndex: 0, leaderId, leaderEpoch: epoch, preferredSuccessors: [] }],
        },
      ],
    });
    const partition = onlyPartition("EndQuorumEpoch", response.errorCode, response.topics);
    return { errorCode: partition.errorCode, leaderId: partition.leaderId, epoch: partition.leaderEpoch };
  }

  /** A replica's fetch of the metadata log, answered at once (no long poll). */
  async fetch(request: {
    replicaId: number;
    epoch: number;
    fetchOffset: number;
    lastFetchedEpoch: number;
  }): Promise<FetchAnswer> {
    const response = await exchange(this.port, fetchApi, versions.fetch, {
      clusterId: this.clusterId,
      replicaId: request.replicaId,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: fetchBytesMax,
      topics: [
        {
          topic: metadataTopicName,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: request.epoch,
              fetchOffset: BigInt(request.fetchOffset),
              lastFetchedEpoch: request.lastFetchedEpoch,
              partitionMaxBytes: fetchBytesMax,
            },
          ],
        },
      ],
    });
    if (response.errorCode !== 0)
      throw new Error(`Fetch refused at the top level: error ${response.errorCode}`);
    const topics = response.responses.map((topic) => ({
      topicName: topic.topic,
      partitions: topic.partitions,
    }));
    const partition = onlyPartition("Fetch", 0, topics);
    return {
      errorCode: partition.errorCode,
      highWatermark: Number(partition.highWatermark),
      leaderId: partition.currentLeader.leaderId,
      epoch: partition.currentLeader.leaderEpoch,
      diverging:
        partition.divergingEpoch.epoch < 0
          ? null
          : { epoch: partition.divergingEpoch.epoch, endOffset: Number(partition.divergingEpoch.endOffset) },
      records: partition.records ?? Buffer.alloc(0),
    };
  }

  /** The node's epoch, known leader and high watermark, read without a step of its machine. */
  probe(): Promise<FetchAnswer> {
    return this.fetch({ replicaId: probeReplicaId, epoch: 0, fetchOffset: 0, lastFetchedEpoch: 0 });
  }

  /** DescribeQuorum, which only the leader answers itself (another node forwards it). */
  async describeQuorum() {
    const response = await exchange(this.port, describeQuorumApi, versions.describeQuorum, {
      topics: [{ topicName: metadataTopicName, partitions: [{ partitionIndex: 0 }] }],
    });
    return onlyPartition("DescribeQuorum", response.errorCode, response.topics);
  }

  /** AddRaftVoter; resolves with the error code once the node answers (when the change commits). */
  async addVoter(nodeId: number): Promise<number> {
    const response = await exchange(this.port, addRaftVoterApi, versions.voterChange, {
      clusterId: this.clusterId,
      timeoutMs: voterChangeTimeoutMs,
      voterId: nodeId,
      voterDirectoryId: zeroUuid,
      listeners: [],
    });
    return response.errorCode;
  }

  async removeVoter(nodeId: number): Promise<number> {
    const response = await exchange(this.port, removeRaftVoterApi, versions.voterChange, {
      clusterId: this.clusterId,
      voterId: nodeId,
      voterDirectoryId: zeroUuid,
    });
    return response.errorCode;
  }

  /**
   * Registers a broker that never fetches: the controller appends exactly one
   * RegisterBrokerRecord for it (the broker stays fenced), the one record a
   * test can make a leader write. Resolves once the record commits.
   */
  async registerBroker(brokerId: number): Promise<number> {
    const response = await exchange(this.port, brokerRegistrationApi, versions.brokerRegistration, {
      brokerId,
      clusterId: this.clusterId,
      incarnationId: brokerId.toString(16).padStart(32, "0"),
      listeners: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 1, securityProtocol: 0 }],
      features: [],
      rack: null,
      isMigratingZkBroker: false,
      logDirs: [],
      previousBrokerEpoch: -1n,
    });
    return response.errorCode;
  }
}

/** The one metadata partition of a quorum answer; anything else is a malformed answer. */
function onlyPartition<P>(
  api: string,
  errorCode: number,
  topics: ReadonlyArray<{ topicName: string; partitions: readonly P[] }>,
): P {
  if (errorCode !== 0) throw new Error(`${api} refused at the top level: error ${errorCode}`);
  if (
    topics.length !== 1 ||
    topics[0]!.topicName !== metadataTopicName ||
    topics[0]!.partitions.length !== 1
  ) {
    throw new Error(`${api} answer is not about exactly ${metadataTopicName} partition 0`);
  }
  return topics[0]!.partitions[0]!;
}
