/**
 * OffsetForLeaderEpoch (23): where a leader epoch ends in this node's log,
 * for a follower that truncates after a leader change and for a consumer
 * checking its position after one (KIP-320). Answered per partition as
 * Kafka's ReplicaManager.lastOffsetForLeaderEpoch does:
 *
 * - an unknown topic or partition (internal topics included) is
 *   UNKNOWN_TOPIC_OR_PARTITION; one in the metadata but not hosted here is
 *   NOT_LEADER_OR_FOLLOWER;
 * - only the leader answers (fetchOnlyFromLeader is always true there),
 *   whatever replica_id says: -1 (a consumer), -2 (the default before v3)
 *   and a follower's id are answered alike; current_leader_epoch (v2+)
 *   fences first: FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH
 *   (replication/leadership.ts);
 * - otherwise NONE with the largest epoch at or below the one asked and
 *   where it ends (the log end for the latest epoch), from the leader-epoch
 *   cache; an epoch above every known one, or -1, is answered NONE with
 *   epoch -1 and offset -1 (UNDEFINED), as Kafka does.
 */

import type { MetadataImage } from "../../metadata/image.ts";
import type { offsetForLeaderEpochApi } from "../../protocol/apis/offset-for-leader-epoch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import { type LeadershipView, ledPartition } from "../../replication/leadership.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof offsetForLeaderEpochApi.request.read>;
type Response = InferInput<typeof offsetForLeaderEpochApi.response>;
type PartitionAnswer = Response["topics"][number]["partitions"][number];

export interface OffsetForLeaderEpochServices extends LeadershipView {
  image: Pick<MetadataImage, "topicsByName">;
}

function answerPartition(
  services: OffsetForLeaderEpochServices,
  topicName: string,
  asked: Request["topics"][number]["partitions"][number],
): PartitionAnswer {
  const topic = services.image.topicsByName.get(topicName);
  const led = ledPartition(services, topic, asked.partition, asked.currentLeaderEpoch);
  if ("errorCode" in led) {
    return { errorCode: led.errorCode, partition: asked.partition, leaderEpoch: -1, endOffset: -1n };
  }
  const { epoch, endOffset } = led.local.log.endOffsetForEpoch(asked.leaderEpoch);
  return { errorCode: ErrorCode.NONE, partition: asked.partition, leaderEpoch: epoch, endOffset };
}

export function offsetForLeaderEpochHandler(
  services: OffsetForLeaderEpochServices,
): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    const topics = request.topics.map((topic) => ({
      topic: topic.topic,
      partitions: topic.partitions.map((asked) => answerPartition(services, topic.topic, asked)),
    }));
    return { throttleTimeMs: 0, topics };
  };
}
