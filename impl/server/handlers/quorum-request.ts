/**
 * What the metadata quorum's handlers (Vote, BeginQuorumEpoch, EndQuorumEpoch
 * and a replica's metadata Fetch) share, answering as KafkaRaftClient does:
 * - a request carrying another cluster's id is refused with
 *   INCONSISTENT_CLUSTER_ID; one carrying none (an older sender) is taken;
 * - a request not about exactly `__chronik_metadata` partition 0 is refused
 *   with INVALID_REQUEST at the top level: there is one Raft partition, and
 *   Kafka treats a request for another as malformed, not as unknown;
 * - when the node cannot take a request it answers at the top level too:
 *   busy (a bound was hit) REQUEST_TIMED_OUT, stopped BROKER_NOT_AVAILABLE,
 *   Kafka's answer while shutting down.
 */
import { RaftBusyError, RaftStoppedError } from "../../cluster/raft/errors.ts";
import type {
  LeaderEpochRequest,
  LeaderEpochResponse,
  RaftRpcHandler,
} from "../../cluster/raft/raft-transport.ts";
import { metadataTopicName } from "../../metadata/internal-topics.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";

/** The part of BrokerServices the quorum's handlers touch. */
export interface QuorumServices {
  clusterId: string;
  config: { nodeId: number };
  quorum: { rpc: RaftRpcHandler };
}

export function clusterIdAccepted(services: QuorumServices, clusterId: string | null): boolean {
  return clusterId === null || clusterId === services.clusterId;
}

/** The request's one partition when it names exactly `__chronik_metadata` partition 0, else null. */
export function metadataPartitionOf<P extends { partitionIndex: number }>(
  topics: readonly { name: string; partitions: readonly P[] }[],
): P | null {
  if (topics.length !== 1) return null;
  const topic = topics[0]!;
  if (topic.name !== metadataTopicName || topic.partitions.length !== 1) return null;
  const partition = topic.partitions[0]!;
  return partition.partitionIndex === 0 ? partition : null;
}

/** An offset off the wire the runtime can hold: non-negative and a safe integer, else null. */
export function offsetFromWire(value: bigint): number | null {
  return value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(value);
}

export interface QuorumRefusal {
  refusedWith: number;
}

export function isRefusal<T extends object>(outcome: T | QuorumRefusal): outcome is QuorumRefusal {
  return "refusedWith" in outcome;
}

/**
 * The node's answer, or the error code for a node that cannot take the
 * request now. Anything else it throws is a broken invariant (the node has
 * failed): rethrown, so the connection closes rather than answering wrongly.
 */
export async function askQuorum<T extends object>(ask: () => Promise<T>): Promise<T | QuorumRefusal> {
  try {
    return await ask();
  } catch (error) {
    if (error instanceof RaftBusyError) return { refusedWith: ErrorCode[error.errorName] };
    if (error instanceof RaftStoppedError) return { refusedWith: ErrorCode.BROKER_NOT_AVAILABLE };
    throw error;
  }
}

/** A BeginQuorumEpoch or EndQuorumEpoch request, as both decode. */
interface LeaderEpochRequestIn {
  clusterId: string | null;
  topics: {
    topicName: string;
    partitions: { partitionIndex: number; leaderId: number; leaderEpoch: number }[];
  }[];
}

/** Their answer, the same shape in both. */
interface LeaderEpochAnswer {
  errorCode: number;
  topics: {
    topicName: string;
    partitions: { partitionIndex: number; errorCode: number; leaderId: number; leaderEpoch: number }[];
  }[];
}

/**
 * BeginQuorumEpoch and EndQuorumEpoch: a leader announces or gives up its
 * epoch; `ask` hands it to the node. `voterId` is the voter the sender meant
 * (BeginQuorumEpoch v1+; -1 when not said): another node's is INVALID_VOTER_KEY.
 */
export async function answerLeaderEpoch(
  services: QuorumServices,
  request: LeaderEpochRequestIn,
  voterId: number,
  ask: (rpc: RaftRpcHandler, leader: LeaderEpochRequest) => Promise<LeaderEpochResponse>,
): Promise<LeaderEpochAnswer> {
  if (!clusterIdAccepted(services, request.clusterId)) {
    return { errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, topics: [] };
  }
  const partition = metadataPartitionOf(
    request.topics.map((topic) => ({ name: topic.topicName, partitions: topic.partitions })),
  );
  if (partition === null) return { errorCode: ErrorCode.INVALID_REQUEST, topics: [] };
  const answer = (errorCode: number, leaderId: number, leaderEpoch: number): LeaderEpochAnswer => ({
    errorCode: ErrorCode.NONE,
    topics: [
      { topicName: metadataTopicName, partitions: [{ partitionIndex: 0, errorCode, leaderId, leaderEpoch }] },
    ],
  });
  if (voterId !== -1 && voterId !== services.config.nodeId)
    return answer(ErrorCode.INVALID_VOTER_KEY, -1, -1);
  if (partition.leaderId < 0 || partition.leaderEpoch < 0) return answer(ErrorCode.INVALID_REQUEST, -1, -1);
  const outcome = await askQuorum(() =>
    ask(services.quorum.rpc, { leaderId: partition.leaderId, epoch: partition.leaderEpoch }),
  );
  if (isRefusal(outcome)) return { errorCode: outcome.refusedWith, topics: [] };
  return answer(ErrorCode[outcome.errorName], outcome.leaderId ?? -1, outcome.epoch);
}
