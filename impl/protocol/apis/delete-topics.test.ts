import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { deleteTopicsApi } from "./delete-topics.ts";

const text = (value: string) => Buffer.from(value, "utf8").toString("hex");
const zeroTopicId = "00000000000000000000000000000000";
const topicId = "0123456789abcdef0123456789abcdef";

/** The arbitrary in versions from `first` on; the grammar's default before, where the field is absent. */
function from<T>(version: number, first: number, arbitrary: fc.Arbitrary<T>, absent: T): fc.Arbitrary<T> {
  return version >= first ? arbitrary : fc.constant(absent);
}

const anyString = fc.string({ unit: "grapheme", maxLength: 20 });
const anyInt16 = fc.integer({ min: -32_768, max: 32_767 });
const anyInt32 = fc.integer({ min: -2_147_483_648, max: 2_147_483_647 });
const anyUuid = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((bytes) => Buffer.from(bytes).toString("hex"));

function anyRequest(version: number) {
  return fc.record({
    topics: from(version, 6, fc.array(fc.record({ name: fc.option(anyString), topicId: anyUuid })), []),
    topicNames: version <= 5 ? fc.array(anyString) : fc.constant<string[]>([]),
    timeoutMs: anyInt32,
  });
}

function anyResponse(version: number) {
  return fc.record({
    throttleTimeMs: from(version, 1, anyInt32, 0),
    responses: fc.array(
      fc.record({
        name: version >= 6 ? fc.option(anyString) : anyString,
        topicId: from(version, 6, anyUuid, zeroTopicId),
        errorCode: anyInt16,
        errorMessage: from(version, 5, fc.option(anyString), null),
      }),
    ),
  });
}

const classicRequestHex =
  "00000002" + // topic_names: 2
  ("0003" + text("foo")) +
  ("0003" + text("bar")) +
  "00007530"; // timeout_ms 30000

const flexibleNamesRequestHex =
  "03" + // topic_names: 2 (compact, length + 1)
  ("04" + text("foo")) +
  ("04" + text("bar")) +
  "00007530" + // timeout_ms
  "00"; // request tagged fields

const flexibleIdsRequestHex =
  "03" + // topics: 2
  ("04" + text("foo")) + // name
  zeroTopicId + // topic_id unknown to the client
  "00" + // topic tagged fields
  "00" + // name null: deleted by id
  topicId + // topic_id
  "00" + // topic tagged fields
  "00007530" + // timeout_ms
  "00"; // request tagged fields

const classicResponseHex =
  "00000000" + // throttle_time_ms
  "00000001" + // responses: 1
  ("0003" + text("foo")) + // name
  "0003"; // error_code 3 UNKNOWN_TOPIC_OR_PARTITION

const flexibleResponseHex =
  "00000064" + // throttle_time_ms 100
  "02" + // responses: 1
  "00" + // name null
  topicId + // topic_id
  "0064" + // error_code 100 UNKNOWN_TOPIC_ID
  ("08" + text("unknown")) + // error_message
  "00" + // result tagged fields
  "00"; // response tagged fields

describe("DeleteTopics", () => {
  it("encodes a v1 request byte for byte", () => {
    const request = { topicNames: ["foo", "bar"], timeoutMs: 30_000 };
    expect(encodeRequest(deleteTopicsApi, 1, request).toBuffer().toString("hex")).toBe(classicRequestHex);
    const decoded = decodeRequest(deleteTopicsApi, 1, new Reader(Buffer.from(classicRequestHex, "hex")));
    expect(decoded).toEqual({ topics: [], topicNames: ["foo", "bar"], timeoutMs: 30_000 });
  });

  it("encodes a v4 request with a compact array of names", () => {
    const request = { topicNames: ["foo", "bar"], timeoutMs: 30_000 };
    expect(encodeRequest(deleteTopicsApi, 4, request).toBuffer().toString("hex")).toBe(
      flexibleNamesRequestHex,
    );
  });

  it("encodes a v6 request naming topics by name or by id", () => {
    const request = {
      topics: [
        { name: "foo", topicId: zeroTopicId },
        { name: null, topicId },
      ],
      timeoutMs: 30_000,
    };
    expect(encodeRequest(deleteTopicsApi, 6, request).toBuffer().toString("hex")).toBe(flexibleIdsRequestHex);
    const decoded = decodeRequest(deleteTopicsApi, 6, new Reader(Buffer.from(flexibleIdsRequestHex, "hex")));
    expect(decoded).toEqual({ ...request, topicNames: [] });
  });

  it("encodes a v1 response byte for byte", () => {
    const response = { throttleTimeMs: 0, responses: [{ name: "foo", errorCode: 3 }] };
    expect(encodeResponse(deleteTopicsApi, 1, response).toBuffer().toString("hex")).toBe(classicResponseHex);
    expect(decodeResponse(deleteTopicsApi, 1, Buffer.from(classicResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      responses: [{ name: "foo", topicId: zeroTopicId, errorCode: 3, errorMessage: null }],
    });
  });

  it("encodes a v6 response for a topic named only by id", () => {
    const response = {
      throttleTimeMs: 100,
      responses: [{ name: null, topicId, errorCode: 100, errorMessage: "unknown" }],
    };
    expect(encodeResponse(deleteTopicsApi, 6, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(deleteTopicsApi, 6, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  it("refuses a null topic name before v6, where names are not nullable", () => {
    const nullName =
      "00000000" + // throttle_time_ms
      "02" + // responses: 1
      "00" + // name null
      "0003" + // error_code
      "00" + // error_message null
      "00" + // result tagged fields
      "00"; // response tagged fields
    expect(() => decodeResponse(deleteTopicsApi, 5, Buffer.from(nullName, "hex"))).toThrow(DecodeError);
  });

  it("round-trips requests and responses in every version", () => {
    const versions = fc.integer({ min: deleteTopicsApi.versionMin, max: deleteTopicsApi.versionMax });
    fc.assert(
      fc.property(
        versions.chain((version) =>
          fc.tuple(fc.constant(version), anyRequest(version), anyResponse(version)),
        ),
        ([version, request, response]) => {
          const requestBytes = encodeRequest(deleteTopicsApi, version, request).toBuffer();
          const reader = new Reader(requestBytes);
          expect(decodeRequest(deleteTopicsApi, version, reader)).toEqual(request);
          expect(reader.remaining).toBe(0);
          const responseBytes = encodeResponse(deleteTopicsApi, version, response).toBuffer();
          expect(decodeResponse(deleteTopicsApi, version, responseBytes)).toEqual(response);
        },
      ),
    );
  });

  it("refuses every truncation of a frame with a DecodeError", () => {
    const requests: Array<[number, string]> = [
      [1, classicRequestHex],
      [4, flexibleNamesRequestHex],
      [6, flexibleIdsRequestHex],
    ];
    for (const [version, hex] of requests) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const reader = new Reader(bytes.subarray(0, length));
        expect(() => decodeRequest(deleteTopicsApi, version, reader)).toThrow(DecodeError);
      }
    }
    const responses: Array<[number, string]> = [
      [1, classicResponseHex],
      [6, flexibleResponseHex],
    ];
    for (const [version, hex] of responses) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const truncated = bytes.subarray(0, length);
        expect(() => decodeResponse(deleteTopicsApi, version, truncated)).toThrow(DecodeError);
      }
    }
  });
});
