/**
 * Produce: validate each partition's batches (never decoding records), then
 * hand them to the partition's ISR machine (impl/replication/partition-leader.ts),
 * which refuses acks=all before writing when the ISR is below
 * min.insync.replicas, appends in request order, and answers acks=1 when the
 * write is durable and acks=all once the high watermark covers it. acks=0
 * gets no response, as the protocol says; an acks=all produce not covered
 * within the request's timeout is answered REQUEST_TIMED_OUT.
 *
 * Batches of idempotent producers are checked against the partition's
 * producer state by the partition leader (a retry is answered with its
 * first attempt's offsets). Transactions are not served: a control batch is
 * INVALID_RECORD, as Kafka refuses one from any client, and a transactional
 * batch is TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka answers one sent
 * without a transactional id, the only way one can arrive here.
 */
import type { LocalPartition } from "../../broker/replica-manager.ts";
import type { BrokerServices } from "../../broker/services.ts";
import { effectiveTopicConfig } from "../../broker/topic-configs.ts";
import { autoCreateTopics } from "../../broker/topic-creation.ts";
import { offsetsTopicName } from "../../groups/offsets-topic.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import type { produceApi } from "../../protocol/apis/produce.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import {
  type BatchProblem,
  isBatchProblem,
  isControlBatch,
  isTransactionalBatch,
  validateProducedBatches,
} from "../../protocol/record-batch.ts";
import type { InferInput } from "../../protocol/schema.ts";
import { notHostedError } from "../../replication/leadership.ts";
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
  local: LocalPartition,
  index: number,
  records: Buffer | null,
  acks: number,
  timeoutMs: number,
): PartitionResponse | Promise<PartitionResponse> {
  const partition = local.image;
  if (partition.leader !== services.config.nodeId) return failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  if (records === null || records.length === 0) return failed(index, ErrorCode.CORRUPT_MESSAGE, "no records");
  const batchBytesMax = Number(
    effectiveTopicConfig(local.topic.configs, services.config, "max.message.bytes"),
  );
  const batches = validateProducedBatches(records, batchBytesMax);
  if (isBatchProblem(batches)) return failed(index, problemErrorCodes[batches.kind], batches.detail);
  if (batches.some((batch) => isControlBatch(batch.attributes))) {
    return failed(index, ErrorCode.INVALID_RECORD, "Clients are not allowed to write control records");
  }
  if (batches.some((batch) => isTransactionalBatch(batch.attributes))) {
    return failed(
      index,
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      "Transactional records need a transactional id, and this broker serves no transactions",
    );
  }
  const leader = services.replicas.leaderOf(local);
  // The image names this node, but the ISR machine for this epoch has not started yet (or just stopped).
  if (leader === undefined) return failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const produced = leader.produce(records, batches, acks);
  return (acks === -1 ? withTimeout(produced, timeoutMs) : produced).then((outcome) => {
    if (outcome === "timeout") {
      // Kafka's delayed produce expires the same way: written, but not yet on every ISR member.
      return failed(index, ErrorCode.REQUEST_TIMED_OUT, `not replicated to the ISR within ${timeoutMs} ms`);
    }
    if (outcome.errorCode !== ErrorCode.NONE) {
      const message = "errorMessage" in outcome ? outcome.errorMessage : null;
      return failed(index, outcome.errorCode, message);
    }
    return {
      index,
      errorCode: ErrorCode.NONE,
      baseOffset: "baseOffset" in outcome ? outcome.baseOffset : -1n,
      logAppendTimeMs: -1n,
      logStartOffset: local.log.logStartOffset,
      errorMessage: null,
    };
  });
}

/** The outcome, or "timeout" once `timeoutMs` passed without one (the request's own timeout). */
function withTimeout<T>(outcome: Promise<T>, timeoutMs: number): Promise<T | "timeout"> {
  if (timeoutMs <= 0) return outcome;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  return Promise.race([outcome, expired]).finally(() => clearTimeout(timer));
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
        // Only the group coordinator writes `__consumer_offsets`, as Kafka refuses clients' appends to it.
        if (topic.name === offsetsTopicName) {
          partitionResponses.push(
            failed(
              data.index,
              ErrorCode.INVALID_TOPIC_EXCEPTION,
              `Cannot append to internal topic ${offsetsTopicName}`,
            ),
          );
          continue;
        }
        const local = internalTopicNames.has(topic.name)
          ? undefined
          : services.replicas.get(topic.name, data.index);
        // Backpressure: a full group-commit queue delays this request (and so
        // the connection's next ones) instead of refusing it or growing the queue.
        if (!local) {
          partitionResponses.push(
            failed(data.index, notHostedError(services.image.topicsByName.get(topic.name), data.index)),
          );
          continue;
        }
        if (data.records) await local.log.waitForAppendRoom(data.records.length);
        partitionResponses.push(
          appendPartition(services, local, data.index, data.records, acks, request.timeoutMs),
        );
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
