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
      name: "broker.session.timeout.ms",
      value: String(config.brokerSessionTimeoutMs),
      type: "int",
      documentation:
        "A node that has not fetched the metadata log for this long is fenced (--broker-session-timeout-ms).",
    },
    {
      name: "replica.lag.time.max.ms",
      value: String(config.replicaLagMsMax),
      type: "long",
      documentation: "A follower not caught up for this long leaves the ISR (--replica-lag-time-max-ms).",
    },
    {
      name: "controller.quorum.election.timeout.ms",
      value: String(config.quorumElectionTimeoutMs),
      type: "int",
      documentation:
        "A voter that hears from no leader for this long stands (--controller-quorum-election-timeout-ms).",
    },
    {
      name: "controller.quorum.fetch.timeout.ms",
      value: String(config.quorumFetchTimeoutMs),
      type: "int",
      documentation: "How long a follower trusts a quiet leader (--controller-quorum-fetch-timeout-ms).",
    },
    {
      name: "controller.quorum.election.backoff.max.ms",
      value: String(config.quorumElectionBackoffMaxMs),
      type: "int",
      documentation:
        "The longest wait before standing after a leader resigned (--controller-quorum-election-backoff-max-ms).",
    },
    {
      name: "controller.quorum.request.timeout.ms",
      value: String(config.quorumRequestTimeoutMs),
      type: "int",
      documentation:
        "How long a quorum request waits for its answer (--controller-quorum-request-timeout-ms).",
    },
    {
      name: "controlled.shutdown.enable",
      value: String(config.controlledShutdownEnable),
      type: "boolean",
      documentation:
        "Whether a stopping node first has the controller move its leaderships away (--controlled-shutdown-enable).",
    },
    {
      name: "offsets.topic.num.partitions",
      value: String(config.offsetsTopicPartitions),
      type: "int",
      documentation: "Partitions of __consumer_offsets when it is created (--offsets-topic-partitions).",
    },
    {
      name: "offsets.topic.replication.factor",
      value: String(config.offsetsTopicReplicationFactor),
      type: "int",
      documentation:
        "Replicas of __consumer_offsets when it is created (--offsets-topic-replication-factor).",
    },
    {
      name: "group.initial.rebalance.delay.ms",
      value: String(config.groupInitialRebalanceDelayMs),
      type: "int",
      documentation: "How long an empty group's first rebalance waits (--group-initial-rebalance-delay-ms).",
    },
    {
      name: "group.min.session.timeout.ms",
      value: String(config.groupMinSessionTimeoutMs),
      type: "int",
      documentation: "The shortest session timeout a member may ask for (--group-min-session-timeout-ms).",
    },
    {
      name: "group.max.session.timeout.ms",
      value: String(config.groupMaxSessionTimeoutMs),
      type: "int",
      documentation: "The longest session timeout a member may ask for (--group-max-session-timeout-ms).",
    },
    {
      name: "group.max.size",
      value: String(config.groupMaxSize),
      type: "int",
      documentation: "Members a group may hold (--group-max-size).",
    },
    {
      name: "chronik.fsync.policy",
      value: config.fsync,
      type: "string",
      documentation: "When appends are synced to disk (--fsync).",
    },
  ];
}
