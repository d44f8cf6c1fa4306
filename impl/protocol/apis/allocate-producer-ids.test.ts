import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { allocateProducerIdsApi } from "./allocate-producer-ids.ts";
import { testCodecProperties, wire } from "./codec-test-support.ts";

/** A request; there is one version. */
function requestIn() {
  return fc.record({ brokerId: wire.int32, brokerEpoch: wire.int64 });
}

/** A response; there is one version. */
function responseIn() {
  return fc.record({
    throttleTimeMs: wire.int32,
    errorCode: wire.int16,
    producerIdStart: wire.int64,
    producerIdLen: wire.int32,
  });
}

// Version 0 is the only one, and flexible.
const requestHex = [
  "00000002", // broker_id 2
  "0000000000000007", // broker_epoch 7
  "00", // request tag buffer
].join("");

const responseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "00000000000007d0", // producer_id_start 2000
  "000003e8", // producer_id_len 1000
  "00", // response tag buffer
].join("");

const staleEpochHex = [
  "00000000", // throttle_time_ms
  "004d", // error_code 77 STALE_BROKER_EPOCH
  "0000000000000000", // producer_id_start
  "00000000", // producer_id_len
  "00", // response tag buffer
].join("");

describe("AllocateProducerIds", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = { brokerId: 2, brokerEpoch: 7n };
    expect(encodeRequest(allocateProducerIdsApi, 0, request).toBuffer().toString("hex")).toBe(requestHex);
    expect(decodeRequest(allocateProducerIdsApi, 0, new Reader(Buffer.from(requestHex, "hex")))).toEqual(
      request,
    );
  });

  it("writes an omitted broker epoch as -1, its default", () => {
    const hex = encodeRequest(allocateProducerIdsApi, 0, { brokerId: 2 }).toBuffer().toString("hex");
    expect(hex).toBe(`00000002${"ff".repeat(8)}00`);
  });

  it("encodes a block of 1000 ids from 2000 byte for byte", () => {
    const response = { throttleTimeMs: 0, errorCode: 0, producerIdStart: 2000n, producerIdLen: 1000 };
    expect(encodeResponse(allocateProducerIdsApi, 0, response).toBuffer().toString("hex")).toBe(responseHex);
    expect(decodeResponse(allocateProducerIdsApi, 0, Buffer.from(responseHex, "hex"))).toEqual(response);
  });

  it("encodes a STALE_BROKER_EPOCH refusal", () => {
    const response = { throttleTimeMs: 0, errorCode: 77, producerIdStart: 0n, producerIdLen: 0 };
    expect(encodeResponse(allocateProducerIdsApi, 0, response).toBuffer().toString("hex")).toBe(
      staleEpochHex,
    );
    expect(decodeResponse(allocateProducerIdsApi, 0, Buffer.from(staleEpochHex, "hex"))).toEqual(response);
  });

  it("refuses a request whose tag buffer claims a field that is not there", () => {
    const hex = `${requestHex.slice(0, -2)}01`; // one tagged field follows, but the frame ends
    expect(() => decodeRequest(allocateProducerIdsApi, 0, new Reader(Buffer.from(hex, "hex")))).toThrow(
      DecodeError,
    );
  });

  testCodecProperties(allocateProducerIdsApi, requestIn, responseIn, {
    requests: { 0: requestHex },
    responses: { 0: responseHex },
  });
});
