/**
 * Metadata: brokers, controller and topics from the applied image. Names that
 * do not exist are auto-created (when allowed by the request and the broker)
 * and answered once their records are applied, never with guessed metadata.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { autoCreateTopics } from "../../broker/topic-creation.ts";
import { offsetsTopicName } from "../../groups/offsets-topic.ts";
import type { MetadataImage, TopicImage } from "../../metadata/image.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import { checkTopicName } from "../../metadata/topic-commands.ts";
import type { metadataApi } from "../../protocol/apis/metadata.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import { zeroUuid } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof metadataApi.request.read>;
type Response = InferInput<typeof metadataApi.response>;
type TopicResponse = NonNullable<Response["topics"]>[number];

export function advertisedBrokers(services: BrokerServices) {
  return services.image.liveBrokers().map((broker) => {
    const endpoint = broker.endpoints[0];
    if (!endpoint) throw new Error(`broker ${broker.brokerId} registered without an endpoint`);
    return { nodeId: broker.brokerId, host: endpoint.host, port: endpoint.port, rack: broker.rack };
  });
}

/**
 * As Kafka's KRaftMetadataCache describes a partition: one without a leader
 * is LEADER_NOT_AVAILABLE, and a replica on a fenced (or unregistered) broker
 * is offline.
 */
function describeTopic(topic: TopicImage, image: MetadataImage): TopicResponse {
  const partitions = [...topic.partitions.values()].sort((a, b) => a.partitionId - b.partitionId);
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    // Clients leave internal topics out of pattern subscriptions and listings by this flag.
    isInternal: topic.name === offsetsTopicName,
    partitions: partitions.map((partition) => ({
      errorCode: partition.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: partition.partitionId,
      leaderId: partition.leader,
      leaderEpoch: partition.leaderEpoch,
      replicaNodes: partition.replicas,
      isrNodes: partition.isr,
      offlineReplicas: partition.replicas.filter((replica) => image.brokers.get(replica)?.fenced !== false),
    })),
  };
}

function unknownTopic(name: string | null, topicId: string, errorCode: number): TopicResponse {
  return { errorCode, name, topicId, isInternal: false, partitions: [] };
}

export function metadataHandler(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const { image } = services;
    // Version 0 has no null list: there, an empty list asks for every topic.
    const requested = context.version === 0 && request.topics?.length === 0 ? null : request.topics;
    let topics: TopicResponse[];
    if (requested === null) {
      topics = [...image.topicsByName.values()]
        .filter((topic) => !internalTopicNames.has(topic.name))
        .map((topic) => describeTopic(topic, image));
    } else {
      const creatable = requested
        .map((entry) => entry.name)
        .filter((name): name is string => name !== null && checkTopicName(name) === null);
      // Version 0-3 requests always allow auto-creation; later versions say so explicitly.
      if (request.allowAutoTopicCreation) await autoCreateTopics(services, creatable);
      topics = requested.map(({ name, topicId }) => {
        if (name === null) {
          const byId = image.topicsById.get(topicId);
          return byId ? describeTopic(byId, image) : unknownTopic(null, topicId, ErrorCode.UNKNOWN_TOPIC_ID);
        }
        if (checkTopicName(name) !== null && !internalTopicNames.has(name)) {
          return unknownTopic(name, zeroUuid, ErrorCode.INVALID_TOPIC_EXCEPTION);
        }
        const byName = internalTopicNames.has(name) ? undefined : image.topicsByName.get(name);
        return byName
          ? describeTopic(byName, image)
          : unknownTopic(name, zeroUuid, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      });
    }
    return {
      throttleTimeMs: 0,
      brokers: advertisedBrokers(services),
      clusterId: services.clusterId,
      controllerId: services.quorum.controllerId ?? -1,
      topics,
    };
  };
}
