/**
 * ElectLeaders (43): an operator asks the controller to move leadership back
 * to each partition's preferred replica (election type 0, the only one of v0),
 * or to elect any live replica for a partition that has no leader (type 1,
 * unclean). Decided at the controller (forwarded from any other node) by the
 * partitions' lifecycle machines, in one decision answered once its
 * PartitionChangeRecords are committed and applied.
 *
 * A null topic list means every partition; as in Kafka, the partitions that
 * need no election are then left out of the answer.
 */
import type { BrokerServices } from "../../broker/services.ts";
import type { LifecycleDecision } from "../../controller/lifecycle-decision.ts";
import type { TopicImage } from "../../metadata/image.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import type { MetadataRecord } from "../../metadata/records.ts";
import {
  electionTypePreferred,
  electionTypeUnclean,
  electLeadersApi,
} from "../../protocol/apis/elect-leaders.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler, HandlerContext } from "../dispatcher.ts";
import { atController } from "./at-controller.ts";

type Request = ReturnType<typeof electLeadersApi.request.read>;
type Response = InferInput<typeof electLeadersApi.response>;
type TopicResult = Response["replicaElectionResults"][number];
type PartitionResult = TopicResult["partitionResult"][number];

/** Kafka's messages for the errors an election answers (shared/kafka-protocol/errors.tsv). */
const errorMessages: Record<number, string> = {
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: "This server does not host this topic-partition.",
  [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]: "The preferred leader was not available.",
  [ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE]: "Eligible topic partition leaders are not available.",
  [ErrorCode.ELECTION_NOT_NEEDED]: "Leader election not needed for topic partition.",
  [ErrorCode.INVALID_REQUEST]: "This most likely occurs because of a request being malformed.",
};

export function electLeadersHandler(services: BrokerServices): Handler<Request, Response> {
  return atController(services, electLeadersApi, electHere(services), refused, {
    timeoutMsOf: (request) => request.timeoutMs,
  });
}

/** v0 has no top-level error code, so a refusal is also every named partition's answer. */
function refused(
  request: Request,
  _context: HandlerContext,
  errorCode: number,
  errorMessage: string,
): Response {
  return {
    throttleTimeMs: 0,
    errorCode,
    replicaElectionResults: (request.topicPartitions ?? []).map(({ topic, partitions }) => ({
      topic,
      partitionResult: partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage })),
    })),
  };
}

function electHere(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const electionType = context.version >= 1 ? request.electionType : electionTypePreferred;
    if (electionType !== electionTypePreferred && electionType !== electionTypeUnclean) {
      return refused(request, context, ErrorCode.INVALID_REQUEST, `Unknown election type ${electionType}.`);
    }
    const election = electionType === electionTypeUnclean ? "unclean" : "preferred";
    const everyPartition = request.topicPartitions === null;
    const results = await services.lifecycles.decide((decision) => {
      const image = decision.image;
      const wanted =
        request.topicPartitions ??
        [...image.topicsByName.values()]
          .filter((topic) => !internalTopicNames.has(topic.name))
          .map((topic) => ({
            topic: topic.name,
            partitions: [...topic.partitions.keys()],
          }));
      const records: MetadataRecord[] = [];
      const result = wanted.map(({ topic: name, partitions }): TopicResult => {
        const known = image.topicsByName.get(name);
        // The broker's own topics are not the operator's to elect for, as DeleteTopics does not see them.
        const topic = known === undefined || internalTopicNames.has(name) ? undefined : known;
        const partitionResult: PartitionResult[] = [];
        // A partition named twice is elected once, as Kafka keeps the request's partitions in a set.
        for (const partitionId of new Set(partitions)) {
          const errorCode =
            topic === undefined
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : elect(decision, topic, partitionId, election, records);
          if (everyPartition && errorCode === ErrorCode.ELECTION_NOT_NEEDED) continue;
          partitionResult.push({ partitionId, errorCode, errorMessage: errorMessages[errorCode] ?? null });
        }
        return { topic: name, partitionResult };
      });
      return { records, result };
    });
    for (const topic of results) {
      for (const partition of topic.partitionResult) {
        if (partition.errorCode !== ErrorCode.NONE) continue;
        services.logger.info(
          { topic: topic.topic, partition: partition.partitionId, election },
          "leader elected",
        );
      }
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: results.filter((topic) => !everyPartition || topic.partitionResult.length > 0),
    };
  };
}

function elect(
  decision: LifecycleDecision,
  topic: TopicImage,
  partitionId: number,
  election: "preferred" | "unclean",
  records: MetadataRecord[],
): number {
  const { answer, records: appended } = decision.electLeader(topic, partitionId, election);
  records.push(...appended);
  return answer.errorCode;
}
