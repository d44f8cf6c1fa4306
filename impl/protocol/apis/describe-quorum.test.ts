import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { describeQuorumApi } from "./describe-quorum.ts";

const metadataTopic = "__chronik_metadata";
const directoryOf1 = "11111111aaaa4bbb8ccc111111111111";
const directoryOf2 = "22222222aaaa4bbb8ccc222222222222";

/** A request for any version: it is the same in all of them. */
function requestIn() {
  return fc.record({
    topics: wire.list(
      fc.record({ topicName: wire.text, partitions: wire.list(fc.record({ partitionIndex: wire.int32 })) }),
    ),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const replicaState = fc.record({
    replicaId: wire.int32,
    replicaDirectoryId: carried(version >= 2, wire.uuid, zeroUuid),
    logEndOffset: wire.int64,
    lastFetchTimestamp: carried(version >= 1, wire.int64, -1n),
    lastCaughtUpTimestamp: carried(version >= 1, wire.int64, -1n),
  });
  const partition = fc.record({
    partitionIndex: wire.int32,
    errorCode: wire.int16,
    errorMessage: carried(version >= 2, wire.nullableText, ""),
    leaderId: wire.int32,
    leaderEpoch: wire.int32,
    highWatermark: wire.int64,
    currentVoters: wire.list(replicaState),
    observers: wire.list(replicaState),
  });
  const listener = fc.record({ name: wire.text, host: wire.text, port: wire.uint16 });
  return fc.record({
    errorCode: wire.int16,
    errorMessage: carried(version >= 2, wire.nullableText, ""),
    topics: wire.quorumTopics(partition),
    nodes: carried(
      version >= 2,
      wire.list(fc.record({ nodeId: wire.int32, listeners: wire.list(listener) })),
      [],
    ),
  });
}

// DescribeQuorum is flexible in every version, and its request never changed.
const requestHex = [
  "02", // topics: 1 (compact, length + 1)
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // request tag buffer
].join("");

const version0ResponseHex = [
  "0000", // error_code
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "0000", // error_code
  "00000001", // leader_id
  "00000006", // leader_epoch
  "00000000000000c8", // high_watermark: 200
  "03", // current_voters: 2
  "00000001" + "00000000000000d2" + "00", // replica_id 1, log_end_offset 210, replica tag buffer
  "00000002" + "00000000000000c8" + "00", // replica_id 2, log_end_offset 200
  "02", // observers: 1
  "00000004" + "ffffffffffffffff" + "00", // replica_id 4, log_end_offset -1: unknown
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // response tag buffer
].join("");

const version2ResponseHex = [
  "0000", // error_code
  "00", // error_message: null
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "0000", // error_code
  "00", // error_message: null
  "00000001", // leader_id
  "00000006", // leader_epoch
  "00000000000000c8", // high_watermark: 200
  "03", // current_voters: 2
  "00000001", // replica_id: the leader
  directoryOf1, // replica_directory_id
  "00000000000000d2", // log_end_offset: 210
  "ffffffffffffffff", // last_fetch_timestamp: -1 for the leader itself
  "00000199c82cc064", // last_caught_up_timestamp: now, 1760000000100
  "00", // replica tag buffer
  "00000002", // replica_id
  directoryOf2, // replica_directory_id
  "00000000000000c8", // log_end_offset: 200
  "00000199c82cc000", // last_fetch_timestamp: 1760000000000
  "00000199c82cbe0c", // last_caught_up_timestamp: 1759999999500
  "00", // replica tag buffer
  "01", // observers: 0
  "00", // partition tag buffer
  "00", // topic tag buffer
  "03", // nodes: 2
  "00000001", // node_id
  "02" + "0b" + utf8("CONTROLLER") + "06" + utf8("node1") + "2384" + "00", // listeners: 1, name, host, port, tags
  "00", // node tag buffer
  "00000002", // node_id
  "02" + "0b" + utf8("CONTROLLER") + "06" + utf8("node2") + "2384" + "00",
  "00", // node tag buffer
  "00", // response tag buffer
].join("");

const request = { topics: [{ topicName: metadataTopic, partitions: [{ partitionIndex: 0 }] }] };

describe("DescribeQuorum", () => {
  it("encodes the same request bytes in every version", () => {
    for (const version of [0, 1, 2]) {
      expect(encodeRequest(describeQuorumApi, version, request).toBuffer().toString("hex")).toBe(requestHex);
      expect(decodeRequest(describeQuorumApi, version, new Reader(Buffer.from(requestHex, "hex")))).toEqual(
        request,
      );
    }
  });

  it("encodes a v0 response byte for byte", () => {
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              leaderId: 1,
              leaderEpoch: 6,
              highWatermark: 200n,
              currentVoters: [
                { replicaId: 1, logEndOffset: 210n },
                { replicaId: 2, logEndOffset: 200n },
              ],
              observers: [{ replicaId: 4, logEndOffset: -1n }],
            },
          ],
        },
      ],
    };
    expect(encodeResponse(describeQuorumApi, 0, response).toBuffer().toString("hex")).toBe(
      version0ResponseHex,
    );
    const decoded = decodeResponse(describeQuorumApi, 0, Buffer.from(version0ResponseHex, "hex"));
    // What v0 lacks decodes to the schema's defaults: "" for the messages, -1 for the timestamps.
    expect(decoded.errorMessage).toBe("");
    expect(decoded.nodes).toEqual([]);
    const partition = decoded.topics[0]!.partitions[0]!;
    expect(partition.errorMessage).toBe("");
    expect(partition.currentVoters[1]).toEqual({
      replicaId: 2,
      replicaDirectoryId: zeroUuid,
      logEndOffset: 200n,
      lastFetchTimestamp: -1n,
      lastCaughtUpTimestamp: -1n,
    });
    expect(partition.observers).toEqual([
      {
        replicaId: 4,
        replicaDirectoryId: zeroUuid,
        logEndOffset: -1n,
        lastFetchTimestamp: -1n,
        lastCaughtUpTimestamp: -1n,
      },
    ]);
  });

  it("encodes a v2 response with directory ids, fetch times and the voters' listeners", () => {
    const response = {
      errorCode: 0,
      errorMessage: null,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              errorMessage: null,
              leaderId: 1,
              leaderEpoch: 6,
              highWatermark: 200n,
              currentVoters: [
                {
                  replicaId: 1,
                  replicaDirectoryId: directoryOf1,
                  logEndOffset: 210n,
                  lastFetchTimestamp: -1n,
                  lastCaughtUpTimestamp: 1_760_000_000_100n,
                },
                {
                  replicaId: 2,
                  replicaDirectoryId: directoryOf2,
                  logEndOffset: 200n,
                  lastFetchTimestamp: 1_760_000_000_000n,
                  lastCaughtUpTimestamp: 1_759_999_999_500n,
                },
              ],
              observers: [],
            },
          ],
        },
      ],
      nodes: [
        { nodeId: 1, listeners: [{ name: "CONTROLLER", host: "node1", port: 9092 }] },
        { nodeId: 2, listeners: [{ name: "CONTROLLER", host: "node2", port: 9092 }] },
      ],
    };
    expect(encodeResponse(describeQuorumApi, 2, response).toBuffer().toString("hex")).toBe(
      version2ResponseHex,
    );
    expect(decodeResponse(describeQuorumApi, 2, Buffer.from(version2ResponseHex, "hex"))).toEqual(response);
  });

  it("carries the fetch times from v1, but not the directory ids", () => {
    const voter = {
      replicaId: 2,
      replicaDirectoryId: directoryOf2,
      logEndOffset: 200n,
      lastFetchTimestamp: 1_760_000_000_000n,
      lastCaughtUpTimestamp: 1_759_999_999_500n,
    };
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              leaderId: 1,
              leaderEpoch: 6,
              highWatermark: 200n,
              currentVoters: [voter],
              observers: [],
            },
          ],
        },
      ],
    };
    const hex = [
      "0000", // error_code
      "02" + "13" + utf8(metadataTopic), // topics: 1, topic_name
      "02" + "00000000" + "0000", // partitions: 1, partition_index, error_code
      "00000001" + "00000006" + "00000000000000c8", // leader_id, leader_epoch, high_watermark
      "02", // current_voters: 1
      "00000002" + "00000000000000c8", // replica_id, log_end_offset: no directory id before v2
      "00000199c82cc000" + "00000199c82cbe0c" + "00", // last_fetch, last_caught_up, replica tag buffer
      "01", // observers: 0
      "00" + "00" + "00", // partition, topic and response tag buffers
    ].join("");
    expect(encodeResponse(describeQuorumApi, 1, response).toBuffer().toString("hex")).toBe(hex);
    const decoded = decodeResponse(describeQuorumApi, 1, Buffer.from(hex, "hex"));
    expect(decoded.topics[0]!.partitions[0]!.currentVoters).toEqual([
      { ...voter, replicaDirectoryId: zeroUuid },
    ]);
  });

  it("encodes a v2 NOT_LEADER_OR_FOLLOWER response with its message, and writes an omitted message as null", () => {
    const refused = { errorCode: 6, errorMessage: "node 2 is not the leader", topics: [], nodes: [] };
    const hex = [
      "0006", // error_code: NOT_LEADER_OR_FOLLOWER
      "19" + utf8("node 2 is not the leader"), // error_message (24 bytes, compact)
      "01", // topics: 0
      "01", // nodes: 0
      "00", // response tag buffer
    ].join("");
    expect(encodeResponse(describeQuorumApi, 2, refused).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(describeQuorumApi, 2, Buffer.from(hex, "hex"))).toEqual(refused);
    const omitted = encodeResponse(describeQuorumApi, 2, { errorCode: 0, topics: [] });
    expect(omitted.toBuffer().toString("hex")).toBe("0000" + "00" + "01" + "01" + "00");
  });

  testCodecProperties(describeQuorumApi, requestIn, responseIn, {
    requests: { 0: requestHex, 2: requestHex },
    responses: { 0: version0ResponseHex, 2: version2ResponseHex },
  });
});
