import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { createPartitionsApi } from "./create-partitions.ts";

const text = (value: string) => Buffer.from(value, "utf8").toString("hex");

const anyString = fc.string({ unit: "grapheme", maxLength: 20 });
const anyInt16 = fc.integer({ min: -32_768, max: 32_767 });
const anyInt32 = fc.integer({ min: -2_147_483_648, max: 2_147_483_647 });

// Every field exists in every version; only the encoding changes at v2.
const anyRequest = fc.record({
  topics: fc.array(
    fc.record({
      name: anyString,
      count: anyInt32,
      assignments: fc.option(fc.array(fc.record({ brokerIds: fc.array(anyInt32) }))),
    }),
  ),
  timeoutMs: anyInt32,
  validateOnly: fc.boolean(),
});

const anyResponse = fc.record({
  throttleTimeMs: anyInt32,
  results: fc.array(fc.record({ name: anyString, errorCode: anyInt16, errorMessage: fc.option(anyString) })),
});

const request = {
  topics: [
    { name: "foo", count: 6, assignments: null },
    { name: "bar", count: 2, assignments: [{ brokerIds: [1] }] },
  ],
  timeoutMs: 30_000,
  validateOnly: true,
};

const classicRequestHex =
  "00000002" + // topics: 2
  ("0003" + text("foo")) + // name
  "00000006" + // count: the new total
  "ffffffff" + // assignments null: the broker places the new partitions
  ("0003" + text("bar")) + // name
  "00000002" + // count
  "00000001" + // assignments: 1
  ("00000001" + "00000001") + // broker_ids [1]
  "00007530" + // timeout_ms 30000
  "01"; // validate_only

const flexibleRequestHex =
  "03" + // topics: 2 (compact, length + 1)
  ("04" + text("foo")) + // name
  "00000006" + // count
  "00" + // assignments null
  "00" + // topic tagged fields
  ("04" + text("bar")) + // name
  "00000002" + // count
  "02" + // assignments: 1
  ("02" + "00000001") + // broker_ids [1]
  "00" + // assignment tagged fields
  "00" + // topic tagged fields
  "00007530" + // timeout_ms
  "01" + // validate_only
  "00"; // request tagged fields

const classicResponseHex =
  "00000000" + // throttle_time_ms
  "00000001" + // results: 1
  ("0003" + text("foo")) + // name
  "0025" + // error_code 37 INVALID_PARTITIONS
  ("0005" + text("fewer")); // error_message

const flexibleResponseHex =
  "00000000" + // throttle_time_ms
  "02" + // results: 1
  ("04" + text("foo")) + // name
  "0000" + // error_code
  "00" + // error_message null
  "00" + // result tagged fields
  "00"; // response tagged fields

describe("CreatePartitions", () => {
  it("encodes a v1 request byte for byte", () => {
    expect(encodeRequest(createPartitionsApi, 1, request).toBuffer().toString("hex")).toBe(classicRequestHex);
    expect(decodeRequest(createPartitionsApi, 1, new Reader(Buffer.from(classicRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v3 request with compact arrays and a null assignment list", () => {
    expect(encodeRequest(createPartitionsApi, 3, request).toBuffer().toString("hex")).toBe(
      flexibleRequestHex,
    );
    expect(decodeRequest(createPartitionsApi, 3, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v0 response byte for byte", () => {
    const response = { throttleTimeMs: 0, results: [{ name: "foo", errorCode: 37, errorMessage: "fewer" }] };
    expect(encodeResponse(createPartitionsApi, 0, response).toBuffer().toString("hex")).toBe(
      classicResponseHex,
    );
    expect(decodeResponse(createPartitionsApi, 0, Buffer.from(classicResponseHex, "hex"))).toEqual(response);
  });

  it("encodes a v2 response with the error message left at its null default", () => {
    const response = { throttleTimeMs: 0, results: [{ name: "foo", errorCode: 0 }] };
    expect(encodeResponse(createPartitionsApi, 2, response).toBuffer().toString("hex")).toBe(
      flexibleResponseHex,
    );
    expect(decodeResponse(createPartitionsApi, 2, Buffer.from(flexibleResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      results: [{ name: "foo", errorCode: 0, errorMessage: null }],
    });
  });

  it("round-trips requests and responses in every version", () => {
    const versions = fc.integer({ min: createPartitionsApi.versionMin, max: createPartitionsApi.versionMax });
    fc.assert(
      fc.property(versions, anyRequest, anyResponse, (version, request, response) => {
        const requestBytes = encodeRequest(createPartitionsApi, version, request).toBuffer();
        const reader = new Reader(requestBytes);
        expect(decodeRequest(createPartitionsApi, version, reader)).toEqual(request);
        expect(reader.remaining).toBe(0);
        const responseBytes = encodeResponse(createPartitionsApi, version, response).toBuffer();
        expect(decodeResponse(createPartitionsApi, version, responseBytes)).toEqual(response);
      }),
    );
  });

  it("refuses every truncation of a frame with a DecodeError", () => {
    const requests: Array<[number, string]> = [
      [1, classicRequestHex],
      [3, flexibleRequestHex],
    ];
    for (const [version, hex] of requests) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const reader = new Reader(bytes.subarray(0, length));
        expect(() => decodeRequest(createPartitionsApi, version, reader)).toThrow(DecodeError);
      }
    }
    const responses: Array<[number, string]> = [
      [0, classicResponseHex],
      [2, flexibleResponseHex],
    ];
    for (const [version, hex] of responses) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const truncated = bytes.subarray(0, length);
        expect(() => decodeResponse(createPartitionsApi, version, truncated)).toThrow(DecodeError);
      }
    }
  });
});
