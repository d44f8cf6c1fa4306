/**
 * Committed offsets on the coordinator: OffsetCommit (the group machine says
 * whether this member of this generation may commit now; the offsets are then
 * written with acks=all and only then stored), OffsetFetch and OffsetDelete.
 */
import { appendErrorToResponseError } from "../../machines/consumer-group.ts";
import type { MetadataImage } from "../metadata/image.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import type { RecordInput } from "../protocol/records.ts";
import { subscribedTopics } from "./consumer-protocol.ts";
import type { GroupCoordinator } from "./group-coordinator.ts";
import { offsetCommitKeyBytes, offsetCommitValueBytes } from "./offsets-records.ts";

export interface OffsetFetchTopic {
  name: string;
  partitionIndexes: number[];
}

export interface FetchedOffsets {
  errorCode: number;
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      metadata: string | null;
      errorCode: number;
    }>;
  }>;
}

/**
 * OffsetFetch for one group: the named partitions (those never committed get
 * offset -1), or with `topics` null every partition the group has committed.
 */
export function fetchOffsets(
  coordinator: GroupCoordinator,
  groupId: string,
  topics: OffsetFetchTopic[] | null,
): FetchedOffsets {
  const found = coordinator.coordinated(groupId);
  if ("errorCode" in found) return { errorCode: found.errorCode, topics: [] };
  const { state } = found.partition;
  if (topics === null) {
    const byTopic = new Map<string, FetchedOffsets["topics"][number]>();
    for (const committed of state.offsetsOf(groupId)) {
      let topic = byTopic.get(committed.topic);
      if (topic === undefined) {
        topic = { name: committed.topic, partitions: [] };
        byTopic.set(committed.topic, topic);
      }
      topic.partitions.push({
        partitionIndex: committed.partition,
        committedOffset: committed.offset,
        committedLeaderEpoch: committed.leaderEpoch,
        metadata: committed.metadata,
        errorCode: ErrorCode.NONE,
      });
    }
    return { errorCode: ErrorCode.NONE, topics: [...byTopic.values()] };
  }
  return {
    errorCode: ErrorCode.NONE,
    topics: topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => {
        const committed = state.offsetOf(groupId, topic.name, partitionIndex);
        return {
          partitionIndex,
          committedOffset: committed?.offset ?? -1n,
          committedLeaderEpoch: committed?.leaderEpoch ?? -1,
          metadata: committed?.metadata ?? "",
          errorCode: ErrorCode.NONE,
        };
      }),
    })),
  };
}

export interface OffsetCommitInput {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  apiVersion: number;
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }>;
  }>;
}

/**
 * Kafka's answer to an offset commit whose write failed: as for a group
 * write, but a batch too large is the commit's fault (INVALID_COMMIT_OFFSET_SIZE)
 * and too few replicas after the append is a coordinator not available.
 */
export function offsetWriteError(appendErrorCode: number): number {
  switch (appendErrorCode) {
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return appendErrorToResponseError(appendErrorCode);
  }
}

export type CommitResult = Array<{
  name: string;
  partitions: Array<{ partitionIndex: number; errorCode: number }>;
}>;

/** OffsetCommit v9 says GROUP_ID_NOT_FOUND for a member's commit to a group that does not exist. */
const firstVersionWithGroupIdNotFound = 9;

function everyPartition(input: OffsetCommitInput, errorCode: number): CommitResult {
  return input.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((partition) => ({
      partitionIndex: partition.partitionIndex,
      errorCode,
    })),
  }));
}

