import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { syncGroupApi } from "./sync-group.ts";

/** Stands in for a consumer's assignment: the grammar carries it as opaque bytes. */
const assignment = Buffer.from("0001cafe", "hex");

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    groupId: wire.text,
    generationId: wire.int32,
    memberId: wire.text,
    groupInstanceId: carried(version >= 3, wire.nullableText, null),
    protocolType: carried(version >= 5, wire.nullableText, null),
    protocolName: carried(version >= 5, wire.nullableText, null),
    assignments: wire.list(fc.record({ memberId: wire.text, assignment: wire.recordBytes })),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: carried(version >= 1, wire.int32, 0),
    errorCode: wire.int16,
    protocolType: carried(version >= 5, wire.nullableText, null),
    protocolName: carried(version >= 5, wire.nullableText, null),
    assignment: wire.recordBytes,
  });
}

const v0RequestHex = [
  "0002" + utf8("g1"), // group_id
  "00000001", // generation_id
  "0002" + utf8("m1"), // member_id
  "00000002", // assignments: 2, sent by the leader
  "0002" + utf8("m1"), // member_id
  "00000004" + "0001cafe", // assignment
  "0002" + utf8("m2"), // member_id
  "00000000", // assignment: empty, nothing assigned
].join("");

const v3RequestHex = [
  "0002" + utf8("g1"), // group_id
  "00000001", // generation_id
  "0002" + utf8("m2"), // member_id
  "0002" + utf8("i2"), // group_instance_id
  "00000000", // assignments: 0, a follower
].join("");

const flexibleRequestHex = [
  "03" + utf8("g1"), // group_id (compact, length + 1)
  "00000001", // generation_id
  "03" + utf8("m1"), // member_id
  "00", // group_instance_id null
  "09" + utf8("consumer"), // protocol_type
  "06" + utf8("range"), // protocol_name
  "02", // assignments: 1
  "03" + utf8("m1"), // member_id
  "05" + "0001cafe", // assignment (compact, length + 1)
  "00", // assignment tagged fields
  "00", // request tagged fields
].join("");

const v0ResponseHex = [
  "0000", // error_code
  "00000004" + "0001cafe", // assignment
].join("");

const v1ResponseHex = [
  "00000000", // throttle_time_ms
  "001b", // error_code 27 REBALANCE_IN_PROGRESS
  "00000000", // assignment: empty
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "09" + utf8("consumer"), // protocol_type
  "06" + utf8("range"), // protocol_name
  "05" + "0001cafe", // assignment
  "00", // response tagged fields
].join("");

describe("SyncGroup", () => {
  it("encodes a v0 request carrying the leader's assignments", () => {
    const request = {
      groupId: "g1",
      generationId: 1,
      memberId: "m1",
      assignments: [
        { memberId: "m1", assignment },
        { memberId: "m2", assignment: Buffer.alloc(0) },
      ],
    };
    expect(encodeRequest(syncGroupApi, 0, request).toBuffer().toString("hex")).toBe(v0RequestHex);
    expect(decodeRequest(syncGroupApi, 0, new Reader(Buffer.from(v0RequestHex, "hex")))).toEqual({
      ...request,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
    });
  });

  it("encodes a v3 request from a static follower", () => {
    const request = {
      groupId: "g1",
      generationId: 1,
      memberId: "m2",
      groupInstanceId: "i2",
      assignments: [],
    };
    expect(encodeRequest(syncGroupApi, 3, request).toBuffer().toString("hex")).toBe(v3RequestHex);
    expect(decodeRequest(syncGroupApi, 3, new Reader(Buffer.from(v3RequestHex, "hex")))).toEqual({
      ...request,
      protocolType: null,
      protocolName: null,
    });
  });

  it("encodes a v5 request naming the protocol, with compact fields", () => {
    const request = {
      groupId: "g1",
      generationId: 1,
      memberId: "m1",
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [{ memberId: "m1", assignment }],
    };
    expect(encodeRequest(syncGroupApi, 5, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(syncGroupApi, 5, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes v0 and v1 responses byte for byte", () => {
    expect(encodeResponse(syncGroupApi, 0, { errorCode: 0, assignment }).toBuffer().toString("hex")).toBe(
      v0ResponseHex,
    );
    expect(decodeResponse(syncGroupApi, 0, Buffer.from(v0ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      protocolType: null,
      protocolName: null,
      assignment,
    });
    const rebalancing = { throttleTimeMs: 0, errorCode: 27, assignment: Buffer.alloc(0) };
    expect(encodeResponse(syncGroupApi, 1, rebalancing).toBuffer().toString("hex")).toBe(v1ResponseHex);
    expect(decodeResponse(syncGroupApi, 1, Buffer.from(v1ResponseHex, "hex"))).toEqual({
      ...rebalancing,
      protocolType: null,
      protocolName: null,
    });
  });

  it("encodes a v5 response naming the protocol of the assignment", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      protocolType: "consumer",
      protocolName: "range",
      assignment,
    };
    expect(encodeResponse(syncGroupApi, 5, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(syncGroupApi, 5, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(syncGroupApi, requestIn, responseIn, {
    requests: { 0: v0RequestHex, 3: v3RequestHex, 5: flexibleRequestHex },
    responses: { 0: v0ResponseHex, 1: v1ResponseHex, 5: flexibleResponseHex },
  });
});
