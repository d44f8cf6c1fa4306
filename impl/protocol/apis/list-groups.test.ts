import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { listGroupsApi } from "./list-groups.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    statesFilter: carried(version >= 4, wire.list(wire.text), []),
    typesFilter: carried(version >= 5, wire.list(wire.text), []),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: carried(version >= 1, wire.int32, 0),
    errorCode: wire.int16,
    groups: wire.list(
      fc.record({
        groupId: wire.text,
        protocolType: wire.text,
        groupState: carried(version >= 4, wire.text, ""),
        groupType: carried(version >= 5, wire.text, ""),
      }),
    ),
  });
}

const v3RequestHex = "00"; // request tagged fields, and nothing else

const v4RequestHex = [
  "03", // states_filter: 2 (compact, length + 1)
  "07" + utf8("Stable"),
  "06" + utf8("Empty"),
  "00", // request tagged fields
].join("");

const v5RequestHex = [
  "01", // states_filter: none, so every state
  "02", // types_filter: 1
  "08" + utf8("classic"),
  "00", // request tagged fields
].join("");

const v0ResponseHex = [
  "0000", // error_code
  "00000002", // groups: 2
  "0002" + utf8("g1"), // group_id
  "0008" + utf8("consumer"), // protocol_type
  "0002" + utf8("g2"), // group_id
  "0000", // protocol_type "": a group that only commits offsets
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "02", // groups: 1
  "03" + utf8("g1"), // group_id
  "09" + utf8("consumer"), // protocol_type
  "00", // group tagged fields
  "00", // response tagged fields
].join("");

const v4ResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "02", // groups: 1
  "03" + utf8("g1"), // group_id
  "09" + utf8("consumer"), // protocol_type
  "06" + utf8("Empty"), // group_state
  "00", // group tagged fields
  "00", // response tagged fields
].join("");

const v5ResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "02", // groups: 1
  "03" + utf8("g1"), // group_id
  "09" + utf8("consumer"), // protocol_type
  "07" + utf8("Stable"), // group_state
  "08" + utf8("classic"), // group_type
  "00", // group tagged fields
  "00", // response tagged fields
].join("");

describe("ListGroups", () => {
  it("encodes a v0 request as no bytes at all, and a v3 request as a tag buffer", () => {
    expect(encodeRequest(listGroupsApi, 0, {}).toBuffer().length).toBe(0);
    expect(decodeRequest(listGroupsApi, 0, new Reader(Buffer.alloc(0)))).toEqual({
      statesFilter: [],
      typesFilter: [],
    });
    expect(encodeRequest(listGroupsApi, 3, {}).toBuffer().toString("hex")).toBe(v3RequestHex);
  });

  it("encodes a v4 request filtering by state", () => {
    const request = { statesFilter: ["Stable", "Empty"] };
    expect(encodeRequest(listGroupsApi, 4, request).toBuffer().toString("hex")).toBe(v4RequestHex);
    expect(decodeRequest(listGroupsApi, 4, new Reader(Buffer.from(v4RequestHex, "hex")))).toEqual({
      ...request,
      typesFilter: [],
    });
  });

  it("encodes a v5 request filtering by type", () => {
    const request = { statesFilter: [], typesFilter: ["classic"] };
    expect(encodeRequest(listGroupsApi, 5, request).toBuffer().toString("hex")).toBe(v5RequestHex);
    expect(decodeRequest(listGroupsApi, 5, new Reader(Buffer.from(v5RequestHex, "hex")))).toEqual(request);
  });

  it("encodes a v0 response byte for byte", () => {
    const response = {
      errorCode: 0,
      groups: [
        { groupId: "g1", protocolType: "consumer" },
        { groupId: "g2", protocolType: "" },
      ],
    };
    expect(encodeResponse(listGroupsApi, 0, response).toBuffer().toString("hex")).toBe(v0ResponseHex);
    expect(decodeResponse(listGroupsApi, 0, Buffer.from(v0ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      groups: response.groups.map((group) => ({ ...group, groupState: "", groupType: "" })),
    });
  });

  it("encodes a v3 response with compact fields and no state", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [{ groupId: "g1", protocolType: "consumer" }],
    };
    expect(encodeResponse(listGroupsApi, 3, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(listGroupsApi, 3, Buffer.from(flexibleResponseHex, "hex"))).toEqual({
      ...response,
      groups: [{ groupId: "g1", protocolType: "consumer", groupState: "", groupType: "" }],
    });
  });

  it("encodes a v4 response with each group's state", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [{ groupId: "g1", protocolType: "consumer", groupState: "Empty" }],
    };
    expect(encodeResponse(listGroupsApi, 4, response).toBuffer().toString("hex")).toBe(v4ResponseHex);
    expect(decodeResponse(listGroupsApi, 4, Buffer.from(v4ResponseHex, "hex"))).toEqual({
      ...response,
      groups: [{ ...response.groups[0], groupType: "" }],
    });
  });

  it("encodes a v5 response with each group's state and type", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [{ groupId: "g1", protocolType: "consumer", groupState: "Stable", groupType: "classic" }],
    };
    expect(encodeResponse(listGroupsApi, 5, response).toBuffer().toString("hex")).toBe(v5ResponseHex);
    expect(decodeResponse(listGroupsApi, 5, Buffer.from(v5ResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(listGroupsApi, requestIn, responseIn, {
    requests: { 3: v3RequestHex, 4: v4RequestHex, 5: v5RequestHex },
    responses: { 0: v0ResponseHex, 3: flexibleResponseHex, 4: v4ResponseHex, 5: v5ResponseHex },
  });
});
