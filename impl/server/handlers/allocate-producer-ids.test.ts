/**
 * The AllocateProducerIds handler on a controller whose metadata log commits
 * at once: requests and answers go through the codecs.
 */
import { describe, expect, it } from "vitest";
import { allocateProducerIdsApi } from "../../protocol/apis/allocate-producer-ids.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { allocateProducerIdsHandler } from "./allocate-producer-ids.ts";
import { controllerNode, exchange } from "./producer-ids-test-support.ts";

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
