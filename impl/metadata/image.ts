/**
 * MetadataImage: the cluster's metadata as it stands after applying the
 * committed records of `__chronik_metadata` in order. Every answer about
 * topics, partitions, leaders and brokers comes from here; nothing else
 * holds a second copy.
 */
import type { MetadataRecord } from "./records.ts";

export interface PartitionImage {
  partitionId: number;
  replicas: number[];
  isr: number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface TopicImage {
  name: string;
  topicId: string;
  partitions: Map<number, PartitionImage>;
  /** Topic-level config overrides (ConfigRecord with resource type TOPIC). */
  configs: Map<string, string>;
}

export interface BrokerEndpoint {
  name: string;
  host: string;
  port: number;
  securityProtocol: number;
}

export interface BrokerImage {
  brokerId: number;
  incarnationId: string;
  brokerEpoch: bigint;
  endpoints: BrokerEndpoint[];
  rack: string | null;
  fenced: boolean;
  /**
   * The broker asked to shut down (BrokerHeartbeat want_shut_down): it may
   * not lead or join an ISR, and the controller never unfences it again. Only
   * a new registration (a new incarnation) clears it.
   */
  inControlledShutdown: boolean;
  /** The offset of the RegisterBrokerRecord: a broker whose metadata reaches past it has caught up. */
  registrationOffset: bigint;
}

/** ConfigRecord resource types, as in Kafka's ConfigResource. */
export const configResourceTopic = 2;
export const configResourceBroker = 4;

export type ImageChange =
  | { kind: "topic-created"; topic: TopicImage }
  | { kind: "partition-changed"; topic: TopicImage; partition: PartitionImage }
  | { kind: "topic-removed"; topic: TopicImage }
  | { kind: "topic-config-changed"; topic: TopicImage }
  | { kind: "broker-changed"; broker: BrokerImage };

export class MetadataImage {
  readonly topicsByName = new Map<string, TopicImage>();
  readonly topicsById = new Map<string, TopicImage>();
  readonly brokers = new Map<number, BrokerImage>();
  /** Offset of the last record applied; -1 before any. */
  appliedOffset = -1n;
  /**
   * The first producer id of the next block the controller hands out
   * (ProducerIdsRecord): every id below it went to some broker, once.
   */
  nextProducerId = 0n;

