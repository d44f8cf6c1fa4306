import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { describeClusterApi } from "./describe-cluster.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    includeClusterAuthorizedOperations: fc.boolean(),
    endpointType: carried(version >= 1, wire.int8, 1),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: wire.int32,
    errorCode: wire.int16,
    errorMessage: wire.nullableText,
    endpointType: carried(version >= 1, wire.int8, 1),
    clusterId: wire.text,
    controllerId: wire.int32,
    brokers: wire.list(
      fc.record({ brokerId: wire.int32, host: wire.text, port: wire.int32, rack: wire.nullableText }),
    ),
    clusterAuthorizedOperations: wire.int32,
  });
}

// DescribeCluster is flexible in every version, so there is no classic fixture.
const version0RequestHex =
  "00" + // include_cluster_authorized_operations
  "00"; // request tagged fields

const version1RequestHex =
  "01" + // include_cluster_authorized_operations
  "02" + // endpoint_type controllers
  "00"; // request tagged fields

const broker =
  "00000001" + // broker_id
  ("0a" + utf8("localhost")) + // host (compact, length + 1)
  "00002384" + // port 9092
  "00" + // rack null
  "00"; // broker tagged fields

const version0ResponseHex =
  "00000000" + // throttle_time_ms
  "0000" + // error_code
  "00" + // error_message null
  ("08" + utf8("chronik")) + // cluster_id
  "00000001" + // controller_id
  ("02" + broker) + // brokers: 1
  "80000000" + // cluster_authorized_operations INT32_MIN: not requested
  "00"; // response tagged fields

const version1ResponseHex =
  "00000000" + // throttle_time_ms
  "0000" + // error_code
  "00" + // error_message null
  "01" + // endpoint_type brokers
  ("08" + utf8("chronik")) + // cluster_id
  "00000001" + // controller_id
  ("02" + broker) + // brokers: 1
  "00000000" + // cluster_authorized_operations: none
  "00"; // response tagged fields

describe("DescribeCluster", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = { includeClusterAuthorizedOperations: false };
    expect(encodeRequest(describeClusterApi, 0, request).toBuffer().toString("hex")).toBe(version0RequestHex);
    expect(decodeRequest(describeClusterApi, 0, new Reader(Buffer.from(version0RequestHex, "hex")))).toEqual({
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
    });
  });

  it("encodes a v1 request asking for the controllers", () => {
    const request = { includeClusterAuthorizedOperations: true, endpointType: 2 };
    expect(encodeRequest(describeClusterApi, 1, request).toBuffer().toString("hex")).toBe(version1RequestHex);
    expect(decodeRequest(describeClusterApi, 1, new Reader(Buffer.from(version1RequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v0 response with every default left out of the input", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      clusterId: "chronik",
      controllerId: 1,
      brokers: [{ brokerId: 1, host: "localhost", port: 9092 }],
    };
    expect(encodeResponse(describeClusterApi, 0, response).toBuffer().toString("hex")).toBe(
      version0ResponseHex,
    );
    expect(decodeResponse(describeClusterApi, 0, Buffer.from(version0ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: "chronik",
      controllerId: 1,
      brokers: [{ brokerId: 1, host: "localhost", port: 9092, rack: null }],
      clusterAuthorizedOperations: -2_147_483_648,
    });
  });

  it("encodes a v1 response with the endpoint type", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: "chronik",
      controllerId: 1,
      brokers: [{ brokerId: 1, host: "localhost", port: 9092, rack: null }],
      clusterAuthorizedOperations: 0,
    };
    expect(encodeResponse(describeClusterApi, 1, response).toBuffer().toString("hex")).toBe(
      version1ResponseHex,
    );
    expect(decodeResponse(describeClusterApi, 1, Buffer.from(version1ResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(describeClusterApi, requestIn, responseIn, {
    requests: { 0: version0RequestHex, 1: version1RequestHex },
    responses: { 0: version0ResponseHex, 1: version1ResponseHex },
  });
});
