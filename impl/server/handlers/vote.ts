/**
 * Vote (52): a candidate asks this node for its vote, or (v2, KIP-996) a
 * prospective candidate whether it would get it. Answered by the node's Raft
 * runtime once the vote (or the newer epoch) is persisted. A request naming
 * another voter (v1+ voter_id) is refused with INVALID_VOTER_KEY, a negative
 * epoch, id or offset with INVALID_REQUEST, as Kafka does.
 */
import { metadataTopicName } from "../../metadata/internal-topics.ts";
import type { voteApi } from "../../protocol/apis/vote.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import {
  askQuorum,
  clusterIdAccepted,
  isRefusal,
  metadataPartitionOf,
  offsetFromWire,
  type QuorumServices,
} from "./quorum-request.ts";

type Request = ReturnType<typeof voteApi.request.read>;
type Response = InferInput<typeof voteApi.response>;
type PartitionAnswer = Response["topics"][number]["partitions"][number];

const noVoterId = -1;

function answered(partition: PartitionAnswer): Response {
  return { errorCode: ErrorCode.NONE, topics: [{ topicName: metadataTopicName, partitions: [partition] }] };
}

function refusedVote(errorCode: number): Response {
  return answered({ partitionIndex: 0, errorCode, leaderId: -1, leaderEpoch: -1, voteGranted: false });
}

export function voteHandler(services: QuorumServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    if (!clusterIdAccepted(services, request.clusterId)) {
      return { errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, topics: [] };
    }
    const partition = metadataPartitionOf(
      request.topics.map((topic) => ({ name: topic.topicName, partitions: topic.partitions })),
    );
    if (partition === null) return { errorCode: ErrorCode.INVALID_REQUEST, topics: [] };
    if (request.voterId !== noVoterId && request.voterId !== services.config.nodeId) {
      return refusedVote(ErrorCode.INVALID_VOTER_KEY);
    }
    const endOffset = offsetFromWire(partition.lastOffset);
    const { candidateEpoch, candidateId, lastOffsetEpoch } = partition;
    if (endOffset === null || candidateEpoch < 0 || candidateId < 0 || lastOffsetEpoch < 0) {
      return refusedVote(ErrorCode.INVALID_REQUEST);
    }
    const outcome = await askQuorum(() =>
      services.quorum.rpc.handleVote({
        candidateId,
        epoch: candidateEpoch,
        lastEpoch: lastOffsetEpoch,
        endOffset,
        preVote: partition.preVote,
      }),
    );
    if (isRefusal(outcome)) return { errorCode: outcome.refusedWith, topics: [] };
    return answered({
      partitionIndex: 0,
      errorCode: ErrorCode.NONE,
      leaderId: outcome.leaderId ?? -1,
      leaderEpoch: outcome.epoch,
      voteGranted: outcome.granted,
    });
  };
}
