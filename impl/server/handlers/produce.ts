/**
 * Produce: validate each partition's batches (never decoding records), refuse
 * acks=all before writing when the ISR is below min.insync.replicas, append in
 * request order, then answer once the write is durable and the high watermark
 * covers it. acks=0 gets no response, as the protocol says.
 */
import { isSoleInSyncLeader, type LocalPartition } from "../../broker/replica-manager.ts";
import type { BrokerServices } from "../../broker/services.ts";
import { effectiveTopicConfig } from "../../broker/topic-configs.ts";
import { autoCreateTopics } from "../../broker/topic-creation.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import type { produceApi } from "../../protocol/apis/produce.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { type BatchProblem, isBatchProblem, validateProducedBatches } from "../../protocol/record-batch.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof produceApi.request.read>;
type Response = InferInput<typeof produceApi.response>;
type PartitionResponse = Response["responses"][number]["partitionResponses"][number];

const problemErrorCodes: Record<BatchProblem["kind"], number> = {
  truncated: ErrorCode.CORRUPT_MESSAGE,
  "bad-crc": ErrorCode.CORRUPT_MESSAGE,
  "bad-magic": ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
  "bad-count": ErrorCode.INVALID_RECORD,
  "too-large": ErrorCode.MESSAGE_TOO_LARGE,
};

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionResponse {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, errorMessage };
}

/** Checks one partition and appends it; returns the answer, or a promise of it once durable. */
function appendPartition(
  services: BrokerServices,
  local: LocalPartition | undefined,
  index: number,
  records: Buffer | null,
  acks: number,
): PartitionResponse | Promise<PartitionResponse> {
  if (!local) return failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const partition = local.image;
  if (partition.leader !== services.config.nodeId) return failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  if (records === null || records.length === 0) return failed(index, ErrorCode.CORRUPT_MESSAGE, "no records");
  const batchBytesMax = Number(
    effectiveTopicConfig(local.topic.configs, services.config, "max.message.bytes"),
  );
  const batches = validateProducedBatches(records, batchBytesMax);
  if (isBatchProblem(batches)) return failed(index, problemErrorCodes[batches.kind], batches.detail);
  if (acks === -1) {
    const minInsync = Number(
      effectiveTopicConfig(local.topic.configs, services.config, "min.insync.replicas"),
    );
    if (partition.isr.length < minInsync) {
      return failed(
        index,
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR [${partition.isr.join(", ")}] is insufficient to satisfy the min.isr requirement of ${minInsync} for partition ${local.name}`,
      );
    }
  }
  let appended: ReturnType<typeof local.log.append>;
  try {
    appended = local.log.append(records, batches, partition.leaderEpoch);
  } catch (error) {
    services.logger.error({ partition: local.name, err: error }, "append failed");
    return failed(index, ErrorCode.KAFKA_STORAGE_ERROR, (error as Error).message);
  }
  return appended.durable.then(
    () => {
      // A partition whose ISR is the leader alone: what is durable here is committed.
      if (isSoleInSyncLeader(local.image, services.config.nodeId)) {
        local.advanceHighWatermark(local.log.durableEndOffset);
      }
      return {
        index,
        errorCode: ErrorCode.NONE,
        baseOffset: appended.baseOffset,
        logAppendTimeMs: -1n,
        logStartOffset: local.log.logStartOffset,
        errorMessage: null,
      };
    },
    (error: unknown) => {
      services.logger.error({ partition: local.name, err: error }, "write or sync failed");
      return failed(index, ErrorCode.KAFKA_STORAGE_ERROR, (error as Error).message);
    },
  );
}

export function produceHandler(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    const { acks } = request;
    const refusal =
      acks !== 0 && acks !== 1 && acks !== -1
        ? { errorCode: ErrorCode.INVALID_REQUIRED_ACKS, message: null }
        : request.transactionalId !== null
          ? { errorCode: ErrorCode.UNSUPPORTED_VERSION, message: "transactions are not supported" }
          : null;
    if (refusal) {
      context.releaseNext();
      return {
        responses: request.topicData.map((topic) => ({
          name: topic.name,
          partitionResponses: topic.partitionData.map((data) =>
            failed(data.index, refusal.errorCode, refusal.message),
          ),
        })),
      };
    }
    // Auto-creation happens before any append, so appends keep request order.
    await autoCreateTopics(
      services,
      request.topicData.map((topic) => topic.name).filter((name) => !internalTopicNames.has(name)),
    );
    const pending: Array<{
      name: string;
      partitionResponses: Array<PartitionResponse | Promise<PartitionResponse>>;
    }> = [];
    for (const topic of request.topicData) {
      const partitionResponses: Array<PartitionResponse | Promise<PartitionResponse>> = [];
      for (const data of topic.partitionData) {
        const local = internalTopicNames.has(topic.name)
          ? undefined
          : services.replicas.get(topic.name, data.index);
        // Backpressure: a full group-commit queue delays this request (and so
        // the connection's next ones) instead of refusing it or growing the queue.
        if (local && data.records) await local.log.waitForAppendRoom(data.records.length);
        partitionResponses.push(appendPartition(services, local, data.index, data.records, acks));
      }
      pending.push({ name: topic.name, partitionResponses });
    }
    context.releaseNext();
    const responses = await Promise.all(
      pending.map(async (topic) => ({
        name: topic.name,
        partitionResponses: await Promise.all(topic.partitionResponses),
      })),
    );
    return acks === 0 ? null : { responses, throttleTimeMs: 0 };
  };
}
