import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, nullableWhen, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { joinGroupApi } from "./join-group.ts";

/** Stands in for a consumer's subscription or assignment: the grammar carries it as opaque bytes. */
const subscription = Buffer.from("000100000001", "hex");

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    groupId: wire.text,
    sessionTimeoutMs: wire.int32,
    rebalanceTimeoutMs: carried(version >= 1, wire.int32, -1),
    memberId: wire.text,
    groupInstanceId: carried(version >= 5, wire.nullableText, null),
    protocolType: wire.text,
    protocols: wire.list(fc.record({ name: wire.text, metadata: wire.recordBytes })),
    reason: carried(version >= 8, wire.nullableText, null),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: carried(version >= 2, wire.int32, 0),
    errorCode: wire.int16,
    generationId: wire.int32,
    protocolType: carried(version >= 7, wire.nullableText, null),
    protocolName: nullableWhen(version >= 7, wire.text, ""),
    leader: wire.text,
    skipAssignment: carried(version >= 9, fc.boolean(), false),
    memberId: wire.text,
    members: wire.list(
      fc.record({
        memberId: wire.text,
        groupInstanceId: carried(version >= 5, wire.nullableText, null),
        metadata: wire.recordBytes,
      }),
    ),
  });
}

const v0RequestHex = [
  "0002" + utf8("g1"), // group_id
  "00007530", // session_timeout_ms 30000
  "0000", // member_id "": a first join
  "0008" + utf8("consumer"), // protocol_type
  "00000001", // protocols: 1
  "0005" + utf8("range"), // name
  "00000006" + "000100000001", // metadata
].join("");

const v5RequestHex = [
  "0002" + utf8("g1"), // group_id
  "00007530", // session_timeout_ms
  "0000ea60", // rebalance_timeout_ms 60000
  "0002" + utf8("m1"), // member_id
  "0002" + utf8("i1"), // group_instance_id: a static member
  "0008" + utf8("consumer"), // protocol_type
  "00000000", // protocols: 0
].join("");

const flexibleRequestHex = [
  "03" + utf8("g1"), // group_id (compact, length + 1)
  "00007530", // session_timeout_ms
  "0000ea60", // rebalance_timeout_ms
  "01", // member_id ""
  "00", // group_instance_id null
  "09" + utf8("consumer"), // protocol_type
  "02", // protocols: 1
  "06" + utf8("range"), // name
  "07" + "000100000001", // metadata (compact, length + 1)
  "00", // protocol tagged fields
  "09" + utf8("starting"), // reason
  "00", // request tagged fields
].join("");

const v0ResponseHex = [
  "0000", // error_code
  "00000001", // generation_id
  "0005" + utf8("range"), // protocol_name
  "0002" + utf8("m1"), // leader
  "0002" + utf8("m1"), // member_id
  "00000001", // members: 1
  "0002" + utf8("m1"), // member_id
  "00000006" + "000100000001", // metadata
].join("");

const v5ResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "00000002", // generation_id
  "0005" + utf8("range"), // protocol_name
  "0002" + utf8("m1"), // leader
  "0002" + utf8("m2"), // member_id: a follower, so no members
  "00000000", // members: 0
].join("");

const v7ResponseHex = [
  "00000000", // throttle_time_ms
  "004f", // error_code 79 MEMBER_ID_REQUIRED
  "ffffffff", // generation_id -1
  "00", // protocol_type null
  "00", // protocol_name null
  "01", // leader ""
  "03" + utf8("m1"), // member_id: the id to join again with
  "01", // members: 0
  "00", // response tagged fields
].join("");

const v9ResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "00000003", // generation_id
  "09" + utf8("consumer"), // protocol_type
  "06" + utf8("range"), // protocol_name
  "03" + utf8("m1"), // leader
  "01", // skip_assignment: a server-side assignor already ran
  "03" + utf8("m1"), // member_id
  "02", // members: 1
  "03" + utf8("m1"), // member_id
  "03" + utf8("i1"), // group_instance_id
  "07" + "000100000001", // metadata
  "00", // member tagged fields
  "00", // response tagged fields
].join("");

