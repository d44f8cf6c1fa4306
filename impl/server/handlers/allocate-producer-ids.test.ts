/**
 * The AllocateProducerIds handler on a controller whose metadata log commits
 * at once: requests and answers go through the codecs.
 */
import { describe, expect, it } from "vitest";
import type { BrokerServices } from "../../broker/services.ts";
import { controllerFixture } from "../../controller/controller-test-support.ts";
import {
  type ApiDefinition,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from "../../protocol/api.ts";
import { allocateProducerIdsApi } from "../../protocol/apis/allocate-producer-ids.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { Reader } from "../../protocol/reader.ts";
import { silentLogger } from "../../storage/test-support.ts";
import type { Handler } from "../dispatcher.ts";
import { allocateProducerIdsHandler } from "./allocate-producer-ids.ts";
import { handlerContext, responseOf } from "./quorum-test-support.ts";

/** Node 1, the controller of brokers 1-3 (broker epochs 101-103). */
function controllerNode() {
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

/** One request through `handler`, encoded and decoded both ways as `version`. */
async function exchange<Request, RequestInput, Response, ResponseInput>(
  api: ApiDefinition<Request, RequestInput, Response, ResponseInput>,
  handler: Handler<Request, ResponseInput>,
  version: number,
  request: RequestInput,
): Promise<Response> {
  const decoded = decodeRequest(api, version, new Reader(encodeRequest(api, version, request).toBuffer()));
  const answer = await responseOf(handler(decoded, handlerContext(api.key, version)));
  return decodeResponse(api, version, encodeResponse(api, version, answer).toBuffer());
}

describe("AllocateProducerIds", () => {
  it("gives the next block once its ProducerIdsRecord is committed", async () => {
    const { fixture, services } = controllerNode();
    const handler = allocateProducerIdsHandler(services);
    expect(await exchange(allocateProducerIdsApi, handler, 0, { brokerId: 2, brokerEpoch: 102n })).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      producerIdStart: 0n,
      producerIdLen: 1000,
    });
    expect(
      await exchange(allocateProducerIdsApi, handler, 0, { brokerId: 3, brokerEpoch: 103n }),
    ).toMatchObject({
      producerIdStart: 1000n,
    });
    expect(fixture.log.batches.flat()).toEqual([
      {
        type: "ProducerIdsRecord",
        version: 0,
        value: { brokerId: 2, brokerEpoch: 102n, nextProducerId: 1000n },
      },
      {
        type: "ProducerIdsRecord",
        version: 0,
        value: { brokerId: 3, brokerEpoch: 103n, nextProducerId: 2000n },
      },
    ]);
  });

  it("refuses an older incarnation with STALE_BROKER_EPOCH, and answers NOT_CONTROLLER off the controller", async () => {
    const { fixture, services } = controllerNode();
    const handler = allocateProducerIdsHandler(services);
    expect(
      await exchange(allocateProducerIdsApi, handler, 0, { brokerId: 2, brokerEpoch: 99n }),
    ).toMatchObject({
      errorCode: ErrorCode.STALE_BROKER_EPOCH,
    });
    fixture.log.leading = false;
    expect(
      await exchange(allocateProducerIdsApi, handler, 0, { brokerId: 2, brokerEpoch: 102n }),
    ).toMatchObject({
      errorCode: ErrorCode.NOT_CONTROLLER,
    });
    expect(fixture.log.batches).toEqual([]);
  });
});
