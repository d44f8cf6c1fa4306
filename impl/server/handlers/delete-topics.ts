/**
 * DeleteTopics: by name (all versions) or by topic id (version 6). Each
 * existing topic is removed with the RemoveTopicRecord its partitions'
 * lifecycle machines write; its replicas are deleted from disk once the
 * record is applied.
 */
import type { BrokerServices } from "../../broker/services.ts";
import type { TopicImage } from "../../metadata/image.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import type { MetadataRecord } from "../../metadata/records.ts";
import { deleteTopicsApi } from "../../protocol/apis/delete-topics.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { type InferInput, zeroUuid } from "../../protocol/schema.ts";
import type { Handler, HandlerContext } from "../dispatcher.ts";
import { atController } from "./at-controller.ts";

type Request = ReturnType<typeof deleteTopicsApi.request.read>;
type Response = InferInput<typeof deleteTopicsApi.response>;
type Result = Response["responses"][number];

/** The topics asked for: by name or id from version 6, by name before. */
function wantedTopics(request: Request, version: number): Array<{ name: string | null; topicId: string }> {
  return version >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: zeroUuid }));
}

export function deleteTopicsHandler(services: BrokerServices): Handler<Request, Response> {
  return atController(services, deleteTopicsApi, deleteHere(services), refused, {
    timeoutMsOf: (request) => request.timeoutMs,
  });
}

function refused(
  request: Request,
  context: HandlerContext,
  errorCode: number,
  errorMessage: string,
): Response {
  return {
    throttleTimeMs: 0,
    responses: wantedTopics(request, context.version).map(({ name, topicId }) => ({
      name,
      topicId,
      errorCode,
      errorMessage,
    })),
  };
}

function deleteHere(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const wanted = wantedTopics(request, context.version);
    const responses = await services.lifecycles.decide((decision) => {
      const image = decision.image;
      const records: MetadataRecord[] = [];
      const removed = new Set<string>();
      const result = wanted.map(({ name, topicId }): Result => {
        const byId = name === null;
        const topic: TopicImage | undefined = byId
          ? image.topicsById.get(topicId)
          : image.topicsByName.get(name);
        if (!topic || internalTopicNames.has(topic.name)) {
          return {
            name,
            topicId,
            errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: "This server does not host this topic.",
          };
        }
        if (!removed.has(topic.topicId)) {
          removed.add(topic.topicId);
          records.push(...decision.deleteTopic(topic));
        }
        return { name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null };
      });
      return { records, result };
    });
    for (const response of responses) {
      if (response.errorCode === ErrorCode.NONE)
        services.logger.info({ topic: response.name }, "topic deleted");
    }
    return { throttleTimeMs: 0, responses };
  };
}
