/**
 * CreateTopics: every topic of the request is planned against one image and
 * the accepted ones commit together; each gets its own error code. With
 * validateOnly nothing is written but the answer is the one a real creation
 * would get.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { effectiveTopicConfig, topicConfigDefinitions } from "../../broker/topic-configs.ts";
import { createTopics } from "../../broker/topic-creation.ts";
import { createTopicsApi } from "../../protocol/apis/create-topics.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { type InferInput, zeroUuid } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { atController } from "./at-controller.ts";

type Request = ReturnType<typeof createTopicsApi.request.read>;
type Response = InferInput<typeof createTopicsApi.response>;

/** DescribeConfigs' ConfigSource values used here. */
export const configSourceDynamicTopic = 1;
export const configSourceStaticBroker = 4;
export const configSourceDefault = 5;

export function createTopicsHandler(services: BrokerServices): Handler<Request, Response> {
  return atController(services, createTopicsApi, createHere(services), refused, {
    timeoutMsOf: (request) => request.timeoutMs,
  });
}

function refused(request: Request, _context: unknown, errorCode: number, errorMessage: string): Response {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      name: topic.name,
      topicId: zeroUuid,
      errorCode,
      errorMessage,
      configs: null,
    })),
  };
}

function createHere(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const outcomes = await createTopics(
      services,
      request.topics.map((topic) => ({
        name: topic.name,
        numPartitions: topic.numPartitions,
        replicationFactor: topic.replicationFactor,
        assignments: topic.assignments,
        configs: topic.configs,
      })),
      request.validateOnly,
    );
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic, index) => {
        const outcome = outcomes[index]!;
        if (!outcome.ok) {
          return {
            name: topic.name,
            topicId: zeroUuid,
            errorCode: outcome.errorCode,
            errorMessage: outcome.errorMessage,
            configs: null,
          };
        }
        const overrides = new Map(topic.configs.map((config) => [config.name, config.value ?? ""]));
        return {
          name: topic.name,
          topicId: request.validateOnly ? zeroUuid : outcome.topicId,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions: outcome.numPartitions,
          replicationFactor: outcome.replicationFactor,
          configs: topicConfigDefinitions.map((definition) => ({
            name: definition.name,
            value: effectiveTopicConfig(overrides, services.config, definition.name),
            readOnly: false,
            configSource: overrides.has(definition.name) ? configSourceDynamicTopic : configSourceDefault,
            isSensitive: false,
          })),
        };
      }),
    };
  };
}
