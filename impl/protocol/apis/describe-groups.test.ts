import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { describeGroupsApi } from "./describe-groups.ts";

/** Stand in for a member's subscription and assignment: the grammar carries them as opaque bytes. */
const metadata = Buffer.from("0001", "hex");
const assignment = Buffer.from("cafe", "hex");

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    groups: wire.list(wire.text),
    includeAuthorizedOperations: carried(version >= 3, fc.boolean(), false),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const member = fc.record({
    memberId: wire.text,
    groupInstanceId: carried(version >= 4, wire.nullableText, null),
    clientId: wire.text,
    clientHost: wire.text,
    memberMetadata: wire.recordBytes,
    memberAssignment: wire.recordBytes,
  });
  return fc.record({
    throttleTimeMs: carried(version >= 1, wire.int32, 0),
    groups: wire.list(
      fc.record({
        errorCode: wire.int16,
        groupId: wire.text,
        groupState: wire.text,
        protocolType: wire.text,
        protocolData: wire.text,
        members: wire.list(member),
        authorizedOperations: carried(version >= 3, wire.int32, -2147483648),
      }),
    ),
  });
}

const v0RequestHex = [
  "00000002", // groups: 2
  "0002" + utf8("g1"),
  "0002" + utf8("g2"),
].join("");

const v3RequestHex = [
  "00000001", // groups: 1
  "0002" + utf8("g1"),
  "01", // include_authorized_operations
].join("");

const flexibleRequestHex = [
  "02", // groups: 1 (compact, length + 1)
  "03" + utf8("g1"),
  "00", // include_authorized_operations
  "00", // request tagged fields
].join("");

const v0ResponseHex = [
  "00000001", // groups: 1
  "0000", // error_code
  "0002" + utf8("g1"), // group_id
  "0006" + utf8("Stable"), // group_state
  "0008" + utf8("consumer"), // protocol_type
  "0005" + utf8("range"), // protocol_data
  "00000001", // members: 1
  "0002" + utf8("m1"), // member_id
  "0002" + utf8("c1"), // client_id
  "000a" + utf8("/127.0.0.1"), // client_host
  "00000002" + "0001", // member_metadata
  "00000002" + "cafe", // member_assignment
].join("");

const v4ResponseHex = [
  "00000000", // throttle_time_ms
  "00000001", // groups: 1
  "0000", // error_code
  "0002" + utf8("g1"), // group_id
  "0006" + utf8("Stable"), // group_state
  "0008" + utf8("consumer"), // protocol_type
  "0005" + utf8("range"), // protocol_data
  "00000001", // members: 1
  "0002" + utf8("m1"), // member_id
  "0002" + utf8("i1"), // group_instance_id
  "0002" + utf8("c1"), // client_id
  "000a" + utf8("/127.0.0.1"), // client_host
  "00000002" + "0001", // member_metadata
  "00000002" + "cafe", // member_assignment
  "80000000", // authorized_operations INT32_MIN: not asked for
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "02", // groups: 1
  "0010", // error_code 16 NOT_COORDINATOR
  "03" + utf8("g1"), // group_id
  "01", // group_state ""
  "01", // protocol_type ""
  "01", // protocol_data ""
  "01", // members: 0
  "80000000", // authorized_operations
  "00", // group tagged fields
  "00", // response tagged fields
].join("");

describe("DescribeGroups", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = { groups: ["g1", "g2"] };
    expect(encodeRequest(describeGroupsApi, 0, request).toBuffer().toString("hex")).toBe(v0RequestHex);
    expect(decodeRequest(describeGroupsApi, 0, new Reader(Buffer.from(v0RequestHex, "hex")))).toEqual({
      ...request,
      includeAuthorizedOperations: false,
    });
  });

  it("encodes a v3 request asking for authorized operations", () => {
    const request = { groups: ["g1"], includeAuthorizedOperations: true };
    expect(encodeRequest(describeGroupsApi, 3, request).toBuffer().toString("hex")).toBe(v3RequestHex);
    expect(decodeRequest(describeGroupsApi, 3, new Reader(Buffer.from(v3RequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v5 request with a compact array", () => {
    const request = { groups: ["g1"], includeAuthorizedOperations: false };
    expect(encodeRequest(describeGroupsApi, 5, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(describeGroupsApi, 5, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual(
      request,
    );
  });

  const stableGroup = {
    errorCode: 0,
    groupId: "g1",
    groupState: "Stable",
    protocolType: "consumer",
    protocolData: "range",
  };

  it("encodes a v0 response describing a stable group", () => {
    const member = {
      memberId: "m1",
      clientId: "c1",
      clientHost: "/127.0.0.1",
      memberMetadata: metadata,
      memberAssignment: assignment,
    };
    const response = { groups: [{ ...stableGroup, members: [member] }] };
    expect(encodeResponse(describeGroupsApi, 0, response).toBuffer().toString("hex")).toBe(v0ResponseHex);
    expect(decodeResponse(describeGroupsApi, 0, Buffer.from(v0ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      groups: [
        {
          ...stableGroup,
          members: [{ ...member, groupInstanceId: null }],
          authorizedOperations: -2147483648,
        },
      ],
    });
  });

  it("encodes a v4 response with a static member and the default authorized operations", () => {
    const member = {
      memberId: "m1",
      groupInstanceId: "i1",
      clientId: "c1",
      clientHost: "/127.0.0.1",
      memberMetadata: metadata,
      memberAssignment: assignment,
    };
    const response = { throttleTimeMs: 0, groups: [{ ...stableGroup, members: [member] }] };
    expect(encodeResponse(describeGroupsApi, 4, response).toBuffer().toString("hex")).toBe(v4ResponseHex);
    expect(decodeResponse(describeGroupsApi, 4, Buffer.from(v4ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      groups: [{ ...stableGroup, members: [member], authorizedOperations: -2147483648 }],
    });
  });

  it("encodes a v5 response refusing a group this broker does not coordinate", () => {
    const response = {
      throttleTimeMs: 0,
      groups: [
        {
          errorCode: 16,
          groupId: "g1",
          groupState: "",
          protocolType: "",
          protocolData: "",
          members: [],
          authorizedOperations: -2147483648,
        },
      ],
    };
    expect(encodeResponse(describeGroupsApi, 5, response).toBuffer().toString("hex")).toBe(
      flexibleResponseHex,
    );
    expect(decodeResponse(describeGroupsApi, 5, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(describeGroupsApi, requestIn, responseIn, {
    requests: { 0: v0RequestHex, 3: v3RequestHex, 5: flexibleRequestHex },
    responses: { 0: v0ResponseHex, 4: v4ResponseHex, 5: flexibleResponseHex },
  });
});