  /** Applies one committed record; returns what changed so the broker can act on it. */
  apply(record: MetadataRecord, offset: bigint): ImageChange | null {
    if (offset <= this.appliedOffset) {
      throw new Error(
        `metadata record at ${offset} applied after ${this.appliedOffset}: records must apply in order`,
      );
    }
    this.appliedOffset = offset;
    switch (record.type) {
      case "TopicRecord": {
        const { name, topicId } = record.value;
        if (this.topicsByName.has(name) || this.topicsById.has(topicId)) {
          throw new Error(`TopicRecord for ${name} (${topicId}) at ${offset} repeats an existing topic`);
        }
        const topic: TopicImage = { name, topicId, partitions: new Map(), configs: new Map() };
        this.topicsByName.set(name, topic);
        this.topicsById.set(topicId, topic);
        return { kind: "topic-created", topic };
      }
      case "PartitionRecord": {
        const value = record.value;
        const topic = this.requireTopic(value.topicId, offset);
        const partition: PartitionImage = {
          partitionId: value.partitionId,
          replicas: [...value.replicas],
          isr: [...value.isr],
          leader: value.leader,
          leaderEpoch: value.leaderEpoch,
          partitionEpoch: value.partitionEpoch,
        };
        topic.partitions.set(partition.partitionId, partition);
        return { kind: "partition-changed", topic, partition };
      }
      case "PartitionChangeRecord": {
        const value = record.value;
        const topic = this.requireTopic(value.topicId, offset);
        const partition = topic.partitions.get(value.partitionId);
        if (!partition)
          throw new Error(`PartitionChangeRecord at ${offset} for unknown partition ${value.partitionId}`);
        if (value.isr !== null) partition.isr = [...value.isr];
        if (value.replicas !== null) partition.replicas = [...value.replicas];
        // Leader -2 means "unchanged"; any other value is a new leader and a new leader epoch.
        if (value.leader !== -2) {
          partition.leader = value.leader;
          partition.leaderEpoch += 1;
        }
        partition.partitionEpoch += 1;
        return { kind: "partition-changed", topic, partition };
      }
      case "RemoveTopicRecord": {
        const topic = this.requireTopic(record.value.topicId, offset);
        this.topicsByName.delete(topic.name);
        this.topicsById.delete(topic.topicId);
        return { kind: "topic-removed", topic };
      }
      case "ConfigRecord": {
        const { resourceType, resourceName, name, value } = record.value;
        if (resourceType !== configResourceTopic) return null;
        const topic = this.topicsByName.get(resourceName);
        if (!topic) throw new Error(`ConfigRecord at ${offset} for unknown topic ${resourceName}`);
        if (value === null) topic.configs.delete(name);
        else topic.configs.set(name, value);
        return { kind: "topic-config-changed", topic };
      }
      case "RegisterBrokerRecord": {
        const value = record.value;
        const broker: BrokerImage = {
          brokerId: value.brokerId,
          incarnationId: value.incarnationId,
          brokerEpoch: value.brokerEpoch,
          endpoints: value.endPoints.map(({ name, host, port, securityProtocol }) => ({
            name,
            host,
            port,
            securityProtocol,
          })),
          rack: value.rack,
          fenced: value.fenced,
          inControlledShutdown: value.inControlledShutdown,
          registrationOffset: offset,
        };
        this.brokers.set(broker.brokerId, broker);
        return { kind: "broker-changed", broker };
      }
      case "FenceBrokerRecord":
      case "UnfenceBrokerRecord": {
        const broker = this.brokers.get(record.value.id);
        if (!broker)
          throw new Error(`${record.type} at ${offset} for unregistered broker ${record.value.id}`);
        broker.fenced = record.type === "FenceBrokerRecord";
        return { kind: "broker-changed", broker };
      }
      case "BrokerRegistrationChangeRecord": {
        const { brokerId, brokerEpoch, fenced, inControlledShutdown } = record.value;
        const broker = this.brokers.get(brokerId);
        if (!broker) throw new Error(`${record.type} at ${offset} for unregistered broker ${brokerId}`);
        // A change made for one incarnation must not land on the next, as Kafka refuses to replay it.
        if (broker.brokerEpoch !== brokerEpoch) {
          throw new Error(
            `${record.type} at ${offset} for broker ${brokerId} epoch ${brokerEpoch}, registered with epoch ${broker.brokerEpoch}`,
          );
        }
        if (fenced !== 0) broker.fenced = fenced > 0;
        if (inControlledShutdown > 0) broker.inControlledShutdown = true;
        return { kind: "broker-changed", broker };
      }
      case "ProducerIdsRecord": {
        const { nextProducerId, brokerId } = record.value;
        // Blocks only move forward: an id handed out twice would let two producers share one.
        if (nextProducerId <= this.nextProducerId) {
          throw new Error(
            `ProducerIdsRecord at ${offset} for broker ${brokerId} moves the next producer id from ${this.nextProducerId} back to ${nextProducerId}`,
          );
        }
        this.nextProducerId = nextProducerId;
        return null;
      }
      case "NoOpRecord":
        return null;
    }
  }

  private requireTopic(topicId: string, offset: bigint): TopicImage {
    const topic = this.topicsById.get(topicId);
    if (!topic) throw new Error(`metadata record at ${offset} names unknown topic id ${topicId}`);
    return topic;
  }

  /**
   * Brokers new replicas and leaderships may go to: live and not in
   * controlled shutdown, as Kafka's controller places replicas.
   */
  usableBrokers(): BrokerImage[] {
    return this.liveBrokers().filter((broker) => !broker.inControlledShutdown);
  }

  /**
   * The replicas whose brokers may not join an ISR: unregistered, fenced or
   * in controlled shutdown (KIP-841, Kafka's isReplicaIsrEligible).
   */
  isrIneligible(replicaIds: readonly number[]): number[] {
    return replicaIds.filter((replicaId) => {
      const broker = this.brokers.get(replicaId);
      return broker === undefined || broker.fenced || broker.inControlledShutdown;
    });
  }

  /** Brokers clients may use: registered and not fenced (a broker in controlled shutdown still serves). */
  liveBrokers(): BrokerImage[] {
    return [...this.brokers.values()]
      .filter((broker) => !broker.fenced)
      .sort((a, b) => a.brokerId - b.brokerId);
  }
}
