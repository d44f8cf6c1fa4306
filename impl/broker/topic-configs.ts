/**
 * Topic-level configurations under Kafka's names: their defaults (some taken
 * from the broker's flags), how a value is checked, and how the effective
 * values become the storage engine's LogConfig. A name not listed here is
 * refused with INVALID_CONFIG, as Kafka refuses an unknown topic config.
 */
import type { LogConfig } from "../storage/log-config.ts";
import type { BrokerConfig } from "./config.ts";

export type ConfigType = "boolean" | "string" | "int" | "long" | "list";

export interface TopicConfigDefinition {
  name: string;
  type: ConfigType;
  /** The broker config that supplies the default, shown as a synonym by DescribeConfigs. */
  brokerSynonym: string;
  defaultValue(broker: BrokerConfig): string;
  /** Why the value is refused, or null when it is accepted. */
  check(value: string): string | null;
  documentation: string;
}

const dayMs = 24 * 60 * 60 * 1000;

function integerAtLeast(minimum: number): (value: string) => string | null {
  return (value) =>
    /^-?\d+$/.test(value) && Number(value) >= minimum ? null : `must be an integer of at least ${minimum}`;
}

function oneOf(accepted: string[], why: string): (value: string) => string | null {
  return (value) => (accepted.includes(value) ? null : why);
}

export const topicConfigDefinitions: TopicConfigDefinition[] = [
  {
    name: "cleanup.policy",
    type: "list",
    brokerSynonym: "log.cleanup.policy",
    defaultValue: () => "delete",
    check: oneOf(["delete"], "only the delete policy is supported; log compaction is not implemented"),
    documentation: "What happens to old segments: deleted by retention.",
  },
  {
    name: "compression.type",
    type: "string",
    brokerSynonym: "compression.type",
    defaultValue: () => "producer",
    check: oneOf(
      ["producer"],
      "batches are stored as the producer compressed them; recompression is not supported",
    ),
    documentation: "Batches are kept with the producer's compression.",
  },
  {
    name: "max.message.bytes",
    type: "int",
    brokerSynonym: "message.max.bytes",
    defaultValue: (broker) => String(broker.messageBytesMax),
    check: integerAtLeast(0),
    documentation: "The largest record batch accepted.",
  },
  {
    name: "message.timestamp.type",
    type: "string",
    brokerSynonym: "log.message.timestamp.type",
    defaultValue: () => "CreateTime",
    check: oneOf(["CreateTime"], "only CreateTime is supported"),
    documentation: "Timestamps are the producer's create time.",
  },
  {
    name: "min.insync.replicas",
    type: "int",
    brokerSynonym: "min.insync.replicas",
    defaultValue: (broker) => String(broker.minInsyncReplicas),
    check: integerAtLeast(1),
    documentation: "Fewest in-sync replicas for an acks=all produce to be accepted.",
  },
  {
    name: "retention.bytes",
    type: "long",
    brokerSynonym: "log.retention.bytes",
    defaultValue: () => "-1",
    check: integerAtLeast(-1),
    documentation: "Largest size a partition keeps before old segments are deleted; -1 for no limit.",
  },
  {
    name: "retention.ms",
    type: "long",
    brokerSynonym: "log.retention.ms",
    defaultValue: () => String(7 * dayMs),
    check: integerAtLeast(-1),
    documentation: "How long a segment is kept after its newest record; -1 for no limit.",
  },
  {
    name: "segment.bytes",
    type: "int",
    brokerSynonym: "log.segment.bytes",
    defaultValue: () => String(1024 * 1024 * 1024),
    check: integerAtLeast(14),
    documentation: "Size at which the active segment is rolled.",
  },
  {
    name: "segment.ms",
    type: "long",
    brokerSynonym: "log.roll.ms",
    defaultValue: () => String(7 * dayMs),
    check: integerAtLeast(1),
    documentation: "Age at which the active segment is rolled.",
  },
  {
    name: "index.interval.bytes",
    type: "int",
    brokerSynonym: "log.index.interval.bytes",
    defaultValue: () => "4096",
    check: integerAtLeast(0),
    documentation: "Bytes between entries of the sparse offset index.",
  },
  {
    name: "unclean.leader.election.enable",
    type: "boolean",
    brokerSynonym: "unclean.leader.election.enable",
    defaultValue: () => "false",
    check: oneOf(["true", "false"], "must be true or false"),
    documentation: "Whether a replica outside the ISR may become leader.",
  },
];

const definitionsByName = new Map(topicConfigDefinitions.map((definition) => [definition.name, definition]));

export function topicConfigDefinition(name: string): TopicConfigDefinition | undefined {
  return definitionsByName.get(name);
}

/** Why a topic config is refused, or null. */
export function checkTopicConfig(name: string, value: string | null): string | null {
  const definition = definitionsByName.get(name);
  if (!definition) return `unknown topic config name: ${name}`;
  if (value === null) return `${name} needs a value`;
  const problem = definition.check(value);
  return problem === null ? null : `invalid value ${value} for ${name}: ${problem}`;
}

/** The value in force: the topic's override, else the default. */
export function effectiveTopicConfig(
  overrides: ReadonlyMap<string, string>,
  broker: BrokerConfig,
  name: string,
): string {
  const definition = definitionsByName.get(name);
  if (!definition) throw new Error(`no topic config named ${name}`);
  return overrides.get(name) ?? definition.defaultValue(broker);
}

export function logConfigFor(overrides: ReadonlyMap<string, string>, broker: BrokerConfig): LogConfig {
  const number = (name: string) => Number(effectiveTopicConfig(overrides, broker, name));
  return {
    segmentBytesMax: number("segment.bytes"),
    segmentMsMax: number("segment.ms"),
    indexIntervalBytes: number("index.interval.bytes"),
    retentionBytesMax: number("retention.bytes"),
    retentionMsMax: number("retention.ms"),
  };
}