describe("JoinGroup", () => {
  it("encodes a v0 request, which has no rebalance timeout", () => {
    const request = {
      groupId: "g1",
      sessionTimeoutMs: 30_000,
      memberId: "",
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: subscription }],
    };
    expect(encodeRequest(joinGroupApi, 0, request).toBuffer().toString("hex")).toBe(v0RequestHex);
    expect(decodeRequest(joinGroupApi, 0, new Reader(Buffer.from(v0RequestHex, "hex")))).toEqual({
      ...request,
      rebalanceTimeoutMs: -1,
      groupInstanceId: null,
      reason: null,
    });
  });

  it("encodes a v5 request from a static member", () => {
    const request = {
      groupId: "g1",
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 60_000,
      memberId: "m1",
      groupInstanceId: "i1",
      protocolType: "consumer",
      protocols: [],
    };
    expect(encodeRequest(joinGroupApi, 5, request).toBuffer().toString("hex")).toBe(v5RequestHex);
    expect(decodeRequest(joinGroupApi, 5, new Reader(Buffer.from(v5RequestHex, "hex")))).toEqual({
      ...request,
      reason: null,
    });
  });

  it("encodes a v8 request with compact fields and a reason", () => {
    const request = {
      groupId: "g1",
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 60_000,
      memberId: "",
      groupInstanceId: null,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: subscription }],
      reason: "starting",
    };
    expect(encodeRequest(joinGroupApi, 8, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(joinGroupApi, 8, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v0 response to the leader, with the members' metadata", () => {
    const response = {
      errorCode: 0,
      generationId: 1,
      protocolName: "range",
      leader: "m1",
      memberId: "m1",
      members: [{ memberId: "m1", metadata: subscription }],
    };
    expect(encodeResponse(joinGroupApi, 0, response).toBuffer().toString("hex")).toBe(v0ResponseHex);
    expect(decodeResponse(joinGroupApi, 0, Buffer.from(v0ResponseHex, "hex"))).toEqual({
      ...response,
      throttleTimeMs: 0,
      protocolType: null,
      skipAssignment: false,
      members: [{ memberId: "m1", groupInstanceId: null, metadata: subscription }],
    });
  });

  it("encodes a v5 response to a follower", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 2,
      protocolName: "range",
      leader: "m1",
      memberId: "m2",
      members: [],
    };
    expect(encodeResponse(joinGroupApi, 5, response).toBuffer().toString("hex")).toBe(v5ResponseHex);
    expect(decodeResponse(joinGroupApi, 5, Buffer.from(v5ResponseHex, "hex"))).toEqual({
      ...response,
      protocolType: null,
      skipAssignment: false,
    });
  });

  it("encodes a v7 MEMBER_ID_REQUIRED response with the default generation and null protocol", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 79,
      protocolName: null,
      leader: "",
      memberId: "m1",
      members: [],
    };
    expect(encodeResponse(joinGroupApi, 7, response).toBuffer().toString("hex")).toBe(v7ResponseHex);
    expect(decodeResponse(joinGroupApi, 7, Buffer.from(v7ResponseHex, "hex"))).toEqual({
      ...response,
      generationId: -1,
      protocolType: null,
      skipAssignment: false,
    });
  });

  it("encodes a v9 response telling the leader to skip the assignment", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 3,
      protocolType: "consumer",
      protocolName: "range",
      leader: "m1",
      skipAssignment: true,
      memberId: "m1",
      members: [{ memberId: "m1", groupInstanceId: "i1", metadata: subscription }],
    };
    expect(encodeResponse(joinGroupApi, 9, response).toBuffer().toString("hex")).toBe(v9ResponseHex);
    expect(decodeResponse(joinGroupApi, 9, Buffer.from(v9ResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(joinGroupApi, requestIn, responseIn, {
    requests: { 0: v0RequestHex, 5: v5RequestHex, 8: flexibleRequestHex },
    responses: { 0: v0ResponseHex, 5: v5ResponseHex, 7: v7ResponseHex, 9: v9ResponseHex },
  });
});
