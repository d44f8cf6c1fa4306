/**
 * What the producer id handler tests share: node 1 as the controller of
 * brokers 1-3 (broker epochs 101-103) whose metadata log commits at once, and
 * one request through a handler, encoded and decoded both ways as a version.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { controllerFixture } from "../../controller/controller-test-support.ts";
import {
  type ApiDefinition,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from "../../protocol/api.ts";
import { Reader } from "../../protocol/reader.ts";
import { silentLogger } from "../../storage/test-support.ts";
import type { Handler } from "../dispatcher.ts";
import { handlerContext, responseOf } from "./quorum-test-support.ts";

export function controllerNode() {
  const fixture = controllerFixture([1, 2, 3]);
  const services = {
    config: { nodeId: 1 },
    image: fixture.image,
    controller: fixture.controller,
    controllerLink: { isLocal: () => true },
    logger: silentLogger(),
  } as unknown as BrokerServices;
  return { fixture, services };
}

export async function exchange<Request, RequestInput, Response, ResponseInput>(
  api: ApiDefinition<Request, RequestInput, Response, ResponseInput>,
  handler: Handler<Request, ResponseInput>,
  version: number,
  request: RequestInput,
): Promise<Response> {
  const decoded = decodeRequest(api, version, new Reader(encodeRequest(api, version, request).toBuffer()));
  const answer = await responseOf(handler(decoded, handlerContext(api.key, version)));
  return decodeResponse(api, version, encodeResponse(api, version, answer).toBuffer());
}
