/**
 * AllocateProducerIds (67): a node asks the controller for its next block of
 * producer ids. Answered only by the controller, once the ProducerIdsRecord
 * that gives the block is committed and applied; any other node answers
 * NOT_CONTROLLER and the sender asks the controller it learns of next. A
 * sender not registered with the broker epoch it names gets
 * STALE_BROKER_EPOCH (impl/metadata/producer-ids.ts).
 */
import type { BrokerServices } from "../../broker/services.ts";
import { ControllerQueueFullError, NotControllerError } from "../../metadata/controller.ts";
import { decideProducerIdBlock } from "../../metadata/producer-ids.ts";
import type { allocateProducerIdsApi } from "../../protocol/apis/allocate-producer-ids.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof allocateProducerIdsApi.request.read>;
type Response = InferInput<typeof allocateProducerIdsApi.response>;

function refused(errorCode: number): Response {
  return { throttleTimeMs: 0, errorCode, producerIdStart: 0n, producerIdLen: 0 };
}

export function allocateProducerIdsHandler(
  services: Pick<BrokerServices, "controller" | "logger">,
): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    try {
      const allocation = await services.controller.decide((image) =>
        decideProducerIdBlock(image, request.brokerId, request.brokerEpoch),
      );
      if (allocation.errorCode !== ErrorCode.NONE || !("block" in allocation)) {
        const reason = "errorMessage" in allocation ? allocation.errorMessage : null;
        services.logger.warn(
          { peer: context.peer, brokerId: request.brokerId, reason },
          "refused a producer id block",
        );
        return refused(allocation.errorCode);
      }
      const { firstProducerId, size } = allocation.block;
      services.logger.info(
        { brokerId: request.brokerId, firstProducerId: String(firstProducerId), size },
        "gave a producer id block",
      );
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerIdStart: firstProducerId,
        producerIdLen: size,
      };
    } catch (error) {
      if (error instanceof NotControllerError) return refused(ErrorCode.NOT_CONTROLLER);
      if (error instanceof ControllerQueueFullError) return refused(ErrorCode.REQUEST_TIMED_OUT);
      throw error;
    }
  };
}
