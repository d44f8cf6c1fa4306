import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { initProducerIdApi } from "./init-producer-id.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    transactionalId: wire.nullableText,
    transactionTimeoutMs: wire.int32,
    producerId: carried(version >= 3, wire.int64, -1n),
    producerEpoch: carried(version >= 3, wire.int16, -1),
  });
}

/** A response: every version carries the same fields. */
const responseIn = () =>
  fc.record({
    throttleTimeMs: wire.int32,
    errorCode: wire.int16,
    producerId: wire.int64,
    producerEpoch: wire.int16,
  });

const classicRequestHex = [
  "ffff", // transactional_id null: an idempotent producer
  "0000ea60", // transaction_timeout_ms 60000, unused without a transactional id
].join("");

const flexibleRequestHex = [
  "04" + utf8("tx1"), // transactional_id (compact, length + 1)
  "0000ea60", // transaction_timeout_ms
  "00", // request tagged fields
].join("");

const v3RequestHex = [
  "04" + utf8("tx1"), // transactional_id
  "0000ea60", // transaction_timeout_ms
  "0000000000001000", // producer_id 4096, held from before
  "0002", // producer_epoch
  "00", // request tagged fields
].join("");

const classicResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "0000000000001000", // producer_id 4096
  "0000", // producer_epoch
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "005a", // error_code 90 PRODUCER_FENCED
  "ffffffffffffffff", // producer_id -1
  "ffff", // producer_epoch -1
  "00", // response tagged fields
].join("");

describe("InitProducerId", () => {
  it("encodes a v0 request for an idempotent producer", () => {
    const request = { transactionalId: null, transactionTimeoutMs: 60_000 };
    expect(encodeRequest(initProducerIdApi, 0, request).toBuffer().toString("hex")).toBe(classicRequestHex);
    expect(decodeRequest(initProducerIdApi, 0, new Reader(Buffer.from(classicRequestHex, "hex")))).toEqual({
      ...request,
      producerId: -1n,
      producerEpoch: -1,
    });
  });

  it("encodes a v2 request with a compact transactional id", () => {
    const request = { transactionalId: "tx1", transactionTimeoutMs: 60_000 };
    expect(encodeRequest(initProducerIdApi, 2, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(initProducerIdApi, 2, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual({
      ...request,
      producerId: -1n,
      producerEpoch: -1,
    });
  });

  it("encodes a v3 request carrying the producer id and epoch it holds", () => {
    const request = {
      transactionalId: "tx1",
      transactionTimeoutMs: 60_000,
      producerId: 4096n,
      producerEpoch: 2,
    };
    expect(encodeRequest(initProducerIdApi, 3, request).toBuffer().toString("hex")).toBe(v3RequestHex);
    expect(decodeRequest(initProducerIdApi, 3, new Reader(Buffer.from(v3RequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v1 response byte for byte", () => {
    const response = { throttleTimeMs: 0, errorCode: 0, producerId: 4096n, producerEpoch: 0 };
    expect(encodeResponse(initProducerIdApi, 1, response).toBuffer().toString("hex")).toBe(
      classicResponseHex,
    );
    expect(decodeResponse(initProducerIdApi, 1, Buffer.from(classicResponseHex, "hex"))).toEqual(response);
  });

  it("encodes a v4 PRODUCER_FENCED response, writing an omitted producer id as -1", () => {
    const response = { throttleTimeMs: 0, errorCode: 90, producerEpoch: -1 };
    expect(encodeResponse(initProducerIdApi, 4, response).toBuffer().toString("hex")).toBe(
      flexibleResponseHex,
    );
    expect(decodeResponse(initProducerIdApi, 4, Buffer.from(flexibleResponseHex, "hex"))).toEqual({
      ...response,
      producerId: -1n,
    });
  });

  testCodecProperties(initProducerIdApi, requestIn, responseIn, {
    requests: { 0: classicRequestHex, 2: flexibleRequestHex, 3: v3RequestHex },
    responses: { 1: classicResponseHex, 4: flexibleResponseHex },
  });
});
