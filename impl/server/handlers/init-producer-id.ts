/**
 * InitProducerId (22), versions 0-5, for idempotent producers: a producer id
 * never handed out before, with epoch 0, from this node's block of ids
 * (broker/producer-id-manager.ts). As Kafka does for a producer without a
 * transactional id, a v3+ request naming the id and epoch the producer holds
 * gets a fresh id all the same (the producer starts its sequences over);
 * naming only one of the two is INVALID_REQUEST.
 *
 * A transactional id asks for the transaction coordinator, which this broker
 * does not run (the transactional APIs are absent from ApiVersions). It is
 * answered UNSUPPORTED_VERSION: the code Kafka and its clients use for a
 * feature the broker lacks, which every client treats as final (KafkaJS
 * gives up, the Java client fails the producer, librdkafka raises a fatal
 * error). NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE would send the client
 * looking for a coordinator that never comes. The Produce handler answers a
 * transactional produce the same way.
 */
import { ProducerIdManager, requestProducerIdBlock } from "../../broker/producer-id-manager.ts";
import type { BrokerServices } from "../../broker/services.ts";
import type { initProducerIdApi } from "../../protocol/apis/init-producer-id.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof initProducerIdApi.request.read>;
type Response = InferInput<typeof initProducerIdApi.response>;

/**
 * How long an InitProducerId waits for a block of ids before it is answered
 * COORDINATOR_LOAD_IN_PROGRESS (and retried by the client): well inside the
 * clients' request timeouts (30 s in KafkaJS and Java).
 */
const producerIdWaitMs = 5_000;
/** Kafka's RecordBatch.NO_PRODUCER_ID and NO_PRODUCER_EPOCH. */
const noProducerId = -1n;
const noProducerEpoch = -1;

function refused(errorCode: number): Response {
  return { throttleTimeMs: 0, errorCode, producerId: noProducerId, producerEpoch: noProducerEpoch };
}

export function initProducerIdHandler(services: BrokerServices): Handler<Request, Response> {
  const producerIds = new ProducerIdManager({
    requestBlock: () => requestProducerIdBlock(services),
    logger: services.logger.child({ component: "producer-ids" }),
  });
  return async (request, context) => {
    context.releaseNext();
    if (request.transactionalId !== null) {
      services.logger.info(
        { peer: context.peer, transactionalId: request.transactionalId },
        "refused InitProducerId for a transactional id: this broker serves no transactions",
      );
      return refused(ErrorCode.UNSUPPORTED_VERSION);
    }
    if ((request.producerId === noProducerId) !== (request.producerEpoch === noProducerEpoch)) {
      return refused(ErrorCode.INVALID_REQUEST);
    }
    const outcome = await producerIds.nextProducerId(producerIdWaitMs);
    if (!outcome.ok) {
      services.logger.warn({ peer: context.peer, reason: outcome.errorMessage }, "no producer id to give");
      return refused(outcome.errorCode);
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: outcome.producerId, producerEpoch: 0 };
  };
}
