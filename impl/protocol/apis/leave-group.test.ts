import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { leaveGroupApi } from "./leave-group.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    groupId: wire.text,
    memberId: carried(version <= 2, wire.text, ""),
    members: carried(
      version >= 3,
      wire.list(
        fc.record({
          memberId: wire.text,
          groupInstanceId: wire.nullableText,
          reason: carried(version >= 5, wire.nullableText, null),
        }),
      ),
      [],
    ),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: carried(version >= 1, wire.int32, 0),
    errorCode: wire.int16,
    members: carried(
      version >= 3,
      wire.list(
        fc.record({ memberId: wire.text, groupInstanceId: wire.nullableText, errorCode: wire.int16 }),
      ),
      [],
    ),
  });
}

const v0RequestHex = [
  "0002" + utf8("g1"), // group_id
  "0002" + utf8("m1"), // member_id
].join("");

const batchedRequestHex = [
  "0002" + utf8("g1"), // group_id
  "00000002", // members: 2
  "0002" + utf8("m1"), // member_id
  "ffff", // group_instance_id null: a dynamic member
  "0000", // member_id "": named by instance id alone
  "0002" + utf8("i2"), // group_instance_id
].join("");

const flexibleRequestHex = [
  "03" + utf8("g1"), // group_id (compact, length + 1)
  "02", // members: 1
  "03" + utf8("m1"), // member_id
  "00", // group_instance_id null
  "09" + utf8("shutdown"), // reason
  "00", // member tagged fields
  "00", // request tagged fields
].join("");

const v0ResponseHex = "0019"; // error_code 25 UNKNOWN_MEMBER_ID

const batchedResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "00000002", // members: 2
  "0002" + utf8("m1"), // member_id
  "ffff", // group_instance_id null
  "0000", // error_code
  "0000", // member_id ""
  "0002" + utf8("i2"), // group_instance_id
  "0019", // error_code 25 UNKNOWN_MEMBER_ID: no member has that instance id
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "02", // members: 1
  "03" + utf8("m1"), // member_id
  "00", // group_instance_id null
  "0000", // error_code
  "00", // member tagged fields
  "00", // response tagged fields
].join("");

describe("LeaveGroup", () => {
  it("encodes a v0 request for one member leaving", () => {
    const request = { groupId: "g1", memberId: "m1" };
    expect(encodeRequest(leaveGroupApi, 0, request).toBuffer().toString("hex")).toBe(v0RequestHex);
    expect(decodeRequest(leaveGroupApi, 0, new Reader(Buffer.from(v0RequestHex, "hex")))).toEqual({
      ...request,
      members: [],
    });
  });

  it("encodes a v3 request batching members by member id or instance id", () => {
    const request = {
      groupId: "g1",
      members: [
        { memberId: "m1", groupInstanceId: null },
        { memberId: "", groupInstanceId: "i2" },
      ],
    };
    expect(encodeRequest(leaveGroupApi, 3, request).toBuffer().toString("hex")).toBe(batchedRequestHex);
    expect(decodeRequest(leaveGroupApi, 3, new Reader(Buffer.from(batchedRequestHex, "hex")))).toEqual({
      groupId: "g1",
      memberId: "",
      members: request.members.map((member) => ({ ...member, reason: null })),
    });
  });

  it("encodes a v5 request with compact fields and a reason", () => {
    const request = {
      groupId: "g1",
      members: [{ memberId: "m1", groupInstanceId: null, reason: "shutdown" }],
    };
    expect(encodeRequest(leaveGroupApi, 5, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(leaveGroupApi, 5, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual({
      ...request,
      memberId: "",
    });
  });

  it("encodes a v0 response byte for byte", () => {
    expect(encodeResponse(leaveGroupApi, 0, { errorCode: 25 }).toBuffer().toString("hex")).toBe(
      v0ResponseHex,
    );
    expect(decodeResponse(leaveGroupApi, 0, Buffer.from(v0ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      errorCode: 25,
      members: [],
    });
  });

  it("encodes a v3 response with an error per member", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      members: [
        { memberId: "m1", groupInstanceId: null, errorCode: 0 },
        { memberId: "", groupInstanceId: "i2", errorCode: 25 },
      ],
    };
    expect(encodeResponse(leaveGroupApi, 3, response).toBuffer().toString("hex")).toBe(batchedResponseHex);
    expect(decodeResponse(leaveGroupApi, 3, Buffer.from(batchedResponseHex, "hex"))).toEqual(response);
  });

  it("encodes a v4 response with compact members", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      members: [{ memberId: "m1", groupInstanceId: null, errorCode: 0 }],
    };
    expect(encodeResponse(leaveGroupApi, 4, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(leaveGroupApi, 4, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(leaveGroupApi, requestIn, responseIn, {
    requests: { 0: v0RequestHex, 3: batchedRequestHex, 5: flexibleRequestHex },
    responses: { 0: v0ResponseHex, 3: batchedResponseHex, 4: flexibleResponseHex },
  });
});
