/**
 * BrokerHeartbeat (63): a registered broker asks the controller to fence it
 * or to let it shut down (impl/controller/broker-heartbeats.ts). Answered by
 * the controller only, once what it decided is committed and applied; any
 * other node answers NOT_CONTROLLER. A broker id not registered, or
 * registered with another broker epoch, gets STALE_BROKER_EPOCH, as Kafka
 * answers an incarnation it does not know.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { ControllerQueueFullError, NotControllerError } from "../../metadata/controller.ts";
import type { brokerHeartbeatApi } from "../../protocol/apis/broker-heartbeat.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof brokerHeartbeatApi.request.read>;
type Response = InferInput<typeof brokerHeartbeatApi.response>;

function refused(errorCode: number): Response {
  return { throttleTimeMs: 0, errorCode, isCaughtUp: false, isFenced: true, shouldShutDown: false };
}

export function brokerHeartbeatHandler(
  services: Pick<BrokerServices, "brokerHeartbeats" | "logger">,
): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    try {
      const reply = await services.brokerHeartbeats.heartbeat(request);
      if (reply.kind === "stale") {
        services.logger.warn(
          {
            peer: context.peer,
            brokerId: request.brokerId,
            brokerEpoch: String(request.brokerEpoch),
            registeredEpoch: reply.registeredEpoch === null ? null : String(reply.registeredEpoch),
          },
          "refused a heartbeat from a broker incarnation that is not registered",
        );
        return refused(ErrorCode.STALE_BROKER_EPOCH);
      }
      const { isCaughtUp, isFenced, shouldShutDown } = reply;
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, isCaughtUp, isFenced, shouldShutDown };
    } catch (error) {
      if (error instanceof NotControllerError) return refused(ErrorCode.NOT_CONTROLLER);
      if (error instanceof ControllerQueueFullError) return refused(ErrorCode.REQUEST_TIMED_OUT);
      throw error;
    }
  };
}
