import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { heartbeatApi } from "./heartbeat.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    groupId: wire.text,
    generationId: wire.int32,
    memberId: wire.text,
    groupInstanceId: carried(version >= 3, wire.nullableText, null),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: carried(version >= 1, wire.int32, 0),
    errorCode: wire.int16,
  });
}

const v0RequestHex = [
  "0002" + utf8("g1"), // group_id
  "00000001", // generation_id
  "0002" + utf8("m1"), // member_id
].join("");

const v3RequestHex = [
  "0002" + utf8("g1"), // group_id
  "00000001", // generation_id
  "0002" + utf8("m1"), // member_id
  "0002" + utf8("i1"), // group_instance_id
].join("");

const flexibleRequestHex = [
  "03" + utf8("g1"), // group_id (compact, length + 1)
  "00000001", // generation_id
  "03" + utf8("m1"), // member_id
  "00", // group_instance_id null: a dynamic member
  "00", // request tagged fields
].join("");

const v0ResponseHex = "001b"; // error_code 27 REBALANCE_IN_PROGRESS

const v1ResponseHex = [
  "00000064", // throttle_time_ms 100
  "0000", // error_code
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "0016", // error_code 22 ILLEGAL_GENERATION
  "00", // response tagged fields
].join("");

describe("Heartbeat", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = { groupId: "g1", generationId: 1, memberId: "m1" };
    expect(encodeRequest(heartbeatApi, 0, request).toBuffer().toString("hex")).toBe(v0RequestHex);
    expect(decodeRequest(heartbeatApi, 0, new Reader(Buffer.from(v0RequestHex, "hex")))).toEqual({
      ...request,
      groupInstanceId: null,
    });
  });

  it("encodes a v3 request from a static member", () => {
    const request = { groupId: "g1", generationId: 1, memberId: "m1", groupInstanceId: "i1" };
    expect(encodeRequest(heartbeatApi, 3, request).toBuffer().toString("hex")).toBe(v3RequestHex);
    expect(decodeRequest(heartbeatApi, 3, new Reader(Buffer.from(v3RequestHex, "hex")))).toEqual(request);
  });

  it("encodes a v4 request with compact strings, writing an omitted instance id as null", () => {
    const request = { groupId: "g1", generationId: 1, memberId: "m1" };
    expect(encodeRequest(heartbeatApi, 4, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(heartbeatApi, 4, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual({
      ...request,
      groupInstanceId: null,
    });
  });

  it("encodes responses with and without a throttle time and a tag buffer", () => {
    expect(encodeResponse(heartbeatApi, 0, { errorCode: 27 }).toBuffer().toString("hex")).toBe(v0ResponseHex);
    expect(decodeResponse(heartbeatApi, 0, Buffer.from(v0ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      errorCode: 27,
    });
    const throttled = { throttleTimeMs: 100, errorCode: 0 };
    expect(encodeResponse(heartbeatApi, 1, throttled).toBuffer().toString("hex")).toBe(v1ResponseHex);
    expect(decodeResponse(heartbeatApi, 1, Buffer.from(v1ResponseHex, "hex"))).toEqual(throttled);
    const flexible = { throttleTimeMs: 0, errorCode: 22 };
    expect(encodeResponse(heartbeatApi, 4, flexible).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(heartbeatApi, 4, Buffer.from(flexibleResponseHex, "hex"))).toEqual(flexible);
  });

  testCodecProperties(heartbeatApi, requestIn, responseIn, {
    requests: { 0: v0RequestHex, 3: v3RequestHex, 4: flexibleRequestHex },
    responses: { 0: v0ResponseHex, 1: v1ResponseHex, 4: flexibleResponseHex },
  });
});
