/**
 * Topic decisions of the controller as pure functions of the current image:
 * each checks a request the way Kafka's controller does and returns either the
 * Kafka error for it or what the request asks for: names, configs and replica
 * placement. What becomes of each partition (its ISR, leader and epochs) is
 * decided by its lifecycle machine (impl/controller), not here.
 */
import { randomUUID } from "node:crypto";
import { ErrorCode } from "../protocol/error-codes.ts";
import { configResourceTopic, type MetadataImage } from "./image.ts";
import { internalTopicNames } from "./internal-topics.ts";
import type { MetadataRecord } from "./records.ts";

export interface CommandError {
  errorCode: number;
  errorMessage: string;
}

export interface TopicDefaults {
  numPartitions: number;
  replicationFactor: number;
  /** Why a topic config is refused, or null. */
  checkConfig(name: string, value: string | null): string | null;
}

export interface NewTopic {
  name: string;
  /** -1 for the broker default. */
  numPartitions: number;
  /** -1 for the broker default. */
  replicationFactor: number;
  /** Explicit replica lists by partition index; empty to let the controller assign. */
  assignments: Array<{ partitionIndex: number; brokerIds: number[] }>;
  configs: Array<{ name: string; value: string | null }>;
}

/**
 * A topic the controller may create: its TopicRecord and ConfigRecords, and
 * where each partition's replicas go. The partitions themselves (ISR, leader,
 * epochs, or a refusal) are decided by their lifecycle machines.
 */
export interface PlannedTopic {
  topicId: string;
  numPartitions: number;
  replicationFactor: number;
  records: MetadataRecord[];
  /** Each partition's replicas from partition 0, the preferred leader first. */
  assignments: number[][];
  /** The topic's config overrides, as its ConfigRecords set them. */
  configs: Map<string, string>;
}

/** New partitions of an existing topic: where their replicas go, from `firstPartition` on. */
export interface PlannedPartitions {
  topicId: string;
  firstPartition: number;
  assignments: number[][];
  configs: ReadonlyMap<string, string>;
}

const topicNameLengthMax = 249;
const legalTopicName = /^[a-zA-Z0-9._-]+$/;

function failure(errorCode: number, errorMessage: string): CommandError {
  return { errorCode, errorMessage };
}

