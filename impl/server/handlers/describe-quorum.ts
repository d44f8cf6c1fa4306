/**
 * DescribeQuorum: the metadata quorum as its leader sees it (leader, epoch,
 * high watermark, each voter's and observer's log end and fetch times), for
 * the one partition of `__chronik_metadata`. Another topic or partition is
 * answered UNKNOWN_TOPIC_OR_PARTITION. A node that does not lead forwards the
 * request to the controller; asked in a forwarded request, it answers
 * NOT_LEADER_OR_FOLLOWER with the leader and epoch it knows, as Kafka does.
 */
import type { BrokerServices } from "../../broker/services.ts";
import type { ReplicaDescription } from "../../cluster/raft/describe-quorum.ts";
import { metadataTopicName } from "../../metadata/internal-topics.ts";
import { describeQuorumApi } from "../../protocol/apis/describe-quorum.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { atController } from "./at-controller.ts";
import { advertisedBrokers } from "./metadata.ts";

type Request = ReturnType<typeof describeQuorumApi.request.read>;
type Response = InferInput<typeof describeQuorumApi.response>;
type PartitionAnswer = Response["topics"][number]["partitions"][number];

const noDirectoryId = "00000000000000000000000000000000";

function replicaState(replica: ReplicaDescription) {
  return {
    replicaId: replica.replicaId,
    replicaDirectoryId: noDirectoryId,
    logEndOffset: BigInt(replica.logEndOffset),
    lastFetchTimestamp: BigInt(Math.round(replica.lastFetchTimestampMs)),
    lastCaughtUpTimestamp: BigInt(Math.round(replica.lastCaughtUpTimestampMs)),
  };
}

export function describeQuorumHandler(services: BrokerServices): Handler<Request, Response> {
  return atController(services, describeQuorumApi, describeHere(services), refused, { readOnly: true });
}

function refused(_request: Request, _context: unknown, errorCode: number, errorMessage: string): Response {
  return { errorCode, errorMessage, topics: [], nodes: [] };
}

function describeHere(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const quorum = await services.quorum.describe();
    const answer = (partitionIndex: number, topicName: string): PartitionAnswer => {
      if (topicName !== metadataTopicName || partitionIndex !== 0) {
        return {
          partitionIndex,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `The metadata quorum is ${metadataTopicName} partition 0.`,
          leaderId: -1,
          leaderEpoch: -1,
          highWatermark: -1n,
          currentVoters: [],
          observers: [],
        };
      }
      const leads = quorum.errorName === "NONE";
      return {
        partitionIndex,
        errorCode: leads ? ErrorCode.NONE : ErrorCode.NOT_LEADER_OR_FOLLOWER,
        errorMessage: leads ? null : "This node does not lead the metadata quorum.",
        leaderId: quorum.leaderId ?? -1,
        leaderEpoch: quorum.epoch,
        highWatermark: BigInt(quorum.highWatermark),
        currentVoters: quorum.voters.map(replicaState),
        observers: quorum.observers.map(replicaState),
      };
    };
    const voterIds = new Set(quorum.voters.map((voter) => voter.replicaId));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: request.topics.map((topic) => ({
        topicName: topic.topicName,
        partitions: topic.partitions.map((partition) => answer(partition.partitionIndex, topic.topicName)),
      })),
      nodes: advertisedBrokers(services)
        .filter((broker) => voterIds.has(broker.nodeId))
        .map((broker) => ({
          nodeId: broker.nodeId,
          listeners: [{ name: "PLAINTEXT", host: broker.host, port: broker.port }],
        })),
    };
  };
}
