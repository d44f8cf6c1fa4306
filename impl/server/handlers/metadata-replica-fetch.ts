/**
 * Fetch (1) from a replica of the metadata quorum: another node reading
 * `__chronik_metadata` partition 0 from this one, answered by the node's Raft
 * runtime (leader-fetch.ts): entries from the fetch offset, or the diverging
 * epoch to truncate to, or a refusal naming the epoch and leader this node
 * knows, always with the high watermark. The runtime holds a fetch that has
 * nothing new (the long poll), within its own bound on held fetches.
 *
 * Checked as KafkaRaftClient checks it: another cluster's id is refused with
 * INCONSISTENT_CLUSTER_ID and a request not for exactly the metadata
 * partition with INVALID_REQUEST, both at the top level; a negative wait or
 * offset, or a last fetched epoch missing (before v12) or newer than the
 * fetcher's epoch, is INVALID_REQUEST for the partition. The entries go as
 * raft-entry-batches.ts encodes them, whole batches within the request's
 * byte limits but always the first one (KIP-74).
 */
import type { FetchResponse } from "../../cluster/raft/raft-transport.ts";
import { metadataTopicName } from "../../metadata/internal-topics.ts";
import { encodeEntryBatches } from "../../metadata/raft-entry-batches.ts";
import type { fetchApi } from "../../protocol/apis/fetch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { isBatchProblem, readBatchHeader } from "../../protocol/record-batch.ts";
import type { InferInput } from "../../protocol/schema.ts";
import {
  askQuorum,
  clusterIdAccepted,
  isRefusal,
  metadataPartitionOf,
  offsetFromWire,
  type QuorumServices,
} from "./quorum-request.ts";

type Request = ReturnType<typeof fetchApi.request.read>;
type Response = InferInput<typeof fetchApi.response>;
type PartitionAnswer = Response["responses"][number]["partitions"][number];

/** Topics are named in fetches up to v12; from v13 by id, which the metadata partition has none of. */
const lastVersionNamingTopics = 12;
/**
 * Entries one answer reads at most. The node's own fetchEntriesMax (1,000 by
 * default) is usually tighter, and the byte limits trim what was read.
 */
const entriesPerAnswerMax = 10_000;

/** Who is fetching: replica_id up to v14, replica_state from v15; -1 is a consumer. */
export function fetchingReplicaId(request: Request, version: number): number {
  return version >= 15 ? request.replicaState.replicaId : request.replicaId;
}

/** A replica's fetch naming the metadata topic: the quorum answers it, not the data path. */
export function isMetadataReplicaFetch(request: Request, version: number): boolean {
  return (
    fetchingReplicaId(request, version) >= 0 &&
    version <= lastVersionNamingTopics &&
    request.topics.some((topic) => topic.topic === metadataTopicName)
  );
}

function answered(errorCode: number, partitions: PartitionAnswer[]): Response {
  const responses = partitions.length === 0 ? [] : [{ topic: metadataTopicName, partitions }];
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses };
}

function partitionAnswer(answer: Omit<FetchResponse, "records">, records: Buffer): PartitionAnswer {
  return {
    partitionIndex: 0,
    errorCode: ErrorCode[answer.errorName],
    highWatermark: BigInt(answer.highWatermark),
    divergingEpoch:
      answer.diverging === null
        ? { epoch: -1, endOffset: -1n }
        : { epoch: answer.diverging.epoch, endOffset: BigInt(answer.diverging.endOffset) },
    currentLeader: { leaderId: answer.leaderId ?? -1, leaderEpoch: answer.epoch },
    abortedTransactions: null,
    records,
  };
}

function invalidPartition(): PartitionAnswer {
  return {
    partitionIndex: 0,
    errorCode: ErrorCode.INVALID_REQUEST,
    highWatermark: -1n,
    abortedTransactions: null,
    records: Buffer.alloc(0),
  };
}

/** The leading whole batches of `records` that fit in `bytesMax`, and at least the first. */
function batchesWithin(records: Buffer, bytesMax: number): Buffer {
  let end = 0;
  while (end < records.length) {
    const header = readBatchHeader(records, end);
    if (isBatchProblem(header))
      throw new Error(`metadata fetch: encoded entries are not batches: ${header.detail}`);
    if (end > 0 && end + header.sizeBytes > bytesMax) break;
    end += header.sizeBytes;
  }
  return records.subarray(0, end);
}

/** Who watches which connection each replica fetches on (the controller's liveness checks). */
export interface ReplicaConnections {
  fetchedOver(replicaId: number, connectionClosed: Promise<void>): void;
}

export async function answerMetadataReplicaFetch(
  services: QuorumServices & { replicaConnections?: ReplicaConnections },
  request: Request,
  version: number,
  connectionClosed: Promise<void>,
): Promise<Response> {
  if (!clusterIdAccepted(services, request.clusterId)) return answered(ErrorCode.INCONSISTENT_CLUSTER_ID, []);
  const partition = metadataPartitionOf(
    request.topics.map((topic) => ({
      name: topic.topic,
      partitions: topic.partitions.map((asked) => ({ ...asked, partitionIndex: asked.partition })),
    })),
  );
  if (partition === null) return answered(ErrorCode.INVALID_REQUEST, []);
  const fetchOffset = offsetFromWire(partition.fetchOffset);
  const { currentLeaderEpoch: epoch, lastFetchedEpoch } = partition;
  if (request.maxWaitMs < 0 || fetchOffset === null || lastFetchedEpoch < 0 || lastFetchedEpoch > epoch) {
    return answered(ErrorCode.NONE, [invalidPartition()]);
  }
  services.replicaConnections?.fetchedOver(fetchingReplicaId(request, version), connectionClosed);
  const outcome = await askQuorum(() =>
    services.quorum.rpc.handleFetch({
      replicaId: fetchingReplicaId(request, version),
      epoch,
      fetchOffset,
      lastFetchedEpoch,
      maxWaitMs: request.maxWaitMs,
      maxEntries: entriesPerAnswerMax,
    }),
  );
  if (isRefusal(outcome)) return answered(outcome.refusedWith, []);
  const bytesMax = Math.min(request.maxBytes, partition.partitionMaxBytes);
  const records = batchesWithin(encodeEntryBatches(outcome.records), bytesMax);
  return answered(ErrorCode.NONE, [partitionAnswer(outcome, records)]);
}
