/**
 * BrokerRegistration (62): a node tells the controller where clients reach
 * it. Answered once the RegisterBrokerRecord is committed and applied here,
 * with the broker epoch it carries. A node from another cluster is refused
 * with INCONSISTENT_CLUSTER_ID; a node that is not the controller answers
 * NOT_CONTROLLER, and the sender finds the controller and asks again.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { plaintextListenerName, planBrokerRegistration } from "../../metadata/broker-registrations.ts";
import { ControllerQueueFullError, NotControllerError } from "../../metadata/controller.ts";
import type { brokerRegistrationApi } from "../../protocol/apis/broker-registration.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof brokerRegistrationApi.request.read>;
type Response = InferInput<typeof brokerRegistrationApi.response>;

function refused(errorCode: number): Response {
  return { throttleTimeMs: 0, errorCode, brokerEpoch: -1n };
}

export function brokerRegistrationHandler(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const logged = { peer: context.peer, brokerId: request.brokerId };
    if (request.clusterId !== services.clusterId) {
      services.logger.warn(
        { ...logged, clusterId: request.clusterId, ourClusterId: services.clusterId },
        "refused the registration of a node from another cluster",
      );
      return refused(ErrorCode.INCONSISTENT_CLUSTER_ID);
    }
    if (!request.listeners.some((listener) => listener.name === plaintextListenerName)) {
      services.logger.warn(logged, `refused a registration without a ${plaintextListenerName} listener`);
      return refused(ErrorCode.INVALID_REGISTRATION);
    }
    try {
      const brokerEpoch = await services.controller.decide((image) => {
        const { record, brokerEpoch } = planBrokerRegistration(
          image,
          {
            brokerId: request.brokerId,
            incarnationId: request.incarnationId,
            endpoints: request.listeners,
            rack: request.rack,
          },
          Date.now(),
        );
        return { records: [record], result: brokerEpoch };
      });
      services.logger.info({ ...logged, brokerEpoch }, "broker registered");
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, brokerEpoch };
    } catch (error) {
      if (error instanceof NotControllerError) return refused(ErrorCode.NOT_CONTROLLER);
      if (error instanceof ControllerQueueFullError) return refused(ErrorCode.REQUEST_TIMED_OUT);
      throw error;
    }
  };
}
