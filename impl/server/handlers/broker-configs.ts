/** The broker's static configuration under Kafka's names, as DescribeConfigs shows it. */
import type { BrokerConfig } from "../../broker/config.ts";

export interface BrokerConfigEntry {
  name: string;
  value: string;
  type: "boolean" | "string" | "int" | "long" | "list";
  documentation: string;
}

export function brokerConfigEntries(config: BrokerConfig): BrokerConfigEntry[] {
  return [
    {
      name: "node.id",
      value: String(config.nodeId),
      type: "int",
      documentation: "This node's id (--node-id).",
    },
    { name: "broker.id", value: String(config.nodeId), type: "int", documentation: "The same as node.id." },
    {
      name: "listeners",
      value: `PLAINTEXT://${config.listenHost}:${config.listenPort}`,
      type: "list",
      documentation: "Where the broker listens (--listen).",
    },
    {
      name: "advertised.listeners",
      value: `PLAINTEXT://${config.advertisedHost}:${config.advertisedPort}`,
      type: "list",
      documentation: "What clients are told to connect to (--advertise).",
    },
    {
      name: "log.dirs",
      value: config.dataDir,
      type: "list",
      documentation: "Where the data lives (--data-dir).",
    },
    {
      name: "num.partitions",
      value: String(config.numPartitions),
      type: "int",
      documentation: "Partitions of an auto-created topic (--num-partitions).",
    },
    {
      name: "default.replication.factor",
      value: String(config.defaultReplicationFactor),
      type: "int",
      documentation: "Replicas of an auto-created topic (--default-replication-factor).",
    },
    {
      name: "min.insync.replicas",
      value: String(config.minInsyncReplicas),
      type: "int",
      documentation: "Fewest in-sync replicas for acks=all (--min-insync-replicas).",
    },
    {
      name: "auto.create.topics.enable",
      value: String(config.autoCreateTopicsEnable),
      type: "boolean",
      documentation: "Whether produce and metadata requests create missing topics.",
    },
    {
      name: "message.max.bytes",
      value: String(config.messageBytesMax),
      type: "int",
      documentation: "The largest record batch accepted.",
    },
    {
      name: "socket.request.max.bytes",
      value: String(config.requestBytesMax),
      type: "int",
      documentation: "The largest request accepted.",
    },
    {
      name: "chronik.fsync.policy",
      value: config.fsync,
      type: "string",
      documentation: "When appends are synced to disk (--fsync).",
    },
  ];
}
