/**
 * Whether this node answers for a partition as its leader right now, as
 * Kafka's Partition.getLocalLog(currentLeaderEpoch, requireLeader = true)
 * decides it for replica fetches and OffsetForLeaderEpoch: the leader-epoch
 * fence first (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH), then leadership
 * (NOT_LEADER_OR_FOLLOWER).
 *
 * The fence comes first even for a partition not hosted here, where Kafka
 * answers NOT_LEADER_OR_FOLLOWER whatever the epoch: a follower stops on
 * that answer until its metadata changes, so it must hear it only when its
 * metadata is not newer than this node's; one that is newer hears
 * UNKNOWN_LEADER_EPOCH and retries until this node catches up.
 *
 * The epoch compared against is the applied metadata's. A node leads only
 * once it has taken the role in that epoch (its ISR machine runs and the
 * epoch's start is recorded in the log); between applying the record and
 * taking the role it answers as Kafka's partition does before makeLeader, to
 * an asker that names the new epoch: UNKNOWN_LEADER_EPOCH, "retry, this node
 * has not caught up", never NOT_LEADER_OR_FOLLOWER, after which a follower
 * waits for metadata that already came.
 */
import type { LocalPartition } from "../broker/replica-manager.ts";
import type { PartitionImage, TopicImage } from "../metadata/image.ts";
import { internalTopicNames } from "../metadata/internal-topics.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { leaderEpochError } from "../server/handlers/leader-epoch.ts";

/** What the check needs of the node: its id, and which partitions it hosts and leads. */
export interface LeadershipView {
  config: { nodeId: number };
  replicas: {
    get(topic: string, partitionId: number): LocalPartition | undefined;
    /** The running leadership of a partition this node leads, with the epoch it leads in. */
    leaderOf(local: LocalPartition): { readonly leaderEpoch: number } | undefined;
  };
}

/**
 * The error for a partition this node does not host: NOT_LEADER_OR_FOLLOWER
 * when the applied metadata has it (it is assigned elsewhere, or this node
 * has applied it but not yet opened its replica, as right after a topic is
 * created), as Kafka's ReplicaManager.getPartitionOrError answers; otherwise
 * `unknownTopic` (UNKNOWN_TOPIC_OR_PARTITION, or UNKNOWN_TOPIC_ID by id).
 */
export function notHostedError(
  topic: TopicImage | undefined,
  partitionId: number,
  unknownTopic: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
): number {
  if (topic === undefined || internalTopicNames.has(topic.name)) return unknownTopic;
  return topic.partitions.has(partitionId)
    ? ErrorCode.NOT_LEADER_OR_FOLLOWER
    : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
}

/** -1 in a request's current_leader_epoch: the asker does not fence (Kafka's NO_PARTITION_LEADER_EPOCH). */
const unfenced = -1;

export type LedPartition = { local: LocalPartition; image: PartitionImage } | { errorCode: number };

/**
 * The partition `partitionId` of `topic` (undefined when the name or id is
 * unknown) as this node leads it, or the error code to answer with.
 * `unknownTopic` is UNKNOWN_TOPIC_OR_PARTITION, or UNKNOWN_TOPIC_ID for a
 * request naming topics by id. Internal topics are never served here.
 */
export function ledPartition(
  view: LeadershipView,
  topic: TopicImage | undefined,
  partitionId: number,
  currentLeaderEpoch: number,
  unknownTopic: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
): LedPartition {
  if (topic === undefined || internalTopicNames.has(topic.name)) return { errorCode: unknownTopic };
  const image = topic.partitions.get(partitionId);
  if (image === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  const fenced = leaderEpochError(currentLeaderEpoch, image.leaderEpoch);
  if (fenced !== ErrorCode.NONE) return { errorCode: fenced };
  if (image.leader !== view.config.nodeId) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
  const local = view.replicas.get(topic.name, partitionId);
  if (local === undefined || view.replicas.leaderOf(local)?.leaderEpoch !== image.leaderEpoch) {
    const notYet =
      currentLeaderEpoch === unfenced ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_LEADER_EPOCH;
    return { errorCode: notYet };
  }
  return { local, image };
}
