/**
 * The InitProducerId handler on a controller whose metadata log commits at
 * once: requests and answers go through the codecs in the version named.
 */
import { describe, expect, it } from "vitest";
import { initProducerIdApi } from "../../protocol/apis/init-producer-id.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { initProducerIdHandler } from "./init-producer-id.ts";
import { controllerNode, exchange } from "./producer-ids-test-support.ts";

describe("InitProducerId", () => {
  it("gives each idempotent producer a fresh id with epoch 0, from the controller's first block", async () => {
    const { fixture, services } = controllerNode();
    const handler = initProducerIdHandler(services);
    const ask = (version: number) =>
      exchange(initProducerIdApi, handler, version, { transactionalId: null, transactionTimeoutMs: 60_000 });
    expect(await ask(0)).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: 0n, producerEpoch: 0 });
    expect(await ask(4)).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: 1n, producerEpoch: 0 });
    expect(fixture.image.nextProducerId).toBe(1000n);
  });

  it("gives a fresh id even to a v3+ producer naming the id and epoch it holds, as Kafka does without a transactional id", async () => {
    const { services } = controllerNode();
    const handler = initProducerIdHandler(services);
    const held = { transactionalId: null, transactionTimeoutMs: 60_000, producerId: 0n, producerEpoch: 3 };
    expect(await exchange(initProducerIdApi, handler, 5, held)).toMatchObject({
      errorCode: 0,
      producerId: 0n,
      producerEpoch: 0,
    });
    expect(await exchange(initProducerIdApi, handler, 5, held)).toMatchObject({
      errorCode: 0,
      producerId: 1n,
      producerEpoch: 0,
    });
  });

  it("refuses a v3+ request naming only one of id and epoch with INVALID_REQUEST", async () => {
    const { services } = controllerNode();
    const handler = initProducerIdHandler(services);
    const half = { transactionalId: null, transactionTimeoutMs: 60_000, producerId: 7n, producerEpoch: -1 };
    expect(await exchange(initProducerIdApi, handler, 3, half)).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.INVALID_REQUEST,
      producerId: -1n,
      producerEpoch: -1,
    });
  });

  it("refuses a transactional id with UNSUPPORTED_VERSION, a final answer, and hands out no id", async () => {
    const { fixture, services } = controllerNode();
    const handler = initProducerIdHandler(services);
    const transactional = { transactionalId: "orders-tx", transactionTimeoutMs: 60_000 };
    for (const version of [0, 3, 5]) {
      expect(await exchange(initProducerIdApi, handler, version, transactional)).toEqual({
        throttleTimeMs: 0,
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        producerId: -1n,
        producerEpoch: -1,
      });
    }
    expect(fixture.image.nextProducerId).toBe(0n);
  });
});
