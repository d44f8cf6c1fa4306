/**
 * ListOffsets: earliest (-2), latest (-1, the high watermark), max timestamp
 * (-3), earliest local (-4, the same as earliest without tiered storage), or
 * the first offset whose timestamp is at least the one asked for.
 */
import type { LocalPartition } from "../../broker/replica-manager.ts";
import type { BrokerServices } from "../../broker/services.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import type { listOffsetsApi } from "../../protocol/apis/list-offsets.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import { notHostedError } from "../../replication/leadership.ts";
import type { Handler } from "../dispatcher.ts";
import { leaderEpochError } from "./leader-epoch.ts";

type Request = ReturnType<typeof listOffsetsApi.request.read>;
type Response = InferInput<typeof listOffsetsApi.response>;
type PartitionResponse = Response["topics"][number]["partitions"][number];

const latestTimestamp = -1n;
const earliestTimestamp = -2n;
const maxTimestamp = -3n;
const earliestLocalTimestamp = -4n;

async function lookUp(
  local: LocalPartition,
  timestamp: bigint,
): Promise<{ offset: bigint; timestamp: bigint } | null> {
  switch (timestamp) {
    case latestTimestamp:
      return { offset: local.highWatermark, timestamp: -1n };
    case earliestTimestamp:
    case earliestLocalTimestamp:
      return { offset: local.log.logStartOffset, timestamp: -1n };
    case maxTimestamp: {
      const found = await local.log.maxTimestamp();
      return found && found.offset < local.highWatermark ? found : null;
    }
    default: {
      const found = await local.log.offsetForTimestamp(timestamp);
      return found && found.offset < local.highWatermark ? found : null;
    }
  }
}

export function listOffsetsHandler(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map(async (partition): Promise<PartitionResponse> => {
            const index = partition.partitionIndex;
            const local = internalTopicNames.has(topic.name)
              ? undefined
              : services.replicas.get(topic.name, index);
            const fail = (errorCode: number) => ({
              partitionIndex: index,
              errorCode,
              timestamp: -1n,
              offset: -1n,
              leaderEpoch: -1,
            });
            if (!local) return fail(notHostedError(services.image.topicsByName.get(topic.name), index));
            const image = local.image;
            if (image.leader !== services.config.nodeId) return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
            const epochProblem = leaderEpochError(partition.currentLeaderEpoch, image.leaderEpoch);
            if (epochProblem !== ErrorCode.NONE) return fail(epochProblem);
            if (partition.timestamp < earliestLocalTimestamp) return fail(ErrorCode.UNSUPPORTED_VERSION);
            const found = await lookUp(local, partition.timestamp);
            return {
              partitionIndex: index,
              errorCode: ErrorCode.NONE,
              timestamp: found?.timestamp ?? -1n,
              offset: found?.offset ?? -1n,
              leaderEpoch: found ? image.leaderEpoch : -1,
            };
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  };
}
