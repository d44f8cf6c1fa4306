/**
 * A broker the test plays against a real node. It registers with the
 * controller (BrokerRegistration) and follows the metadata log
 * `__chronik_metadata` as an observer, fetching with its replica id: that
 * fetch is its heartbeat (impl/controller/broker-liveness.ts). While it
 * fetches and has caught up, the controller unfences it; once it stops, its
 * connection closed as when a broker dies, the controller fences it. It also
 * sends AlterPartition as a partition's leader would, and BrokerHeartbeat to
 * ask for its controlled shutdown.
 */
import { randomUUID } from "node:crypto";
import {
  plaintextListenerName,
  plaintextSecurityProtocol,
} from "../../impl/metadata/broker-registrations.ts";
import { metadataTopicName } from "../../impl/metadata/internal-topics.ts";
import { decodeEntryBatches } from "../../impl/metadata/raft-entry-batches.ts";
import { alterPartitionApi } from "../../impl/protocol/apis/alter-partition.ts";
import { brokerHeartbeatApi } from "../../impl/protocol/apis/broker-heartbeat.ts";
import { brokerRegistrationApi } from "../../impl/protocol/apis/broker-registration.ts";
import { describeQuorumApi } from "../../impl/protocol/apis/describe-quorum.ts";
import { fetchApi } from "../../impl/protocol/apis/fetch.ts";
import { ErrorCode, errorName } from "../../impl/protocol/error-codes.ts";
import { RequestConnection, requestOnce } from "./kafka-requests.ts";

/**
 * How long a metadata fetch may be held when nothing is new: the gap between
 * two heartbeats, well inside any session timeout the suites use.
 */
const metadataFetchWaitMs = 100;
const metadataFetchBytesMax = 1_048_576;
/** Fetch v12: the last version that names topics, which a metadata replica fetch must (metadata-replica-fetch.ts). */
const fetchVersion = 12;
/** AlterPartition v1 names the topic, so a request can be made about a topic that does not exist yet. */
export const alterPartitionVersion = 1;
const brokerRegistrationVersion = 3;
const brokerHeartbeatVersion = 1;
const describeQuorumVersion = 2;

/** The port the fake advertises; nothing listens there, and nothing in these suites connects to it. */
const advertisedPortUnused = 1;

export interface AlterPartitionAnswer {
  errorCode: number;
  leaderId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  isr: number[];
}

export interface HeartbeatAnswer {
  errorCode: number;
  isFenced: boolean;
  shouldShutDown: boolean;
}

export class FakeBroker {
  /** Where the metadata log is followed from: the next offset and the epoch of the entry before it. */
  private fetchOffset = 0n;
  private lastFetchedEpoch = 0;
  private quorumEpoch = 0;
  private metadataConnection: RequestConnection | null = null;
  private failure: Error | null = null;
  private requests: RequestConnection | null = null;

  private constructor(
    readonly brokerId: number,
    /** The broker epoch of this fake's latest registration. */
    private currentBrokerEpoch: bigint,
    private readonly port: number,
    private readonly clusterId: string,
  ) {}

  get brokerEpoch(): bigint {
    return this.currentBrokerEpoch;
  }

  /** Registers broker `brokerId` with the node's controller; it stays fenced until it follows the metadata log. */
  static async register(port: number, brokerId: number, clusterId: string): Promise<FakeBroker> {
    return new FakeBroker(brokerId, await sendRegistration(port, brokerId, clusterId), port, clusterId);
  }

  /**
   * Registers again as a new incarnation, as a restarted broker does: a new
   * broker epoch, fenced until its metadata fetches have caught up. The only
   * way back for a broker the controller let go after its controlled shutdown.
   */
  async registerAgain(): Promise<void> {
    this.currentBrokerEpoch = await sendRegistration(this.port, this.brokerId, this.clusterId);
  }

  /** BrokerHeartbeat with what this broker wants: the controller's answer. */
  async heartbeat(wants: { wantFence: boolean; wantShutDown: boolean }): Promise<HeartbeatAnswer> {
    const connection = await this.requestConnection();
    const response = await connection.send(brokerHeartbeatApi, brokerHeartbeatVersion, {
      brokerId: this.brokerId,
      brokerEpoch: this.currentBrokerEpoch,
      currentMetadataOffset: this.fetchOffset,
      ...wants,
      offlineLogDirs: [],
    });
    const { errorCode, isFenced, shouldShutDown } = response;
    return { errorCode, isFenced, shouldShutDown };
  }

  get isFollowingMetadata(): boolean {
    return this.metadataConnection !== null;
  }

  /** Starts (or resumes) fetching the metadata log, as a live broker does. */
  async followMetadata(): Promise<void> {
    if (this.metadataConnection !== null) return;
    const quorum = await requestOnce(this.port, describeQuorumApi, describeQuorumVersion, {
      topics: [{ topicName: metadataTopicName, partitions: [{ partitionIndex: 0 }] }],
    });
    const partition = quorum.topics[0]?.partitions[0];
    if (quorum.errorCode !== ErrorCode.NONE || partition === undefined) {
      throw new Error(
        `DescribeQuorum answered ${errorName(quorum.errorCode)} without the metadata partition`,
      );
    }
    this.quorumEpoch = partition.leaderEpoch;
    const connection = await RequestConnection.open(this.port);
    this.metadataConnection = connection;
    void this.fetchMetadataUntilStopped(connection);
  }

  /** Stops fetching the metadata log and closes that connection, as a broker that died would. */
  stopFollowingMetadata(): void {
    const connection = this.metadataConnection;
    this.metadataConnection = null;
    connection?.close();
  }

