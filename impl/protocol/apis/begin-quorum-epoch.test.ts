import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { beginQuorumEpochApi } from "./begin-quorum-epoch.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";

const metadataTopic = "__chronik_metadata";
const voterDirectoryId = "1f2e3d4c5b6a79880123456789abcdef";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    voterDirectoryId: carried(version >= 1, wire.uuid, zeroUuid),
    leaderId: wire.int32,
    leaderEpoch: wire.int32,
  });
  return fc.record({
    clusterId: wire.nullableText,
    voterId: carried(version >= 1, wire.int32, -1),
    topics: wire.quorumTopics(partition),
    leaderEndpoints: carried(version >= 1, wire.list(wire.quorumListener), []),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    errorCode: wire.int16,
    leaderId: wire.int32,
    leaderEpoch: wire.int32,
  });
  return fc.record({
    errorCode: wire.int16,
    topics: wire.quorumTopics(partition),
    nodeEndpoints: carried(version >= 1, wire.list(wire.quorumNodeEndpoint), []),
  });
}

// v0 is the classic encoding: INT16-length strings, INT32-count arrays, no tag buffers.
const version0RequestHex = [
  "0007" + utf8("chronik"), // cluster_id
  "00000001", // topics: 1
  "0012" + utf8(metadataTopic), // topic_name
  "00000001", // partitions: 1
  "00000000", // partition_index
  "00000001", // leader_id
  "00000006", // leader_epoch
].join("");

const version1RequestHex = [
  "08" + utf8("chronik"), // cluster_id (compact, length + 1)
  "00000003", // voter_id: the voter told
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  voterDirectoryId, // voter_directory_id
  "00000001", // leader_id
  "00000006", // leader_epoch
  "00", // partition tag buffer
  "00", // topic tag buffer
  "02", // leader_endpoints: 1, an ordinary field, not a tagged one
  "0b" + utf8("CONTROLLER"), // name
  "06" + utf8("node1"), // host
  "2384", // port: 9092 as UINT16
  "00", // endpoint tag buffer
  "00", // request tag buffer
].join("");

const version0ResponseHex = [
  "0000", // error_code
  "00000001", // topics: 1
  "0012" + utf8(metadataTopic), // topic_name
  "00000001", // partitions: 1
  "00000000", // partition_index
  "0000", // error_code
  "00000001", // leader_id
  "00000006", // leader_epoch
].join("");

const version1ResponseHex = [
  "0000", // error_code
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "004a", // error_code: 74 FENCED_LEADER_EPOCH, the voter knows a later epoch
  "00000002", // leader_id
  "00000007", // leader_epoch
  "00", // partition tag buffer
  "00", // topic tag buffer
  "01", // response tagged fields: 1
  "00" + "0e", // tag 0 (node_endpoints), 14 bytes
  "02", // node_endpoints: 1
  "00000002", // node_id
  "06" + utf8("node2"), // host
  "2384", // port
  "00", // endpoint tag buffer
].join("");

describe("BeginQuorumEpoch", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = {
      clusterId: "chronik",
      topics: [
        { topicName: metadataTopic, partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: 6 }] },
      ],
    };
    expect(encodeRequest(beginQuorumEpochApi, 0, request).toBuffer().toString("hex")).toBe(
      version0RequestHex,
    );
    expect(decodeRequest(beginQuorumEpochApi, 0, new Reader(Buffer.from(version0RequestHex, "hex")))).toEqual(
      {
        clusterId: "chronik",
        voterId: -1,
        topics: [
          {
            topicName: metadataTopic,
            partitions: [{ partitionIndex: 0, voterDirectoryId: zeroUuid, leaderId: 1, leaderEpoch: 6 }],
          },
        ],
        leaderEndpoints: [],
      },
    );
  });

  it("encodes a v1 request with the voter key and the leader's endpoints", () => {
    const request = {
      clusterId: "chronik",
      voterId: 3,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, voterDirectoryId, leaderId: 1, leaderEpoch: 6 }],
        },
      ],
      leaderEndpoints: [{ name: "CONTROLLER", host: "node1", port: 9092 }],
    };
    expect(encodeRequest(beginQuorumEpochApi, 1, request).toBuffer().toString("hex")).toBe(
      version1RequestHex,
    );
    expect(decodeRequest(beginQuorumEpochApi, 1, new Reader(Buffer.from(version1RequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("leaves the voter key and endpoints out of a v0 request", () => {
    const request = {
      clusterId: "chronik",
      voterId: 3,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, voterDirectoryId, leaderId: 1, leaderEpoch: 6 }],
        },
      ],
      leaderEndpoints: [{ name: "CONTROLLER", host: "node1", port: 9092 }],
    };
    expect(encodeRequest(beginQuorumEpochApi, 0, request).toBuffer().toString("hex")).toBe(
      version0RequestHex,
    );
  });

  it("reads a null cluster id in v0 and refuses a null topic name", () => {
    const nullClusterId = "ffff" + "00000000"; // cluster_id: null, topics: []
    expect(decodeRequest(beginQuorumEpochApi, 0, new Reader(Buffer.from(nullClusterId, "hex")))).toEqual({
      clusterId: null,
      voterId: -1,
      topics: [],
      leaderEndpoints: [],
    });
    const nullTopicName = "ffff" + "00000001" + "ffff" + "00000000"; // topic_name: null, partitions: []
    expect(() =>
      decodeRequest(beginQuorumEpochApi, 0, new Reader(Buffer.from(nullTopicName, "hex"))),
    ).toThrow(DecodeError);
  });

  it("encodes a v0 response byte for byte", () => {
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: 1, leaderEpoch: 6 }],
        },
      ],
    };
    expect(encodeResponse(beginQuorumEpochApi, 0, response).toBuffer().toString("hex")).toBe(
      version0ResponseHex,
    );
    expect(decodeResponse(beginQuorumEpochApi, 0, Buffer.from(version0ResponseHex, "hex"))).toEqual({
      ...response,
      nodeEndpoints: [],
    });
  });

  it("encodes a v1 FENCED_LEADER_EPOCH response naming the newer leader in a tagged field", () => {
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, errorCode: 74, leaderId: 2, leaderEpoch: 7 }],
        },
      ],
      nodeEndpoints: [{ nodeId: 2, host: "node2", port: 9092 }],
    };
    expect(encodeResponse(beginQuorumEpochApi, 1, response).toBuffer().toString("hex")).toBe(
      version1ResponseHex,
    );
    expect(decodeResponse(beginQuorumEpochApi, 1, Buffer.from(version1ResponseHex, "hex"))).toEqual(response);
  });

  it("leaves node_endpoints off the wire in v1 when there are none", () => {
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: 1, leaderEpoch: 6 }],
        },
      ],
    };
    const hex = [
      "0000", // error_code
      "02" + "13" + utf8(metadataTopic), // topics: 1, topic_name
      "02" + "00000000" + "0000" + "00000001" + "00000006", // partitions: 1, index, error, leader, epoch
      "00", // partition tag buffer
      "00", // topic tag buffer
      "00", // response tag buffer: no node_endpoints
    ].join("");
    expect(encodeResponse(beginQuorumEpochApi, 1, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(beginQuorumEpochApi, 1, Buffer.from(hex, "hex")).nodeEndpoints).toEqual([]);
  });

  testCodecProperties(beginQuorumEpochApi, requestIn, responseIn, {
    requests: { 0: version0RequestHex, 1: version1RequestHex },
    responses: { 0: version0ResponseHex, 1: version1ResponseHex },
  });
});
