/**
 * Creating topics through the controller, shared by CreateTopics and by
 * auto-creation (Metadata and Produce with auto.create.topics.enable): both
 * plan against the applied image and answer only once the records are
 * committed and applied.
 */
import { ControllerQueueFullError } from "../metadata/controller.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import {
  type CommandError,
  type NewTopic,
  type PlannedTopic,
  planCreateTopic,
} from "../metadata/topic-commands.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
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
    return await services.controller.decide((image) => {
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
        const plan = planCreateTopic(image, topic, defaults);
        if ("errorCode" in plan) {
          outcomes.push({ ok: false, ...plan });
          continue;
        }
        outcomes.push({ ok: true, ...plan });
        records.push(...plan.records);
      }
      return { records: validateOnly ? [] : records, result: outcomes };
    });
  } catch (error) {
    if (!(error instanceof ControllerQueueFullError)) throw error;
    return topics.map(() => ({
      ok: false,
      errorCode: ErrorCode.REQUEST_TIMED_OUT,
      errorMessage: error.message,
    }));
  }
}

/**
 * Auto-creation for names that do not exist yet, with the broker's defaults.
 * Creation racing with another request for the same name is not an error.
 */
export async function autoCreateTopics(services: BrokerServices, names: string[]): Promise<void> {
  const missing = [...new Set(names)].filter((name) => !services.image.topicsByName.has(name));
  if (missing.length === 0 || !services.config.autoCreateTopicsEnable) return;
  const outcomes = await createTopics(
    services,
    missing.map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] })),
    false,
  );
  outcomes.forEach((outcome, index) => {
    if (outcome.ok) {
      services.logger.info(
        { topic: missing[index], partitions: outcome.numPartitions },
        "topic auto-created",
      );
    }
  });
}
