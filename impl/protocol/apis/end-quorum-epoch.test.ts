import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { endQuorumEpochApi } from "./end-quorum-epoch.ts";

const metadataTopic = "__chronik_metadata";
const directoryOf3 = "33333333444455556666777788889999";
const directoryOf2 = "22222222aaaabbbbccccddddeeeeffff";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    leaderId: wire.int32,
    leaderEpoch: wire.int32,
    preferredSuccessors: carried(version === 0, wire.list(wire.int32), []),
    preferredCandidates: carried(
      version >= 1,
      wire.list(fc.record({ candidateId: wire.int32, candidateDirectoryId: wire.uuid })),
      [],
    ),
  });
  return fc.record({
    clusterId: wire.nullableText,
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
  "00000001", // leader_id: the resigning leader
  "00000006", // leader_epoch
  "00000002", // preferred_successors: 2
  "00000003" + "00000002", // [3, 2], most caught up first
].join("");

const version1RequestHex = [
  "08" + utf8("chronik"), // cluster_id (compact, length + 1)
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "00000001", // leader_id
  "00000006", // leader_epoch
  "03", // preferred_candidates: 2
  "00000003" + directoryOf3 + "00", // candidate_id, candidate_directory_id, candidate tag buffer
  "00000002" + directoryOf2 + "00",
  "00", // partition tag buffer
  "00", // topic tag buffer
  "02", // leader_endpoints: 1
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
  "0000", // error_code
  "00000001", // leader_id
  "00000006", // leader_epoch
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // response tag buffer: no node_endpoints
].join("");

describe("EndQuorumEpoch", () => {
  it("encodes a v0 request with preferred successors byte for byte", () => {
    const request = {
      clusterId: "chronik",
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: 6, preferredSuccessors: [3, 2] }],
        },
      ],
    };
    expect(encodeRequest(endQuorumEpochApi, 0, request).toBuffer().toString("hex")).toBe(version0RequestHex);
    expect(decodeRequest(endQuorumEpochApi, 0, new Reader(Buffer.from(version0RequestHex, "hex")))).toEqual({
      clusterId: "chronik",
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 6,
              preferredSuccessors: [3, 2],
              preferredCandidates: [],
            },
          ],
        },
      ],
      leaderEndpoints: [],
    });
  });

  it("encodes a v1 request with preferred candidates and the leader's endpoints", () => {
    const request = {
      clusterId: "chronik",
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 6,
              preferredCandidates: [
                { candidateId: 3, candidateDirectoryId: directoryOf3 },
                { candidateId: 2, candidateDirectoryId: directoryOf2 },
              ],
            },
          ],
        },
      ],
      leaderEndpoints: [{ name: "CONTROLLER", host: "node1", port: 9092 }],
    };
    expect(encodeRequest(endQuorumEpochApi, 1, request).toBuffer().toString("hex")).toBe(version1RequestHex);
    const decoded = decodeRequest(endQuorumEpochApi, 1, new Reader(Buffer.from(version1RequestHex, "hex")));
    expect(decoded).toEqual({
      ...request,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ ...request.topics[0]!.partitions[0]!, preferredSuccessors: [] }],
        },
      ],
    });
  });

  it("writes only the successor list its version has", () => {
    const both = {
      clusterId: "chronik",
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 6,
              preferredSuccessors: [3, 2],
              preferredCandidates: [
                { candidateId: 3, candidateDirectoryId: directoryOf3 },
                { candidateId: 2, candidateDirectoryId: directoryOf2 },
              ],
            },
          ],
        },
      ],
      leaderEndpoints: [{ name: "CONTROLLER", host: "node1", port: 9092 }],
    };
    expect(encodeRequest(endQuorumEpochApi, 0, both).toBuffer().toString("hex")).toBe(version0RequestHex);
    expect(encodeRequest(endQuorumEpochApi, 1, both).toBuffer().toString("hex")).toBe(version1RequestHex);
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
    expect(encodeResponse(endQuorumEpochApi, 0, response).toBuffer().toString("hex")).toBe(
      version0ResponseHex,
    );
    expect(decodeResponse(endQuorumEpochApi, 0, Buffer.from(version0ResponseHex, "hex"))).toEqual({
      ...response,
      nodeEndpoints: [],
    });
  });

  it("encodes a v1 response with node_endpoints left off the wire", () => {
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: 1, leaderEpoch: 6 }],
        },
      ],
      nodeEndpoints: [],
    };
    expect(encodeResponse(endQuorumEpochApi, 1, response).toBuffer().toString("hex")).toBe(
      version1ResponseHex,
    );
    expect(decodeResponse(endQuorumEpochApi, 1, Buffer.from(version1ResponseHex, "hex"))).toEqual(response);
  });

  it("encodes a v1 NOT_LEADER_OR_FOLLOWER response with the leader's endpoint tagged", () => {
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, errorCode: 6, leaderId: 2, leaderEpoch: 7 }],
        },
      ],
      nodeEndpoints: [{ nodeId: 2, host: "node2", port: 19092 }],
    };
    const hex = [
      "0000", // error_code
      "02" + "13" + utf8(metadataTopic), // topics: 1, topic_name
      "02" + "00000000", // partitions: 1, partition_index
      "0006", // error_code: NOT_LEADER_OR_FOLLOWER
      "00000002" + "00000007", // leader_id, leader_epoch
      "00", // partition tag buffer
      "00", // topic tag buffer
      "01", // response tagged fields: 1
      "00" + "0e", // tag 0 (node_endpoints), 14 bytes
      "02" + "00000002" + "06" + utf8("node2"), // node_endpoints: 1, node_id, host
      "4a94", // port: 19092
      "00", // endpoint tag buffer
    ].join("");
    expect(encodeResponse(endQuorumEpochApi, 1, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(endQuorumEpochApi, 1, Buffer.from(hex, "hex"))).toEqual(response);
  });

  testCodecProperties(endQuorumEpochApi, requestIn, responseIn, {
    requests: { 0: version0RequestHex, 1: version1RequestHex },
    responses: { 0: version0ResponseHex, 1: version1ResponseHex },
  });
});
