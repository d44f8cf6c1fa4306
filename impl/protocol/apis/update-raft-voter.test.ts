import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { updateRaftVoterApi } from "./update-raft-voter.ts";

const directoryOf2 = "22222222aaaa4bbb8ccc222222222222";

/** A request; there is one version. */
function requestIn() {
  return fc.record({
    clusterId: wire.nullableText,
    currentLeaderEpoch: wire.int32,
    voterId: wire.int32,
    voterDirectoryId: wire.uuid,
    listeners: wire.list(wire.quorumListener),
    kraftVersionFeature: fc.record({ minSupportedVersion: wire.int16, maxSupportedVersion: wire.int16 }),
  });
}

/** A response; there is one version. */
function responseIn() {
  return fc.record({
    throttleTimeMs: wire.int32,
    errorCode: wire.int16,
    currentLeader: fc.record({
      leaderId: wire.int32,
      leaderEpoch: wire.int32,
      host: wire.text,
      port: wire.int32,
    }),
  });
}

// Version 0 is the only one, and flexible.
const requestHex = [
  "08" + utf8("chronik"), // cluster_id (compact, length + 1)
  "00000006", // current_leader_epoch
  "00000002", // voter_id
  directoryOf2, // voter_directory_id
  "02", // listeners: 1
  "0b" + utf8("CONTROLLER"), // name
  "06" + utf8("node2"), // host
  "4a94", // port: 19092, the voter's new one, as UINT16
  "00", // listener tag buffer
  "0000", // kraft_version_feature.min_supported_version: 0
  "0001", // kraft_version_feature.max_supported_version: 1
  "00", // kraft_version_feature tag buffer: a struct, not an array, so no count before it
  "00", // request tag buffer
].join("");

const responseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "00", // response tagged fields: none, current_leader holds its defaults
].join("");

const notLeaderHex = [
  "00000000", // throttle_time_ms
  "0006", // error_code: NOT_LEADER_OR_FOLLOWER
  "01", // response tagged fields: 1
  "00" + "13", // tag 0 (current_leader), 19 bytes
  "00000001", // leader_id
  "00000006", // leader_epoch
  "06" + utf8("node1"), // host
  "00002384", // port: 9092 as INT32 here
  "00", // current_leader tag buffer
].join("");

describe("UpdateRaftVoter", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = {
      clusterId: "chronik",
      currentLeaderEpoch: 6,
      voterId: 2,
      voterDirectoryId: directoryOf2,
      listeners: [{ name: "CONTROLLER", host: "node2", port: 19092 }],
      kraftVersionFeature: { minSupportedVersion: 0, maxSupportedVersion: 1 },
    };
    expect(encodeRequest(updateRaftVoterApi, 0, request).toBuffer().toString("hex")).toBe(requestHex);
    expect(decodeRequest(updateRaftVoterApi, 0, new Reader(Buffer.from(requestHex, "hex")))).toEqual(request);
  });

  it("encodes a v0 response with current_leader absent, decoding it to its defaults", () => {
    const response = { throttleTimeMs: 0, errorCode: 0 };
    expect(encodeResponse(updateRaftVoterApi, 0, response).toBuffer().toString("hex")).toBe(responseHex);
    expect(decodeResponse(updateRaftVoterApi, 0, Buffer.from(responseHex, "hex"))).toEqual({
      ...response,
      currentLeader: { leaderId: -1, leaderEpoch: -1, host: "", port: 0 },
    });
  });

  it("leaves current_leader off the wire when it is given with its default values", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      currentLeader: { leaderId: -1, leaderEpoch: -1, host: "", port: 0 },
    };
    expect(encodeResponse(updateRaftVoterApi, 0, response).toBuffer().toString("hex")).toBe(responseHex);
  });

  it("encodes a NOT_LEADER_OR_FOLLOWER response naming the leader in the tagged current_leader", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 6,
      currentLeader: { leaderId: 1, leaderEpoch: 6, host: "node1", port: 9092 },
    };
    expect(encodeResponse(updateRaftVoterApi, 0, response).toBuffer().toString("hex")).toBe(notLeaderHex);
    expect(decodeResponse(updateRaftVoterApi, 0, Buffer.from(notLeaderHex, "hex"))).toEqual(response);
  });

  it("skips a tag it does not know and still reads current_leader", () => {
    const hex = [
      "00000000" + "0006", // throttle_time_ms, error_code
      "02", // response tagged fields: 2
      "00" + "13" + "00000001" + "00000006" + "06" + utf8("node1") + "00002384" + "00", // tag 0
      "05" + "03" + "abcdef", // tag 5, 3 bytes: unknown, skipped by its size
    ].join("");
    expect(decodeResponse(updateRaftVoterApi, 0, Buffer.from(hex, "hex")).currentLeader).toEqual({
      leaderId: 1,
      leaderEpoch: 6,
      host: "node1",
      port: 9092,
    });
  });

  testCodecProperties(updateRaftVoterApi, requestIn, responseIn, {
    requests: { 0: requestHex },
    responses: { 0: notLeaderHex },
  });
});