export function checkTopicName(name: string): CommandError | null {
  if (name.length === 0)
    return failure(ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name is illegal, it can't be empty");
  if (name === "." || name === "..") {
    return failure(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic name cannot be "." or ".."`);
  }
  if (name.length > topicNameLengthMax) {
    return failure(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `Topic name is illegal, it can't be longer than ${topicNameLengthMax} characters, topic name: ${name}`,
    );
  }
  if (!legalTopicName.test(name)) {
    return failure(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`,
    );
  }
  if (internalTopicNames.has(name)) {
    return failure(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `${name} is an internal topic and cannot be created by clients`,
    );
  }
  return null;
}

/** Round-robin placement: partition p starts at the p-th live broker, like [1,2,3], [2,3,1], [3,1,2]. */
export function assignReplicas(
  brokerIds: number[],
  partitionIndex: number,
  replicationFactor: number,
): number[] {
  const replicas: number[] = [];
  for (let index = 0; index < replicationFactor; index++) {
    replicas.push(brokerIds[(partitionIndex + index) % brokerIds.length]!);
  }
  return replicas;
}

/**
 * A requested assignment, checked as Kafka's controller does before any
 * partition is decided: partitions in order, one replication factor, only
 * registered brokers. Whether its replicas are distinct, and whether any of
 * them is live enough to lead, is the lifecycle machine's decision.
 */
function checkAssignments(
  assignments: NewTopic["assignments"],
  registeredBrokerIds: ReadonlySet<number>,
  firstPartition: number,
): CommandError | null {
  const size = assignments[0]?.brokerIds.length ?? 0;
  for (const [index, assignment] of assignments.entries()) {
    if (assignment.partitionIndex !== firstPartition + index) {
      return failure(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        "Partitions in the assignment must be consecutive from 0",
      );
    }
    if (assignment.brokerIds.length !== size) {
      return failure(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        "All partitions must have the same number of replicas",
      );
    }
    const unknown = assignment.brokerIds.find((id) => !registeredBrokerIds.has(id));
    if (unknown !== undefined) {
      return failure(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `The manual partition assignment includes broker ${unknown}, but no such broker is registered.`,
      );
    }
  }
  return null;
}

export function planCreateTopic(
  image: MetadataImage,
  topic: NewTopic,
  defaults: TopicDefaults,
): PlannedTopic | CommandError {
  const nameProblem = checkTopicName(topic.name);
  if (nameProblem) return nameProblem;
  if (image.topicsByName.has(topic.name)) {
    return failure(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${topic.name}' already exists.`);
  }
  const liveBrokerIds = image.usableBrokers().map((broker) => broker.brokerId);
  let replicaLists: number[][];
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      return failure(
        ErrorCode.INVALID_REQUEST,
        "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.",
      );
    }
    const problem = checkAssignments(topic.assignments, new Set(image.brokers.keys()), 0);
    if (problem) return problem;
    replicaLists = topic.assignments.map((assignment) => [...assignment.brokerIds]);
  } else {
    const numPartitions = topic.numPartitions === -1 ? defaults.numPartitions : topic.numPartitions;
    const replicationFactor =
      topic.replicationFactor === -1 ? defaults.replicationFactor : topic.replicationFactor;
    if (numPartitions <= 0)
      return failure(ErrorCode.INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
    if (replicationFactor <= 0) {
      return failure(ErrorCode.INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0.");
    }
    if (replicationFactor > liveBrokerIds.length) {
      return failure(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ` +
          `${replicationFactor} cannot be reached because only ${liveBrokerIds.length} broker(s) are registered.`,
      );
    }
    replicaLists = Array.from({ length: numPartitions }, (_, index) =>
      assignReplicas(liveBrokerIds, index, replicationFactor),
    );
  }
  const seenConfigs = new Set<string>();
  for (const config of topic.configs) {
    const problem = defaults.checkConfig(config.name, config.value);
    if (problem) return failure(ErrorCode.INVALID_CONFIG, problem);
    if (seenConfigs.has(config.name))
      return failure(ErrorCode.INVALID_REQUEST, `Duplicate config ${config.name}`);
    seenConfigs.add(config.name);
  }
  const topicId = randomUUID().replaceAll("-", "");
  const configs = new Map<string, string>();
  for (const config of topic.configs) if (config.value !== null) configs.set(config.name, config.value);
  const records: MetadataRecord[] = [
    { type: "TopicRecord", version: 0, value: { name: topic.name, topicId } },
    ...topic.configs.map(
      (config): MetadataRecord => ({
        type: "ConfigRecord",
        version: 0,
        value: {
          resourceType: configResourceTopic,
          resourceName: topic.name,
          name: config.name,
          value: config.value,
        },
      }),
    ),
  ];
  return {
    topicId,
    numPartitions: replicaLists.length,
    replicationFactor: replicaLists[0]!.length,
    records,
    assignments: replicaLists,
    configs,
  };
}

export function planCreatePartitions(
  image: MetadataImage,
  name: string,
  count: number,
  assignments: Array<{ brokerIds: number[] }> | null,
): PlannedPartitions | CommandError {
  const topic = image.topicsByName.get(name);
  if (!topic) return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
  const current = topic.partitions.size;
  if (count < current) {
    return failure(
      ErrorCode.INVALID_PARTITIONS,
      `Topic currently has ${current} partitions, which is higher than the requested ${count}.`,
    );
  }
  if (count === current) {
    return failure(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
  }
  const liveBrokerIds = image.usableBrokers().map((broker) => broker.brokerId);
  const replicationFactor = topic.partitions.get(0)?.replicas.length ?? 1;
  let replicaLists: number[][];
  if (assignments !== null) {
    if (assignments.length !== count - current) {
      return failure(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Increasing the number of partitions by ${count - current} but ${assignments.length} assignments provided.`,
      );
    }
    const indexed = assignments.map((assignment, index) => ({
      partitionIndex: current + index,
      ...assignment,
    }));
    const problem = checkAssignments(indexed, new Set(image.brokers.keys()), current);
    if (problem) return problem;
    replicaLists = assignments.map((assignment) => [...assignment.brokerIds]);
  } else {
    if (replicationFactor > liveBrokerIds.length) {
      return failure(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replicationFactor} time(s): only ${liveBrokerIds.length} broker(s) are registered.`,
      );
    }
    replicaLists = Array.from({ length: count - current }, (_, index) =>
      assignReplicas(liveBrokerIds, current + index, replicationFactor),
    );
  }
  return {
    topicId: topic.topicId,
    firstPartition: current,
    assignments: replicaLists,
    configs: topic.configs,
  };
}
