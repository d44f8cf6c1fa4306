import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { describeClusterApi } from "./describe-cluster.ts";

const text = (value: string) => Buffer.from(value, "utf8").toString("hex");

/** The arbitrary in versions from `first` on; the grammar's default before, where the field is absent. */
function from<T>(version: number, first: number, arbitrary: fc.Arbitrary<T>, absent: T): fc.Arbitrary<T> {
  return version >= first ? arbitrary : fc.constant(absent);
}

const anyString = fc.string({ unit: "grapheme", maxLength: 20 });
const anyInt8 = fc.integer({ min: -128, max: 127 });
const anyInt16 = fc.integer({ min: -32_768, max: 32_767 });
const anyInt32 = fc.integer({ min: -2_147_483_648, max: 2_147_483_647 });

function anyRequest(version: number) {
  return fc.record({
    includeClusterAuthorizedOperations: fc.boolean(),
    endpointType: from(version, 1, anyInt8, 1),
  });
}

function anyResponse(version: number) {
  return fc.record({
    throttleTimeMs: anyInt32,
    errorCode: anyInt16,
    errorMessage: fc.option(anyString),
    endpointType: from(version, 1, anyInt8, 1),
    clusterId: anyString,
    controllerId: anyInt32,
    brokers: fc.array(
      fc.record({ brokerId: anyInt32, host: anyString, port: anyInt32, rack: fc.option(anyString) }),
    ),
    clusterAuthorizedOperations: anyInt32,
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
  ("0a" + text("localhost")) + // host (compact, length + 1)
  "00002384" + // port 9092
  "00" + // rack null
  "00"; // broker tagged fields

const version0ResponseHex =
  "00000000" + // throttle_time_ms
  "0000" + // error_code
  "00" + // error_message null
  ("08" + text("chronik")) + // cluster_id
  "00000001" + // controller_id
  ("02" + broker) + // brokers: 1
  "80000000" + // cluster_authorized_operations INT32_MIN: not requested
  "00"; // response tagged fields

const version1ResponseHex =
  "00000000" + // throttle_time_ms
  "0000" + // error_code
  "00" + // error_message null
  "01" + // endpoint_type brokers
  ("08" + text("chronik")) + // cluster_id
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

  it("round-trips requests and responses in every version", () => {
    const versions = fc.integer({ min: describeClusterApi.versionMin, max: describeClusterApi.versionMax });
    fc.assert(
      fc.property(
        versions.chain((version) =>
          fc.tuple(fc.constant(version), anyRequest(version), anyResponse(version)),
        ),
        ([version, request, response]) => {
          const requestBytes = encodeRequest(describeClusterApi, version, request).toBuffer();
          const reader = new Reader(requestBytes);
          expect(decodeRequest(describeClusterApi, version, reader)).toEqual(request);
          expect(reader.remaining).toBe(0);
          const responseBytes = encodeResponse(describeClusterApi, version, response).toBuffer();
          expect(decodeResponse(describeClusterApi, version, responseBytes)).toEqual(response);
        },
      ),
    );
  });

  it("refuses every truncation of a frame with a DecodeError", () => {
    const requests: Array<[number, string]> = [
      [0, version0RequestHex],
      [1, version1RequestHex],
    ];
    for (const [version, hex] of requests) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const reader = new Reader(bytes.subarray(0, length));
        expect(() => decodeRequest(describeClusterApi, version, reader)).toThrow(DecodeError);
      }
    }
    const responses: Array<[number, string]> = [
      [0, version0ResponseHex],
      [1, version1ResponseHex],
    ];
    for (const [version, hex] of responses) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const truncated = bytes.subarray(0, length);
        expect(() => decodeResponse(describeClusterApi, version, truncated)).toThrow(DecodeError);
      }
    }
  });
});
