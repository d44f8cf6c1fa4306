/**
 * Creating topics through the controller, shared by CreateTopics and by
 * auto-creation (Metadata and Produce with auto.create.topics.enable): both
 * plan names, configs and placement against the applied image, leave each
 * partition to its lifecycle machine (which writes its PartitionRecord or
 * refuses it), and answer only once the records are committed and applied.
 */
import { offsetsTopicName } from "../groups/offsets-topic.ts";
import { ControllerQueueFullError, NotControllerError } from "../metadata/controller.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import {
  type CommandError,
  type NewTopic,
  type PlannedTopic,
  planCreateTopic,
} from "../metadata/topic-commands.ts";
import { createTopicsApi } from "../protocol/apis/create-topics.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import type { BrokerServices } from "./services.ts";
import { checkTopicConfig } from "./topic-configs.ts";

export type CreationOutcome = ({ ok: true } & PlannedTopic) | ({ ok: false } & CommandError);

/** Plans every topic against one image, then commits all accepted ones as one batch. */
export async function createTopics(
  services: BrokerServices,
  topics: NewTopic[],
  validateOnly: boolean,
): Promise<CreationOutcome[]> {
  const defaults = {
    numPartitions: services.config.numPartitions,
    replicationFactor: services.config.defaultReplicationFactor,
    checkConfig: checkTopicConfig,
  };
  try {
    return await services.lifecycles.decide((decision) => {
      const outcomes: CreationOutcome[] = [];
      const records: MetadataRecord[] = [];
      const namesInRequest = new Set<string>();
      for (const topic of topics) {
        if (namesInRequest.has(topic.name)) {
          outcomes.push({
            ok: false,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Topic '${topic.name}' appears more than once in the request.`,
          });
          continue;
        }
        namesInRequest.add(topic.name);
        const plan = planCreateTopic(decision.image, topic, defaults);
        if ("errorCode" in plan) {
          outcomes.push({ ok: false, ...plan });
          continue;
        }
        const partitions = decision.createPartitions(plan, plan.assignments, 0, { validateOnly });
        if ("errorCode" in partitions) {
          outcomes.push({ ok: false, ...partitions });
          continue;
        }
        outcomes.push({ ok: true, ...plan });
        records.push(...plan.records, ...partitions.records);
      }
      return { records: validateOnly ? [] : records, result: outcomes };
    });
  } catch (error) {
    if (error instanceof NotControllerError) {
      // Lost the controller's role since the caller looked: the client retries on NOT_CONTROLLER.
      return topics.map(() => ({
        ok: false,
        errorCode: ErrorCode.NOT_CONTROLLER,
        errorMessage: error.message,
      }));
    }
    if (!(error instanceof ControllerQueueFullError)) throw error;
    return topics.map(() => ({
      ok: false,
      errorCode: ErrorCode.REQUEST_TIMED_OUT,
      errorMessage: error.message,
    }));
  }
}

/** How long an auto-creation may wait for the controller (request.timeout.ms). */
const autoCreationTimeoutMs = 30_000;
/** The CreateTopics version an auto-creation is forwarded in: v7 answers with the topic ids. */
const autoCreationVersion = 7;

/**
 * Creates topics through the controller: decided here when this node is the
 * controller, forwarded to it otherwise (and then waited for until this node
 * has applied it). Resolves with each topic's error code and message.
 */
export async function createThroughController(
  services: BrokerServices,
  topics: NewTopic[],
): Promise<Array<{ errorCode: number; errorMessage: string | null }>> {
  if (services.controllerLink.isLocal()) {
    return (await createTopics(services, topics, false)).map((outcome) =>
      outcome.ok ? { errorCode: ErrorCode.NONE, errorMessage: null } : outcome,
    );
  }
  const forwarded = await services.controllerLink.forward(
    createTopicsApi,
    autoCreationVersion,
    { topics, timeoutMs: autoCreationTimeoutMs, validateOnly: false },
    { clientId: null, clientAddress: null, timeoutMs: autoCreationTimeoutMs, catchUp: true },
  );
  return forwarded.ok ? forwarded.response.topics : topics.map(() => forwarded);
}

/**
 * Auto-creation for names that do not exist yet, with the broker's defaults.
 * Creation racing with another request for the same name is not an error.
 */
export async function autoCreateTopics(services: BrokerServices, names: string[]): Promise<void> {
  // `__consumer_offsets` is created by the group coordinator with its own partitions and
  // configs (on the first FindCoordinator), never with the defaults of an ordinary topic.
  const missing = [...new Set(names)].filter(
    (name) => name !== offsetsTopicName && !services.image.topicsByName.has(name),
  );
  if (missing.length === 0 || !services.config.autoCreateTopicsEnable) return;
  const topics = missing.map((name) => ({
    name,
    numPartitions: -1,
    replicationFactor: -1,
    assignments: [],
    configs: [],
  }));
  const outcomes = await createThroughController(services, topics);
  outcomes.forEach((outcome, index) => {
    const topic = missing[index];
    if (outcome.errorCode === ErrorCode.NONE) {
      services.logger.info({ topic }, "topic auto-created");
    } else if (outcome.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
      services.logger.warn(
        { topic, error: errorName(outcome.errorCode), reason: outcome.errorMessage },
        "topic auto-creation failed",
      );
    }
  });
}
