/**
 * IncrementalAlterConfigs (44) for topics: SET, DELETE, APPEND and SUBTRACT of
 * the topic configs this broker knows (topic-configs.ts), checked as Kafka
 * checks them and written as ConfigRecords, so every node's image (and so
 * DescribeConfigs and the replica manager) sees the change once it commits.
 * Decided at the controller (forwarded from any other node) in one decision:
 * a change of unclean.leader.election.enable goes to the topic's partitions'
 * lifecycle machines in the same decision, which may elect an unclean leader
 * for a leaderless partition, committed with the ConfigRecord before the answer.
 *
 * Broker configs are static here (flags read at start), so a BROKER resource
 * is refused with INVALID_REQUEST and says so, rather than pretend to change.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { checkTopicConfig, topicConfigDefinition } from "../../broker/topic-configs.ts";
import type { LifecycleDecision } from "../../controller/lifecycle-decision.ts";
import { configResourceBroker, configResourceTopic, type TopicImage } from "../../metadata/image.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import type { MetadataRecord } from "../../metadata/records.ts";
import {
  configOperation,
  incrementalAlterConfigsApi,
} from "../../protocol/apis/incremental-alter-configs.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler, HandlerContext } from "../dispatcher.ts";
import { atController } from "./at-controller.ts";

type Request = ReturnType<typeof incrementalAlterConfigsApi.request.read>;
type Response = InferInput<typeof incrementalAlterConfigsApi.response>;
type ResourceRequest = Request["resources"][number];
type ResourceResponse = Response["responses"][number];

const uncleanLeaderElectionName = "unclean.leader.election.enable";

export function incrementalAlterConfigsHandler(services: BrokerServices): Handler<Request, Response> {
  return atController(services, incrementalAlterConfigsApi, alterHere(services), refused);
}

function refused(
  request: Request,
  _context: HandlerContext,
  errorCode: number,
  errorMessage: string,
): Response {
  return {
    throttleTimeMs: 0,
    responses: request.resources.map(({ resourceType, resourceName }) => ({
      errorCode,
      errorMessage,
      resourceType,
      resourceName,
    })),
  };
}

function alterHere(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const responses = await services.lifecycles.decide((decision) => {
      const records: MetadataRecord[] = [];
      const counts = new Map<string, number>();
      for (const { resourceType, resourceName } of request.resources) {
        const key = `${resourceType}:${resourceName}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const result = request.resources.map((resource): ResourceResponse => {
        const answer = (errorCode: number, errorMessage: string | null): ResourceResponse => ({
          errorCode,
          errorMessage,
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
        });
        if ((counts.get(`${resource.resourceType}:${resource.resourceName}`) ?? 0) > 1) {
          return answer(ErrorCode.INVALID_REQUEST, "Duplicate resource in the request.");
        }
        if (resource.resourceType === configResourceBroker) {
          return answer(
            ErrorCode.INVALID_REQUEST,
            "Broker configs are static on this broker: set them with chronik start's flags.",
          );
        }
        if (resource.resourceType !== configResourceTopic) {
          return answer(ErrorCode.INVALID_REQUEST, `Unexpected resource type ${resource.resourceType}.`);
        }
        const topic = decision.image.topicsByName.get(resource.resourceName);
        if (topic === undefined || internalTopicNames.has(topic.name)) {
          return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic.");
        }
        const planned = planTopicChanges(topic, resource);
        if ("errorCode" in planned) return answer(planned.errorCode, planned.errorMessage);
        if (!request.validateOnly) records.push(...applyTopicChanges(decision, services, topic, planned));
        return answer(ErrorCode.NONE, null);
      });
      return { records, result };
    });
    for (const [index, response] of responses.entries()) {
      if (response.errorCode !== ErrorCode.NONE || request.validateOnly) continue;
      const changed = request.resources[index]!.configs.map(({ name, value }) => ({ name, value }));
      services.logger.info({ topic: response.resourceName, changed }, "topic configs changed");
    }
    return { throttleTimeMs: 0, responses };
  };
}

/** The topic's overrides after the request, by name: a value, or null where the override is removed. */
type TopicChanges = Map<string, string | null>;

/** Kafka's checks, in its order: the operations and values first, then each resulting value. */
function planTopicChanges(
  topic: TopicImage,
  resource: ResourceRequest,
): TopicChanges | { errorCode: number; errorMessage: string } {
  const changes: TopicChanges = new Map();
  for (const { name, configOperation: operation, value } of resource.configs) {
    if (changes.has(name)) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Duplicate config key ${name}.` };
    }
    const definition = topicConfigDefinition(name);
    if (definition === undefined) {
      return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Unknown topic config name: ${name}` };
    }
    if (operation === configOperation.delete) {
      changes.set(name, null);
      continue;
    }
    if (
      operation !== configOperation.set &&
      operation !== configOperation.append &&
      operation !== configOperation.subtract
    ) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown operation type ${operation}.` };
    }
    if (value === null) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${name}` };
    }
    if (operation !== configOperation.set && definition.type !== "list") {
      return {
        errorCode: ErrorCode.INVALID_CONFIG,
        errorMessage: `Config value append or subtract is not allowed for config key: ${name}`,
      };
    }
    const next =
      operation === configOperation.set ? value : listValue(topic.configs.get(name), value, operation);
    const problem = checkTopicConfig(name, next);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
    changes.set(name, next);
  }
  return changes;
}

/** APPEND adds the values the list lacks; SUBTRACT removes them (Kafka's list semantics). */
function listValue(current: string | undefined, value: string, operation: number): string {
  const items = (current ?? "").split(",").filter((item) => item !== "");
  const given = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  const next =
    operation === configOperation.append
      ? [...items, ...given.filter((item) => !items.includes(item))]
      : items.filter((item) => !given.includes(item));
  return next.join(",");
}

/**
 * A ConfigRecord for each override that really changes (as Kafka writes
 * none for a value set again), then the machines' records when
 * unclean.leader.election.enable changed its effective value.
 */
function applyTopicChanges(
  decision: LifecycleDecision,
  services: BrokerServices,
  topic: TopicImage,
  changes: TopicChanges,
): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  for (const [name, value] of changes) {
    if ((topic.configs.get(name) ?? null) === value) continue;
    records.push({
      type: "ConfigRecord",
      version: 0,
      value: { resourceType: configResourceTopic, resourceName: topic.name, name, value },
    });
  }
  if (changes.has(uncleanLeaderElectionName)) {
    const after = new Map(topic.configs);
    const value = changes.get(uncleanLeaderElectionName);
    if (value === null || value === undefined) after.delete(uncleanLeaderElectionName);
    else after.set(uncleanLeaderElectionName, value);
    const before = services.lifecycles.uncleanLeaderElectionEnabled(topic.configs);
    const enabled = services.lifecycles.uncleanLeaderElectionEnabled(after);
    if (before !== enabled) records.push(...decision.uncleanLeaderElectionChanged(topic, enabled));
  }
  return records;
}
