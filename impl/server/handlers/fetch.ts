/**
 * Fetch: whole batches read as slices of segment files, up to the high
 * watermark, honouring MaxBytes, per-partition MaxBytes and KIP-74 (the first
 * batch is served even when larger). A fetch that finds less than MinBytes
 * waits, up to MaxWaitMs, for a high watermark it reads to move. Fetch
 * sessions (KIP-227) are declined: every response carries session id 0, which
 * tells the client to keep sending full requests.
 *
 * A replica's fetch of the metadata partition belongs to the quorum
 * (metadata-replica-fetch.ts) and is served while the node is still starting,
 * since no node finishes starting without it; every other fetch waits until
 * the node is open. A replica's fetch of data partitions is data replication
 * (replica-fetch.ts), read to the log end rather than the high watermark.
 */
import type { LocalPartition } from "../../broker/replica-manager.ts";
import type { BrokerServices } from "../../broker/services.ts";
import type { TopicImage } from "../../metadata/image.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import type { fetchApi } from "../../protocol/apis/fetch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import { notHostedError } from "../../replication/leadership.ts";
import type { Handler } from "../dispatcher.ts";
import { leaderEpochError } from "./leader-epoch.ts";
import {
  answerMetadataReplicaFetch,
  fetchingReplicaId,
  isMetadataReplicaFetch,
} from "./metadata-replica-fetch.ts";
import { answerReplicaFetch } from "./replica-fetch.ts";

type Request = ReturnType<typeof fetchApi.request.read>;
type Response = InferInput<typeof fetchApi.response>;
type TopicResponse = Response["responses"][number];
type PartitionResponse = TopicResponse["partitions"][number];

const consumerReplicaId = -1;

function partitionError(partitionIndex: number, errorCode: number): PartitionResponse {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    abortedTransactions: null,
    records: null,
  };
}

interface FetchRound {
  responses: TopicResponse[];
  bytes: number;
  hasError: boolean;
  /** Cancels the wake-ups registered while reading. */
  watch(wake: () => void): () => void;
}

function resolveTopic(services: BrokerServices, version: number, topic: Request["topics"][number]) {
  const found: TopicImage | undefined =
    version >= 13
      ? services.image.topicsById.get(topic.topicId)
      : services.image.topicsByName.get(topic.topic);
  return found && !internalTopicNames.has(found.name) ? found : undefined;
}

async function readRound(services: BrokerServices, request: Request, version: number): Promise<FetchRound> {
  let bytes = 0;
  let hasError = false;
  const watched: LocalPartition[] = [];
  const responses: TopicResponse[] = [];
  for (const topicRequest of request.topics) {
    const topic = resolveTopic(services, version, topicRequest);
    const partitions: PartitionResponse[] = [];
    for (const partitionRequest of topicRequest.partitions) {
      const index = partitionRequest.partition;
      const local = topic ? services.replicas.get(topic.name, index) : undefined;
      if (!local) {
        hasError = true;
        const unknownTopic =
          version >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        partitions.push(partitionError(index, notHostedError(topic, index, unknownTopic)));
        continue;
      }
      const image = local.image;
      const epochProblem = leaderEpochError(partitionRequest.currentLeaderEpoch, image.leaderEpoch);
      // Replicas (ids >= 0) never get here; another negative id than a consumer's is not served.
      const notLeader =
        image.leader !== services.config.nodeId || fetchingReplicaId(request, version) !== consumerReplicaId;
      const errorCode = notLeader ? ErrorCode.NOT_LEADER_OR_FOLLOWER : epochProblem;
      if (errorCode !== ErrorCode.NONE) {
        hasError = true;
        partitions.push(partitionError(index, errorCode));
        continue;
      }
      const highWatermark = local.highWatermark;
      const bytesLeft = Math.max(0, request.maxBytes - bytes);
      const result = await local.log.read(
        partitionRequest.fetchOffset,
        Math.min(partitionRequest.partitionMaxBytes, bytesLeft),
        highWatermark,
        bytes === 0,
      );
      const common = {
        partitionIndex: index,
        highWatermark,
        lastStableOffset: highWatermark,
        logStartOffset: local.log.logStartOffset,
        abortedTransactions: [],
        preferredReadReplica: -1,
      };
      if ("error" in result) {
        hasError = true;
        partitions.push({ ...common, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: null });
        continue;
      }
      bytes += result.records.length;
      watched.push(local);
      partitions.push({ ...common, errorCode: ErrorCode.NONE, records: result.records });
    }
    responses.push({ topic: topicRequest.topic, topicId: topicRequest.topicId, partitions });
  }
  return {
    responses,
    bytes,
    hasError,
    watch(wake) {
      const cancels = watched.map((local) => local.onceHighWatermarkMoves(wake));
      return () => {
        for (const cancel of cancels) cancel();
      };
    },
  };
}

/** `opened` resolves once the node has finished starting (registered itself): client fetches wait for it. */
export function fetchHandler(services: BrokerServices, opened: Promise<void>): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const version = context.version;
    if (isMetadataReplicaFetch(request, version))
      return answerMetadataReplicaFetch(services, request, version, context.connectionClosed);
    await opened;
    if (request.sessionId !== 0) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
      };
    }
    if (request.sessionEpoch !== -1 && request.sessionEpoch !== 0) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
        sessionId: 0,
        responses: [],
      };
    }
    const replicaId = fetchingReplicaId(request, version);
    if (replicaId >= 0) return answerReplicaFetch(services, request, version, replicaId);
    const deadline = Date.now() + Math.max(0, request.maxWaitMs);
    for (;;) {
      const round = await readRound(services, request, version);
      const remainingMs = deadline - Date.now();
      if (
        round.bytes >= request.minBytes ||
        round.hasError ||
        remainingMs <= 0 ||
        !services.reserveWaitingFetch()
      ) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: round.responses };
      }
      try {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(finish, remainingMs);
          const cancel = round.watch(finish);
          function finish() {
            clearTimeout(timer);
            cancel();
            resolve();
          }
        });
      } finally {
        services.releaseWaitingFetch();
      }
    }
  };
}
