import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { createPartitionsApi } from "./create-partitions.ts";

/** A request: every field exists in every version; only the encoding changes at v2. */
function requestIn(_version: number) {
  return fc.record({
    topics: wire.list(
      fc.record({
        name: wire.text,
        count: wire.int32,
        assignments: wire.nullable(wire.list(fc.record({ brokerIds: wire.list(wire.int32) }))),
      }),
    ),
    timeoutMs: wire.int32,
    validateOnly: fc.boolean(),
  });
}

/** A response: every field exists in every version. */
function responseIn(_version: number) {
  return fc.record({
    throttleTimeMs: wire.int32,
    results: wire.list(
      fc.record({ name: wire.text, errorCode: wire.int16, errorMessage: wire.nullableText }),
    ),
  });
}

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
  ("0003" + utf8("foo")) + // name
  "00000006" + // count: the new total
  "ffffffff" + // assignments null: the broker places the new partitions
  ("0003" + utf8("bar")) + // name
  "00000002" + // count
  "00000001" + // assignments: 1
  ("00000001" + "00000001") + // broker_ids [1]
  "00007530" + // timeout_ms 30000
  "01"; // validate_only

const flexibleRequestHex =
  "03" + // topics: 2 (compact, length + 1)
  ("04" + utf8("foo")) + // name
  "00000006" + // count
  "00" + // assignments null
  "00" + // topic tagged fields
  ("04" + utf8("bar")) + // name
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
  ("0003" + utf8("foo")) + // name
  "0025" + // error_code 37 INVALID_PARTITIONS
  ("0005" + utf8("fewer")); // error_message

const flexibleResponseHex =
  "00000000" + // throttle_time_ms
  "02" + // results: 1
  ("04" + utf8("foo")) + // name
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

  testCodecProperties(createPartitionsApi, requestIn, responseIn, {
    requests: { 1: classicRequestHex, 3: flexibleRequestHex },
    responses: { 0: classicResponseHex, 2: flexibleResponseHex },
  });
});
