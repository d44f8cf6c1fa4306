/**
 * What a node shows of one partition over the Kafka protocol, read the way a
 * client reads it: Metadata (live brokers, the partition's leader, leader
 * epoch, replicas, ISR, offline replicas and error codes), ListOffsets (the
 * high watermark) and OffsetForLeaderEpoch (the leader's log end). A suite
 * waits until a view equals what the machine says and fails with both when it
 * never does: the wait bounds how long the node may take, it is never asserted.
 */
import { isDeepStrictEqual } from "node:util";
import { listOffsetsApi } from "../../impl/protocol/apis/list-offsets.ts";
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { offsetForLeaderEpochApi } from "../../impl/protocol/apis/offset-for-leader-epoch.ts";
import { ErrorCode, errorName } from "../../impl/protocol/error-codes.ts";
import { zeroUuid } from "../../impl/protocol/schema.ts";
import { settleMs } from "../support/eventually.ts";
import { requestOnce } from "./kafka-requests.ts";

const metadataVersion = 12;
const listOffsetsVersion = 7;
const offsetForLeaderEpochVersion = 4;
const latestTimestamp = -1n;
const pollIntervalMs = 50;

export interface PartitionView {
  errorCode: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicView {
  /** The brokers Metadata lists, which are the unfenced ones, ascending. */
  liveBrokers: number[];
  topicErrorCode: number;
  /** Partition 0, or null when the topic is not there. */
  partition: PartitionView | null;
}

export async function topicView(port: number, topic: string): Promise<TopicView> {
  const response = await requestOnce(port, metadataApi, metadataVersion, {
    topics: [{ topicId: zeroUuid, name: topic }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const liveBrokers = response.brokers.map((broker) => broker.nodeId).sort((a, b) => a - b);
  const topics = response.topics;
  if (topics.length !== 1 || topics[0]!.name !== topic) {
    throw new Error(`Metadata for ${topic} answered ${topics.length} topics`);
  }
  const found = topics[0]!;
  if (found.errorCode !== ErrorCode.NONE) {
    return { liveBrokers, topicErrorCode: found.errorCode, partition: null };
  }
  if (found.partitions.length !== 1 || found.partitions[0]!.partitionIndex !== 0) {
    throw new Error(`Metadata for ${topic} answered ${found.partitions.length} partitions, not partition 0`);
  }
  const partition = found.partitions[0]!;
  return {
    liveBrokers,
    topicErrorCode: found.errorCode,
    partition: {
      errorCode: partition.errorCode,
      leader: partition.leaderId,
      leaderEpoch: partition.leaderEpoch,
      replicas: partition.replicaNodes,
      isr: partition.isrNodes,
      offlineReplicas: partition.offlineReplicas,
    },
  };
}

/** The high watermark as a consumer asks for it: ListOffsets for the latest offset. */
export async function highWatermarkOf(port: number, topic: string, leaderEpoch: number): Promise<number> {
  const response = await requestOnce(port, listOffsetsApi, listOffsetsVersion, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      {
        name: topic,
        partitions: [{ partitionIndex: 0, currentLeaderEpoch: leaderEpoch, timestamp: latestTimestamp }],
      },
    ],
  });
  const partition = response.topics[0]?.partitions[0];
  if (
    response.topics.length !== 1 ||
    partition === undefined ||
    response.topics[0]!.partitions.length !== 1
  ) {
    throw new Error(`ListOffsets for ${topic}-0 answered ${response.topics.length} topics`);
  }
  if (partition.errorCode !== ErrorCode.NONE) {
    throw new Error(`ListOffsets for ${topic}-0 answered ${errorName(partition.errorCode)}`);
  }
  return Number(partition.offset);
}

/** The leader's log end: where its current leader epoch ends (OffsetForLeaderEpoch). */
export async function logEndOffsetOf(port: number, topic: string, leaderEpoch: number): Promise<number> {
  const response = await requestOnce(port, offsetForLeaderEpochApi, offsetForLeaderEpochVersion, {
    replicaId: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: leaderEpoch, leaderEpoch }] }],
  });
  const partition = response.topics[0]?.partitions[0];
  if (
    response.topics.length !== 1 ||
    partition === undefined ||
    response.topics[0]!.partitions.length !== 1
  ) {
    throw new Error(`OffsetForLeaderEpoch for ${topic}-0 answered ${response.topics.length} topics`);
  }
  if (partition.errorCode !== ErrorCode.NONE) {
    throw new Error(`OffsetForLeaderEpoch for ${topic}-0 answered ${errorName(partition.errorCode)}`);
  }
  return Number(partition.endOffset);
}

/**
 * Polls `observe` until it returns `expected` (deeply equal) and returns it;
 * fails naming what was expected and what the node showed last.
 */
export async function settleTo<View>(
  what: string,
  expected: View,
  observe: () => Promise<View>,
): Promise<View> {
  const deadline = Date.now() + settleMs;
  let last: View | undefined;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      last = await observe();
      if (isDeepStrictEqual(last, expected)) return last;
      lastError = null;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  throw new Error(
    `${what}: the node did not reach what the machine says within ${settleMs} ms\n` +
      `  expected ${JSON.stringify(expected, bigintAsString)}\n` +
      `  got      ${lastError === null ? JSON.stringify(last, bigintAsString) : String(lastError)}`,
  );
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