export async function commitOffsets(
  coordinator: GroupCoordinator,
  image: Pick<MetadataImage, "topicsByName">,
  metadataBytesMax: number,
  input: OffsetCommitInput,
): Promise<CommitResult> {
  const found = coordinator.coordinated(input.groupId);
  if ("errorCode" in found) return everyPartition(input, found.errorCode);
  const { partition } = found;
  // A commit from outside group management (generation -1) may create a simple group, as Kafka's does.
  const runtime = coordinator.runtime(input.groupId, partition, input.generationId < 0);
  if (runtime === null) {
    return everyPartition(
      input,
      input.apiVersion >= firstVersionWithGroupIdNotFound
        ? ErrorCode.GROUP_ID_NOT_FOUND
        : ErrorCode.ILLEGAL_GENERATION,
    );
  }
  const allowed = await runtime.mayCommitOffsets({
    memberId: input.memberId,
    generationId: input.generationId,
    groupInstanceId: input.groupInstanceId,
  });
  if (allowed !== ErrorCode.NONE) return everyPartition(input, allowed);
  const nowMs = BigInt(Date.now());
  const records: RecordInput[] = [];
  const written: Array<{
    topic: string;
    partition: number;
    offset: bigint;
    leaderEpoch: number;
    metadata: string;
  }> = [];
  const result: CommitResult = input.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((asked) => {
      const metadata = asked.committedMetadata ?? "";
      const topicImage = image.topicsByName.get(topic.name);
      let errorCode: number = ErrorCode.NONE;
      if (topicImage === undefined || !topicImage.partitions.has(asked.partitionIndex)) {
        errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      } else if (Buffer.byteLength(metadata, "utf8") > metadataBytesMax) {
        errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
      } else {
        records.push({
          key: offsetCommitKeyBytes(input.groupId, topic.name, asked.partitionIndex),
          value: offsetCommitValueBytes({
            offset: asked.committedOffset,
            leaderEpoch: asked.committedLeaderEpoch,
            metadata,
            commitTimestamp: nowMs,
          }),
        });
        written.push({
          topic: topic.name,
          partition: asked.partitionIndex,
          offset: asked.committedOffset,
          leaderEpoch: asked.committedLeaderEpoch,
          metadata,
        });
      }
      return { partitionIndex: asked.partitionIndex, errorCode };
    }),
  }));
  if (records.length === 0) return result;
  const errorCode = offsetWriteError(await coordinator.write(partition, records));
  if (errorCode === ErrorCode.NONE) {
    for (const entry of written) {
      partition.state.commit(input.groupId, entry.topic, entry.partition, {
        offset: entry.offset,
        leaderEpoch: entry.leaderEpoch,
        metadata: entry.metadata,
        commitTimestampMs: nowMs,
      });
    }
  }
  // Partitions refused before the write keep their own error; the rest share the write's.
  return result.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((answer) =>
      answer.errorCode === ErrorCode.NONE ? { ...answer, errorCode } : answer,
    ),
  }));
}

export interface OffsetDeleteResult {
  errorCode: number;
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }>;
}

/**
 * OffsetDelete: an empty group's offsets go; a group with members keeps the
 * offsets of topics its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC), as
 * Kafka decides from a consumer group's subscriptions. A group of another
 * protocol type with members refuses it all (NON_EMPTY_GROUP).
 */
export async function deleteOffsets(
  coordinator: GroupCoordinator,
  groupId: string,
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number }> }>,
): Promise<OffsetDeleteResult> {
  const found = coordinator.coordinated(groupId);
  if ("errorCode" in found) return { errorCode: found.errorCode, topics: [] };
  const { partition } = found;
  const runtime = coordinator.runtime(groupId, partition, false);
  if (runtime === null) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
  const snapshot = runtime.snapshot;
  const members = snapshot.context.members;
  let subscribed: Set<string> = new Set();
  if (members.length > 0) {
    if (snapshot.context.protocolType !== "consumer")
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    subscribed = subscribedTopics(members, snapshot.context.protocolName);
  }
  const records: RecordInput[] = [];
  const removed: Array<{ topic: string; partition: number }> = [];
  const answer = topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map(({ partitionIndex }) => {
      if (subscribed.has(topic.name))
        return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
      if (partition.state.offsetOf(groupId, topic.name, partitionIndex) !== undefined) {
        records.push({ key: offsetCommitKeyBytes(groupId, topic.name, partitionIndex), value: null });
        removed.push({ topic: topic.name, partition: partitionIndex });
      }
      return { partitionIndex, errorCode: ErrorCode.NONE };
    }),
  }));
  if (records.length === 0) return { errorCode: ErrorCode.NONE, topics: answer };
  const errorCode = offsetWriteError(await coordinator.write(partition, records));
  if (errorCode !== ErrorCode.NONE) return { errorCode, topics: [] };
  for (const entry of removed) partition.state.removeOffset(groupId, entry.topic, entry.partition);
  return { errorCode: ErrorCode.NONE, topics: answer };
}
