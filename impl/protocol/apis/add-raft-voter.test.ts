import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { addRaftVoterApi } from "./add-raft-voter.ts";
import { testCodecProperties, utf8, wire } from "./codec-test-support.ts";

const directoryOf4 = "44444444aaaa4bbb8ccc444444444444";

/** A request; there is one version. */
function requestIn() {
  return fc.record({
    clusterId: wire.nullableText,
    timeoutMs: wire.int32,
    voterId: wire.int32,
    voterDirectoryId: wire.uuid,
    listeners: wire.list(wire.quorumListener),
  });
}

/** A response; there is one version. */
function responseIn() {
  return fc.record({ throttleTimeMs: wire.int32, errorCode: wire.int16, errorMessage: wire.nullableText });
}

// Version 0 is the only one, and flexible: compact strings and arrays, a tag buffer after every struct.
const requestHex = [
  "08" + utf8("chronik"), // cluster_id (compact, length + 1)
  "00007530", // timeout_ms: 30000
  "00000004", // voter_id
  directoryOf4, // voter_directory_id
  "02", // listeners: 1
  "0b" + utf8("CONTROLLER"), // name
  "06" + utf8("node4"), // host
  "2384", // port: 9092 as UINT16
  "00", // listener tag buffer
  "00", // request tag buffer
].join("");

const responseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "00", // error_message: null
  "00", // response tag buffer
].join("");

const refusalHex = [
  "00000000", // throttle_time_ms
  "007e", // error_code: 126 DUPLICATE_VOTER
  "1d" + utf8("replica 4 is already a voter"), // error_message (28 bytes, compact)
  "00", // response tag buffer
].join("");

describe("AddRaftVoter", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = {
      clusterId: "chronik",
      timeoutMs: 30_000,
      voterId: 4,
      voterDirectoryId: directoryOf4,
      listeners: [{ name: "CONTROLLER", host: "node4", port: 9092 }],
    };
    expect(encodeRequest(addRaftVoterApi, 0, request).toBuffer().toString("hex")).toBe(requestHex);
    expect(decodeRequest(addRaftVoterApi, 0, new Reader(Buffer.from(requestHex, "hex")))).toEqual(request);
  });

  it("carries a null cluster id as a compact null", () => {
    const request = {
      clusterId: null,
      timeoutMs: 0,
      voterId: 4,
      voterDirectoryId: directoryOf4,
      listeners: [],
    };
    const hex = "00" + "00000000" + "00000004" + directoryOf4 + "01" + "00";
    expect(encodeRequest(addRaftVoterApi, 0, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(addRaftVoterApi, 0, new Reader(Buffer.from(hex, "hex")))).toEqual(request);
  });

  it("encodes a v0 response byte for byte", () => {
    const response = { throttleTimeMs: 0, errorCode: 0, errorMessage: null };
    expect(encodeResponse(addRaftVoterApi, 0, response).toBuffer().toString("hex")).toBe(responseHex);
    expect(decodeResponse(addRaftVoterApi, 0, Buffer.from(responseHex, "hex"))).toEqual(response);
  });

  it("encodes a DUPLICATE_VOTER refusal with its message", () => {
    const response = { throttleTimeMs: 0, errorCode: 126, errorMessage: "replica 4 is already a voter" };
    expect(encodeResponse(addRaftVoterApi, 0, response).toBuffer().toString("hex")).toBe(refusalHex);
    expect(decodeResponse(addRaftVoterApi, 0, Buffer.from(refusalHex, "hex"))).toEqual(response);
  });

  testCodecProperties(addRaftVoterApi, requestIn, responseIn, {
    requests: { 0: requestHex },
    responses: { 0: refusalHex },
  });
});
