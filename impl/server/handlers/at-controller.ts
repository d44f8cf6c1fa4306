/**
 * Metadata changes are decided by the controller alone. A node that is not the
 * controller forwards the request unchanged (Envelope, controller-link.ts) and
 * relays the answer; a request that came forwarded is decided here or refused
 * with NOT_CONTROLLER, never forwarded again.
 */

import type { BrokerServices } from "../../broker/services.ts";
import { ControllerQueueFullError, NotControllerError } from "../../metadata/controller.ts";
import type { ApiDefinition } from "../../protocol/api.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { Handler, HandlerContext } from "../dispatcher.ts";

/** The whole answer refused with one error, shaped as the API answers it. */
export type Refusal<Request, ResponseInput> = (
  request: Request,
  context: HandlerContext,
  errorCode: number,
  errorMessage: string,
) => ResponseInput;

/** How long a forwarded request may take when the request itself names no timeout (request.timeout.ms). */
export const forwardTimeoutMsDefault = 30_000;

export interface AtControllerOptions<Request> {
  /** The request's own timeout, when it has one; forwardTimeoutMsDefault otherwise. */
  timeoutMsOf?: (request: Request) => number;
  /** A read (DescribeQuorum): relayed as soon as it is answered, with no wait for this node's image. */
  readOnly?: boolean;
}

export function atController<Request, ResponseInput>(
  services: BrokerServices,
  api: ApiDefinition<Request, unknown, ResponseInput, ResponseInput>,
  decideHere: Handler<Request, ResponseInput>,
  refuse: Refusal<Request, ResponseInput>,
  options: AtControllerOptions<Request> = {},
): Handler<Request, ResponseInput> {
  return async (request, context) => {
    if (!context.forwarded && !services.controllerLink.isLocal()) {
      context.releaseNext();
      const timeoutMs = options.timeoutMsOf?.(request) ?? forwardTimeoutMsDefault;
      const outcome = await services.controllerLink.forward(api, context.version, request, {
        clientId: context.header.clientId,
        clientAddress: null,
        timeoutMs: timeoutMs > 0 ? timeoutMs : forwardTimeoutMsDefault,
        catchUp: options.readOnly !== true,
      });
      if (outcome.ok) return outcome.response;
      // NOT_CONTROLLER here means this node became the controller meanwhile: decide below.
      if (outcome.errorCode !== ErrorCode.NOT_CONTROLLER) {
        return refuse(request, context, outcome.errorCode, outcome.errorMessage);
      }
    }
    try {
      return await decideHere(request, context);
    } catch (error) {
      if (error instanceof NotControllerError) {
        return refuse(request, context, ErrorCode.NOT_CONTROLLER, error.message);
      }
      if (error instanceof ControllerQueueFullError) {
        return refuse(request, context, ErrorCode.REQUEST_TIMED_OUT, error.message);
      }
      throw error;
    }
  };
}
