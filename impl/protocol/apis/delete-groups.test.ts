import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { deleteGroupsApi } from "./delete-groups.ts";

/** A request: every version carries the same fields. */
const requestIn = () => fc.record({ groupsNames: wire.list(wire.text) });

/** A response: every version carries the same fields. */
const responseIn = () =>
  fc.record({
    throttleTimeMs: wire.int32,
    results: wire.list(fc.record({ groupId: wire.text, errorCode: wire.int16 })),
  });

const classicRequestHex = [
  "00000002", // groups_names: 2
  "0002" + utf8("g1"),
  "0002" + utf8("g2"),
].join("");

const flexibleRequestHex = [
  "03", // groups_names: 2 (compact, length + 1)
  "03" + utf8("g1"),
  "03" + utf8("g2"),
  "00", // request tagged fields
].join("");

const classicResponseHex = [
  "00000000", // throttle_time_ms
  "00000002", // results: 2
  "0002" + utf8("g1"), // group_id
  "0000", // error_code
  "0002" + utf8("g2"), // group_id
  "0044", // error_code 68 NON_EMPTY_GROUP
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "02", // results: 1
  "03" + utf8("g1"), // group_id
  "0045", // error_code 69 GROUP_ID_NOT_FOUND
  "00", // result tagged fields
  "00", // response tagged fields
].join("");

describe("DeleteGroups", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = { groupsNames: ["g1", "g2"] };
    expect(encodeRequest(deleteGroupsApi, 0, request).toBuffer().toString("hex")).toBe(classicRequestHex);
    expect(decodeRequest(deleteGroupsApi, 0, new Reader(Buffer.from(classicRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v2 request with a compact array", () => {
    const request = { groupsNames: ["g1", "g2"] };
    expect(encodeRequest(deleteGroupsApi, 2, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(deleteGroupsApi, 2, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v1 response with a result per group", () => {
    const response = {
      throttleTimeMs: 0,
      results: [
        { groupId: "g1", errorCode: 0 },
        { groupId: "g2", errorCode: 68 },
      ],
    };
    expect(encodeResponse(deleteGroupsApi, 1, response).toBuffer().toString("hex")).toBe(classicResponseHex);
    expect(decodeResponse(deleteGroupsApi, 1, Buffer.from(classicResponseHex, "hex"))).toEqual(response);
  });

  it("encodes a v2 response with compact results", () => {
    const response = { throttleTimeMs: 0, results: [{ groupId: "g1", errorCode: 69 }] };
    expect(encodeResponse(deleteGroupsApi, 2, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(deleteGroupsApi, 2, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(deleteGroupsApi, requestIn, responseIn, {
    requests: { 0: classicRequestHex, 2: flexibleRequestHex },
    responses: { 1: classicResponseHex, 2: flexibleResponseHex },
  });
});
