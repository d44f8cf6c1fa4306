import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { removeRaftVoterApi } from "./remove-raft-voter.ts";

const directoryOf3 = "33333333aaaa4bbb8ccc333333333333";

/** A request; there is one version. */
function requestIn() {
  return fc.record({ clusterId: wire.nullableText, voterId: wire.int32, voterDirectoryId: wire.uuid });
}

/** A response; there is one version. */
function responseIn() {
  return fc.record({ throttleTimeMs: wire.int32, errorCode: wire.int16, errorMessage: wire.nullableText });
}

// Version 0 is the only one, and flexible.
const requestHex = [
  "08" + utf8("chronik"), // cluster_id (compact, length + 1)
  "00000003", // voter_id
  directoryOf3, // voter_directory_id
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
  "007f", // error_code: 127 VOTER_NOT_FOUND
  "15" + utf8("no such voter: 3/333"), // error_message (20 bytes, compact)
  "00", // response tag buffer
].join("");

describe("RemoveRaftVoter", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = { clusterId: "chronik", voterId: 3, voterDirectoryId: directoryOf3 };
    expect(encodeRequest(removeRaftVoterApi, 0, request).toBuffer().toString("hex")).toBe(requestHex);
    expect(decodeRequest(removeRaftVoterApi, 0, new Reader(Buffer.from(requestHex, "hex")))).toEqual(request);
  });

  it("encodes a v0 response byte for byte", () => {
    const response = { throttleTimeMs: 0, errorCode: 0, errorMessage: null };
    expect(encodeResponse(removeRaftVoterApi, 0, response).toBuffer().toString("hex")).toBe(responseHex);
    expect(decodeResponse(removeRaftVoterApi, 0, Buffer.from(responseHex, "hex"))).toEqual(response);
  });

  it("encodes a VOTER_NOT_FOUND refusal with its message", () => {
    const response = { throttleTimeMs: 0, errorCode: 127, errorMessage: "no such voter: 3/333" };
    expect(encodeResponse(removeRaftVoterApi, 0, response).toBuffer().toString("hex")).toBe(refusalHex);
    expect(decodeResponse(removeRaftVoterApi, 0, Buffer.from(refusalHex, "hex"))).toEqual(response);
  });

  it("refuses a request with its directory id cut short", () => {
    const hex = "08" + utf8("chronik") + "00000003" + directoryOf3.slice(0, 30) + "00";
    expect(() => decodeRequest(removeRaftVoterApi, 0, new Reader(Buffer.from(hex, "hex")))).toThrow(
      DecodeError,
    );
  });

  testCodecProperties(removeRaftVoterApi, requestIn, responseIn, {
    requests: { 0: requestHex },
    responses: { 0: refusalHex },
  });
});
