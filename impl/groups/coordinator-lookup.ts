/**
 * Where a group's coordinator is: the leader of the group's partition of
 * `__consumer_offsets`, as this node's applied metadata names it. Any node
 * answers FindCoordinator this way. The first lookup on a cluster without
 * the topic creates it through the controller, as Kafka does, and is told
 * COORDINATOR_NOT_AVAILABLE meanwhile; the client asks again.
 */

import type { BrokerServices } from "../broker/services.ts";
import { createThroughController } from "../broker/topic-creation.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import { offsetsPartitionFor, offsetsTopicName } from "./offsets-topic.ts";

export type CoordinatorLookup =
  | { errorCode: 0; nodeId: number; host: string; port: number }
  | { errorCode: number; errorMessage: string };

/** What `__consumer_offsets` is created with: nothing is ever deleted by retention. */
export function offsetsTopicConfigs(): Array<{ name: string; value: string }> {
  // Kafka compacts this topic; without compaction here, time or size retention would drop
  // committed offsets and group state, so the log is kept whole.
  return [
    { name: "retention.ms", value: "-1" },
    { name: "retention.bytes", value: "-1" },
  ];
}

/** The partition of `__consumer_offsets` the group lives in, or null while the topic does not exist. */
export function groupPartition(services: Pick<BrokerServices, "image">, groupId: string): number | null {
  const topic = services.image.topicsByName.get(offsetsTopicName);
  // Placement follows the topic as it is (Kafka reads the partition count from its metadata).
  return topic === undefined ? null : offsetsPartitionFor(groupId, topic.partitions.size);
}

export class CoordinatorLocator {
  private creating: Promise<void> | null = null;

  constructor(private readonly services: BrokerServices) {}

  find(groupId: string): CoordinatorLookup {
    const { image } = this.services;
    const topic = image.topicsByName.get(offsetsTopicName);
    if (topic === undefined) {
      this.createOffsetsTopic();
      return {
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        errorMessage: `The coordinator is not available: ${offsetsTopicName} is being created.`,
      };
    }
    const partitionId = offsetsPartitionFor(groupId, topic.partitions.size);
    const leader = topic.partitions.get(partitionId)?.leader ?? -1;
    const broker = leader < 0 ? undefined : image.brokers.get(leader);
    const endpoint = broker?.fenced === false ? broker.endpoints[0] : undefined;
    if (endpoint === undefined) {
      return {
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        errorMessage: `The coordinator is not available: ${offsetsTopicName}-${partitionId} has no live leader.`,
      };
    }
    return { errorCode: ErrorCode.NONE, nodeId: leader, host: endpoint.host, port: endpoint.port };
  }

  /** Starts creating the topic unless a creation is already running; lookups meanwhile are told to retry. */
  private createOffsetsTopic(): void {
    if (this.creating !== null) return;
    const { config, image, logger } = this.services;
    const liveNodes = image.usableBrokers().length;
    const replicationFactor = Math.max(1, Math.min(config.offsetsTopicReplicationFactor, liveNodes));
    if (replicationFactor < config.offsetsTopicReplicationFactor) {
      logger.warn(
        { configured: config.offsetsTopicReplicationFactor, liveNodes, replicationFactor },
        `${offsetsTopicName} created with fewer replicas than offsets.topic.replication.factor: only ${liveNodes} live nodes`,
      );
    }
    const topic = {
      name: offsetsTopicName,
      numPartitions: config.offsetsTopicPartitions,
      replicationFactor,
      assignments: [],
      configs: offsetsTopicConfigs(),
    };
    this.creating = createThroughController(this.services, [topic])
      .then(([outcome]) => {
        if (outcome === undefined) return;
        if (outcome.errorCode === ErrorCode.NONE) {
          logger.info(
            { topic: offsetsTopicName, partitions: config.offsetsTopicPartitions, replicationFactor },
            "internal topic created",
          );
        } else if (outcome.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
          logger.warn(
            { topic: offsetsTopicName, error: errorName(outcome.errorCode), reason: outcome.errorMessage },
            "internal topic creation failed; the next FindCoordinator tries again",
          );
        }
      })
      .catch((error: unknown) => logger.error({ err: error }, `creating ${offsetsTopicName} failed`))
      .finally(() => {
        this.creating = null;
      });
  }
}
