import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { carried, nullableWhen, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { deleteTopicsApi } from "./delete-topics.ts";

const zeroTopicId = "00000000000000000000000000000000";
const topicId = "0123456789abcdef0123456789abcdef";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    topics: carried(version >= 6, wire.list(fc.record({ name: wire.nullableText, topicId: wire.uuid })), []),
    topicNames: carried(version <= 5, wire.list(wire.text), []),
    timeoutMs: wire.int32,
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: carried(version >= 1, wire.int32, 0),
    responses: wire.list(
      fc.record({
        name: nullableWhen(version >= 6, wire.text, ""),
        topicId: carried(version >= 6, wire.uuid, zeroTopicId),
        errorCode: wire.int16,
        errorMessage: carried(version >= 5, wire.nullableText, null),
      }),
    ),
  });
}

const classicRequestHex =
  "00000002" + // topic_names: 2
  ("0003" + utf8("foo")) +
  ("0003" + utf8("bar")) +
  "00007530"; // timeout_ms 30000

const flexibleNamesRequestHex =
  "03" + // topic_names: 2 (compact, length + 1)
  ("04" + utf8("foo")) +
  ("04" + utf8("bar")) +
  "00007530" + // timeout_ms
  "00"; // request tagged fields

const flexibleIdsRequestHex =
  "03" + // topics: 2
  ("04" + utf8("foo")) + // name
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
  ("0003" + utf8("foo")) + // name
  "0003"; // error_code 3 UNKNOWN_TOPIC_OR_PARTITION

const flexibleResponseHex =
  "00000064" + // throttle_time_ms 100
  "02" + // responses: 1
  "00" + // name null
  topicId + // topic_id
  "0064" + // error_code 100 UNKNOWN_TOPIC_ID
  ("08" + utf8("unknown")) + // error_message
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

  testCodecProperties(deleteTopicsApi, requestIn, responseIn, {
    requests: { 1: classicRequestHex, 4: flexibleNamesRequestHex, 6: flexibleIdsRequestHex },
    responses: { 1: classicResponseHex, 6: flexibleResponseHex },
  });
});
