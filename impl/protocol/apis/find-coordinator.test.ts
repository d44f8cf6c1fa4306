import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { findCoordinatorApi } from "./find-coordinator.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    key: carried(version <= 3, wire.text, ""),
    keyType: carried(version >= 1, wire.int8, 0),
    coordinatorKeys: carried(version >= 4, wire.list(wire.text), []),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const single = version <= 3;
  return fc.record({
    throttleTimeMs: carried(version >= 1, wire.int32, 0),
    errorCode: carried(single, wire.int16, 0),
    errorMessage: carried(version >= 1 && single, wire.nullableText, ""),
    nodeId: carried(single, wire.int32, 0),
    host: carried(single, wire.text, ""),
    port: carried(single, wire.int32, 0),
    coordinators: carried(
      version >= 4,
      wire.list(
        fc.record({
          key: wire.text,
          nodeId: wire.int32,
          host: wire.text,
          port: wire.int32,
          errorCode: wire.int16,
          errorMessage: wire.nullableText,
        }),
      ),
      [],
    ),
  });
}

const v0RequestHex = "0006" + utf8("orders"); // key: the group's id

const v1RequestHex = [
  "0003" + utf8("tx1"), // key: a transactional id
  "01", // key_type 1 TRANSACTION
].join("");

const flexibleRequestHex = [
  "07" + utf8("orders"), // key (compact, length + 1)
  "00", // key_type 0 GROUP
  "00", // request tagged fields
].join("");

const batchedRequestHex = [
  "00", // key_type 0 GROUP
  "03", // coordinator_keys: 2
  "07" + utf8("orders"),
  "08" + utf8("billing"),
  "00", // request tagged fields
].join("");

const v0ResponseHex = [
  "0000", // error_code
  "00000001", // node_id
  "0002" + utf8("h1"), // host
  "00002384", // port 9092
].join("");

const v1ResponseHex = [
  "00000000", // throttle_time_ms
  "000f", // error_code 15 COORDINATOR_NOT_AVAILABLE
  "0007" + utf8("loading"), // error_message
  "ffffffff", // node_id -1
  "0000", // host ""
  "ffffffff", // port -1
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "00", // error_message null
  "00000001", // node_id
  "03" + utf8("h1"), // host
  "00002384", // port
  "00", // response tagged fields
].join("");

const batchedResponseHex = [
  "00000000", // throttle_time_ms
  "03", // coordinators: 2
  "07" + utf8("orders"), // key
  "00000001", // node_id
  "03" + utf8("h1"), // host
  "00002384", // port
  "0000", // error_code
  "00", // error_message null
  "00", // coordinator tagged fields
  "08" + utf8("billing"), // key
  "ffffffff", // node_id -1
  "01", // host ""
  "ffffffff", // port -1
  "000e", // error_code 14 COORDINATOR_LOAD_IN_PROGRESS
  "08" + utf8("loading"), // error_message
  "00", // coordinator tagged fields
  "00", // response tagged fields
].join("");

describe("FindCoordinator", () => {
  it("encodes a v0 request, which can only ask for a group's coordinator", () => {
    const request = { key: "orders" };
    expect(encodeRequest(findCoordinatorApi, 0, request).toBuffer().toString("hex")).toBe(v0RequestHex);
    expect(decodeRequest(findCoordinatorApi, 0, new Reader(Buffer.from(v0RequestHex, "hex")))).toEqual({
      key: "orders",
      keyType: 0,
      coordinatorKeys: [],
    });
  });

  it("encodes a v1 request for a transaction coordinator", () => {
    const request = { key: "tx1", keyType: 1 };
    expect(encodeRequest(findCoordinatorApi, 1, request).toBuffer().toString("hex")).toBe(v1RequestHex);
    expect(decodeRequest(findCoordinatorApi, 1, new Reader(Buffer.from(v1RequestHex, "hex")))).toEqual({
      ...request,
      coordinatorKeys: [],
    });
  });

  it("encodes a v3 request with a compact key and a tag buffer", () => {
    const request = { key: "orders", keyType: 0 };
    expect(encodeRequest(findCoordinatorApi, 3, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(findCoordinatorApi, 3, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual({
      ...request,
      coordinatorKeys: [],
    });
  });

  it("encodes a v4 request batching several keys and no single key", () => {
    const request = { key: "ignored", keyType: 0, coordinatorKeys: ["orders", "billing"] };
    expect(encodeRequest(findCoordinatorApi, 4, request).toBuffer().toString("hex")).toBe(batchedRequestHex);
    expect(decodeRequest(findCoordinatorApi, 4, new Reader(Buffer.from(batchedRequestHex, "hex")))).toEqual({
      ...request,
      key: "",
    });
  });

  it("encodes a v0 response byte for byte", () => {
    const response = { errorCode: 0, nodeId: 1, host: "h1", port: 9092 };
    expect(encodeResponse(findCoordinatorApi, 0, response).toBuffer().toString("hex")).toBe(v0ResponseHex);
    expect(decodeResponse(findCoordinatorApi, 0, Buffer.from(v0ResponseHex, "hex"))).toEqual({
      ...response,
      throttleTimeMs: 0,
      errorMessage: "",
      coordinators: [],
    });
  });

  it("encodes a v1 response with an error message", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 15,
      errorMessage: "loading",
      nodeId: -1,
      host: "",
      port: -1,
    };
    expect(encodeResponse(findCoordinatorApi, 1, response).toBuffer().toString("hex")).toBe(v1ResponseHex);
    expect(decodeResponse(findCoordinatorApi, 1, Buffer.from(v1ResponseHex, "hex"))).toEqual({
      ...response,
      coordinators: [],
    });
  });

  it("encodes a v3 response, writing an omitted error message as null", () => {
    const response = { throttleTimeMs: 0, errorCode: 0, nodeId: 1, host: "h1", port: 9092 };
    expect(encodeResponse(findCoordinatorApi, 3, response).toBuffer().toString("hex")).toBe(
      flexibleResponseHex,
    );
    expect(decodeResponse(findCoordinatorApi, 3, Buffer.from(flexibleResponseHex, "hex"))).toEqual({
      ...response,
      errorMessage: null,
      coordinators: [],
    });
  });

  it("encodes a v4 response with a coordinator or an error per key", () => {
    const response = {
      throttleTimeMs: 0,
      coordinators: [
        { key: "orders", nodeId: 1, host: "h1", port: 9092, errorCode: 0, errorMessage: null },
        { key: "billing", nodeId: -1, host: "", port: -1, errorCode: 14, errorMessage: "loading" },
      ],
    };
    expect(encodeResponse(findCoordinatorApi, 4, response).toBuffer().toString("hex")).toBe(
      batchedResponseHex,
    );
    expect(decodeResponse(findCoordinatorApi, 4, Buffer.from(batchedResponseHex, "hex"))).toEqual({
      ...response,
      errorCode: 0,
      errorMessage: "",
      nodeId: 0,
      host: "",
      port: 0,
    });
  });

  testCodecProperties(findCoordinatorApi, requestIn, responseIn, {
    requests: { 0: v0RequestHex, 1: v1RequestHex, 3: flexibleRequestHex, 4: batchedRequestHex },
    responses: { 0: v0ResponseHex, 1: v1ResponseHex, 3: flexibleResponseHex, 4: batchedResponseHex },
  });
});