  /** Throws what made the metadata fetches fail, if anything did: the broker would be fenced for it. */
  assertHealthy(): void {
    if (this.failure !== null) throw new Error(`fake broker ${this.brokerId}: ${this.failure.message}`);
  }

  private async fetchMetadataUntilStopped(connection: RequestConnection): Promise<void> {
    try {
      while (this.metadataConnection === connection) await this.fetchMetadataOnce(connection);
    } catch (error) {
      // A connection closed by stopFollowingMetadata ends the loop; anything else is a failure.
      if (this.metadataConnection === connection) {
        this.failure = error as Error;
        this.metadataConnection = null;
        connection.close();
      }
    }
  }

  private async fetchMetadataOnce(connection: RequestConnection): Promise<void> {
    const response = await connection.send(fetchApi, fetchVersion, {
      clusterId: this.clusterId,
      replicaId: this.brokerId,
      maxWaitMs: metadataFetchWaitMs,
      minBytes: 1,
      maxBytes: metadataFetchBytesMax,
      topics: [
        {
          topic: metadataTopicName,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: this.quorumEpoch,
              fetchOffset: this.fetchOffset,
              lastFetchedEpoch: this.lastFetchedEpoch,
              partitionMaxBytes: metadataFetchBytesMax,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
    });
    if (response.errorCode !== ErrorCode.NONE) {
      throw new Error(`metadata fetch refused: ${errorName(response.errorCode)}`);
    }
    const partitions = response.responses.flatMap((topic) => topic.partitions);
    const partition = partitions[0];
    if (partitions.length !== 1 || partition === undefined || partition.partitionIndex !== 0) {
      throw new Error(`metadata fetch answered ${partitions.length} partitions, not partition 0`);
    }
    if (
      partition.errorCode === ErrorCode.FENCED_LEADER_EPOCH ||
      partition.errorCode === ErrorCode.UNKNOWN_LEADER_EPOCH
    ) {
      // The quorum moved to another epoch: follow it there.
      this.quorumEpoch = partition.currentLeader.leaderEpoch;
      return;
    }
    if (partition.errorCode !== ErrorCode.NONE) {
      throw new Error(`metadata fetch refused for the partition: ${errorName(partition.errorCode)}`);
    }
    if (partition.divergingEpoch.epoch >= 0) {
      // Our log ends in an epoch the leader does not hold to this offset: truncate to where it ends.
      this.fetchOffset = partition.divergingEpoch.endOffset;
      this.lastFetchedEpoch = partition.divergingEpoch.epoch;
      return;
    }
    const entries = decodeEntryBatches(partition.records ?? Buffer.alloc(0));
    const last = entries.at(-1);
    if (last === undefined) return;
    if (entries[0]!.offset !== Number(this.fetchOffset)) {
      throw new Error(`metadata fetch from ${this.fetchOffset} answered entries from ${entries[0]!.offset}`);
    }
    this.fetchOffset = BigInt(last.offset + 1);
    this.lastFetchedEpoch = last.epoch;
  }

  /** The connection this broker sends partition requests on, opened on first use. */
  private async requestConnection(): Promise<RequestConnection> {
    if (this.requests === null) this.requests = await RequestConnection.open(this.port);
    return this.requests;
  }

  /** AlterPartition for partition 0 of `topic`, named (v1) as a leader on an older broker sends it. */
  async alterPartition(
    topic: string,
    request: { leaderEpoch: number; partitionEpoch: number; newIsr: number[] },
  ): Promise<AlterPartitionAnswer> {
    const connection = await this.requestConnection();
    const response = await connection.send(alterPartitionApi, alterPartitionVersion, {
      brokerId: this.brokerId,
      brokerEpoch: this.brokerEpoch,
      topics: [
        {
          topicName: topic,
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: request.leaderEpoch,
              newIsr: request.newIsr,
              leaderRecoveryState: 0,
              partitionEpoch: request.partitionEpoch,
            },
          ],
        },
      ],
    });
    if (response.errorCode !== ErrorCode.NONE) {
      return { errorCode: response.errorCode, leaderId: -1, leaderEpoch: -1, partitionEpoch: -1, isr: [] };
    }
    const answers = response.topics.flatMap((answered) =>
      answered.topicName === topic ? answered.partitions : [],
    );
    const answer = answers[0];
    if (answers.length !== 1 || answer === undefined || answer.partitionIndex !== 0) {
      throw new Error(`AlterPartition for ${topic}-0 answered ${answers.length} partitions`);
    }
    return {
      errorCode: answer.errorCode,
      leaderId: answer.leaderId,
      leaderEpoch: answer.leaderEpoch,
      partitionEpoch: answer.partitionEpoch,
      isr: answer.isr,
    };
  }

  close(): void {
    this.stopFollowingMetadata();
    this.requests?.close();
    this.requests = null;
  }
}

/** BrokerRegistration of a new incarnation of `brokerId`: the broker epoch the controller gave it. */
async function sendRegistration(port: number, brokerId: number, clusterId: string): Promise<bigint> {
  const answer = await requestOnce(port, brokerRegistrationApi, brokerRegistrationVersion, {
    brokerId,
    clusterId,
    incarnationId: randomUUID().replaceAll("-", ""),
    listeners: [
      {
        name: plaintextListenerName,
        host: "127.0.0.1",
        port: advertisedPortUnused,
        securityProtocol: plaintextSecurityProtocol,
      },
    ],
    features: [],
    rack: null,
    logDirs: [],
  });
  if (answer.errorCode !== ErrorCode.NONE) {
    throw new Error(`registering broker ${brokerId} was refused: ${errorName(answer.errorCode)}`);
  }
  return answer.brokerEpoch;
}
