import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { offsetForLeaderEpochApi } from "./offset-for-leader-epoch.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partition: wire.int32,
    currentLeaderEpoch: carried(version >= 2, wire.int32, -1),
    leaderEpoch: wire.int32,
  });
  return fc.record({
    replicaId: carried(version >= 3, wire.int32, -2),
    topics: wire.list(fc.record({ topic: wire.text, partitions: wire.list(partition) })),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    errorCode: wire.int16,
    partition: wire.int32,
    leaderEpoch: carried(version >= 1, wire.int32, -1),
    endOffset: wire.int64,
  });
  return fc.record({
    throttleTimeMs: carried(version >= 2, wire.int32, 0),
    topics: wire.list(fc.record({ topic: wire.text, partitions: wire.list(partition) })),
  });
}

// v0-3 are classic: INT16-length strings, INT32-count arrays, no tag buffers.
const version0RequestHex = [
  "00000001", // topics: 1
  "0006" + utf8("orders"), // topic
  "00000001", // partitions: 1
  "00000000", // partition
  "00000003", // leader_epoch: the last epoch in the follower's log
].join("");

const version4RequestHex = [
  "00000002", // replica_id: follower 2
  "02", // topics: 1 (compact, length + 1)
  "07" + utf8("orders"), // topic
  "02", // partitions: 1
  "00000000", // partition
  "00000004", // current_leader_epoch: the epoch the follower believes current
  "00000003", // leader_epoch
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // request tag buffer
].join("");

const version0ResponseHex = [
  "00000001", // topics: 1
  "0006" + utf8("orders"), // topic
  "00000001", // partitions: 1
  "0000", // error_code, before the partition
  "00000000", // partition
  "0000000000000050", // end_offset: 80, where epoch 3 ends
].join("");

const version4ResponseHex = [
  "00000000", // throttle_time_ms
  "02", // topics: 1
  "07" + utf8("orders"), // topic
  "02", // partitions: 1
  "0000", // error_code
  "00000000", // partition
  "00000003", // leader_epoch
  "0000000000000050", // end_offset: 80
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // response tag buffer
].join("");

describe("OffsetForLeaderEpoch", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = { topics: [{ topic: "orders", partitions: [{ partition: 0, leaderEpoch: 3 }] }] };
    expect(encodeRequest(offsetForLeaderEpochApi, 0, request).toBuffer().toString("hex")).toBe(
      version0RequestHex,
    );
    expect(
      decodeRequest(offsetForLeaderEpochApi, 0, new Reader(Buffer.from(version0RequestHex, "hex"))),
    ).toEqual({
      replicaId: -2,
      topics: [{ topic: "orders", partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 3 }] }],
    });
  });

  it("encodes a v4 follower request with its replica id and current leader epoch", () => {
    const request = {
      replicaId: 2,
      topics: [{ topic: "orders", partitions: [{ partition: 0, currentLeaderEpoch: 4, leaderEpoch: 3 }] }],
    };
    expect(encodeRequest(offsetForLeaderEpochApi, 4, request).toBuffer().toString("hex")).toBe(
      version4RequestHex,
    );
    expect(
      decodeRequest(offsetForLeaderEpochApi, 4, new Reader(Buffer.from(version4RequestHex, "hex"))),
    ).toEqual(request);
  });

  it("carries the current leader epoch from v2 and the replica id from v3", () => {
    const request = {
      replicaId: 2,
      topics: [{ topic: "orders", partitions: [{ partition: 0, currentLeaderEpoch: 4, leaderEpoch: 3 }] }],
    };
    const topics = "00000001" + "0006" + utf8("orders") + "00000001" + "00000000"; // up to the partition
    const version2 = topics + "00000004" + "00000003"; // current_leader_epoch, leader_epoch
    const version3 = "00000002" + version2; // replica_id first
    expect(encodeRequest(offsetForLeaderEpochApi, 1, request).toBuffer().toString("hex")).toBe(
      version0RequestHex,
    );
    expect(encodeRequest(offsetForLeaderEpochApi, 2, request).toBuffer().toString("hex")).toBe(version2);
    expect(encodeRequest(offsetForLeaderEpochApi, 3, request).toBuffer().toString("hex")).toBe(version3);
    // A v2 sender cannot say who it is: it reads as the debug consumer, -2.
    expect(
      decodeRequest(offsetForLeaderEpochApi, 2, new Reader(Buffer.from(version2, "hex"))).replicaId,
    ).toBe(-2);
  });

  it("encodes a v0 response byte for byte", () => {
    const response = {
      topics: [{ topic: "orders", partitions: [{ errorCode: 0, partition: 0, endOffset: 80n }] }],
    };
    expect(encodeResponse(offsetForLeaderEpochApi, 0, response).toBuffer().toString("hex")).toBe(
      version0ResponseHex,
    );
    expect(decodeResponse(offsetForLeaderEpochApi, 0, Buffer.from(version0ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      topics: [
        { topic: "orders", partitions: [{ errorCode: 0, partition: 0, leaderEpoch: -1, endOffset: 80n }] },
      ],
    });
  });

  it("encodes a v4 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      topics: [
        { topic: "orders", partitions: [{ errorCode: 0, partition: 0, leaderEpoch: 3, endOffset: 80n }] },
      ],
    };
    expect(encodeResponse(offsetForLeaderEpochApi, 4, response).toBuffer().toString("hex")).toBe(
      version4ResponseHex,
    );
    expect(decodeResponse(offsetForLeaderEpochApi, 4, Buffer.from(version4ResponseHex, "hex"))).toEqual(
      response,
    );
  });

  it("encodes a v2 FENCED_LEADER_EPOCH answer with the epoch and offset left at -1", () => {
    const response = {
      throttleTimeMs: 0,
      topics: [{ topic: "orders", partitions: [{ errorCode: 74, partition: 0 }] }],
    };
    const hex = [
      "00000000", // throttle_time_ms, from v2
      "00000001" + "0006" + utf8("orders"), // topics: 1, topic
      "00000001", // partitions: 1
      "004a", // error_code: 74 FENCED_LEADER_EPOCH
      "00000000", // partition
      "ffffffff", // leader_epoch: default -1
      "ffffffffffffffff", // end_offset: default -1
    ].join("");
    expect(encodeResponse(offsetForLeaderEpochApi, 2, response).toBuffer().toString("hex")).toBe(hex);
    expect(
      decodeResponse(offsetForLeaderEpochApi, 2, Buffer.from(hex, "hex")).topics[0]!.partitions[0],
    ).toEqual({
      errorCode: 74,
      partition: 0,
      leaderEpoch: -1,
      endOffset: -1n,
    });
  });

  testCodecProperties(offsetForLeaderEpochApi, requestIn, responseIn, {
    requests: { 0: version0RequestHex, 4: version4RequestHex },
    responses: { 0: version0ResponseHex, 4: version4ResponseHex },
  });
});
