import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { voteApi } from "./vote.ts";

const metadataTopic = "__chronik_metadata";
const candidateDirectoryId = "6b0c9f2e4a1d4e5f8a7b3c2d1e0f9a8b";
const voterDirectoryId = "1f2e3d4c5b6a79880123456789abcdef";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    candidateEpoch: wire.int32,
    candidateId: wire.int32,
    candidateDirectoryId: carried(version >= 1, wire.uuid, zeroUuid),
    voterDirectoryId: carried(version >= 1, wire.uuid, zeroUuid),
    lastOffsetEpoch: wire.int32,
    lastOffset: wire.int64,
    preVote: carried(version >= 2, fc.boolean(), false),
  });
  return fc.record({
    clusterId: wire.nullableText,
    voterId: carried(version >= 1, wire.int32, -1),
    topics: wire.quorumTopics(partition),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    errorCode: wire.int16,
    leaderId: wire.int32,
    leaderEpoch: wire.int32,
    voteGranted: fc.boolean(),
  });
  return fc.record({
    errorCode: wire.int16,
    topics: wire.quorumTopics(partition),
    nodeEndpoints: carried(version >= 1, wire.list(wire.quorumNodeEndpoint), []),
  });
}

// Vote is flexible in every version: compact strings and arrays, a tag buffer after every struct.
const version0RequestHex = [
  "08" + utf8("chronik"), // cluster_id (compact, length + 1)
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "00000005", // candidate_epoch
  "00000002", // candidate_id
  "00000004", // last_offset_epoch
  "0000000000000078", // last_offset: 120
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // request tag buffer
].join("");

const version1RequestHex = [
  "08" + utf8("chronik"), // cluster_id
  "00000003", // voter_id: the voter asked
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "00000005", // candidate_epoch
  "00000002", // candidate_id
  candidateDirectoryId, // candidate_directory_id
  voterDirectoryId, // voter_directory_id
  "00000004", // last_offset_epoch
  "0000000000000078", // last_offset: 120
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // request tag buffer
].join("");

// Version 2 is version 1 with pre_vote after last_offset.
const version2RequestHex = [
  "08" + utf8("chronik"), // cluster_id
  "00000003", // voter_id
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "00000005", // replica_epoch: the epoch it would campaign in
  "00000002", // replica_id
  candidateDirectoryId, // replica_directory_id
  voterDirectoryId, // voter_directory_id
  "00000004", // last_offset_epoch
  "0000000000000078", // last_offset: 120
  "01", // pre_vote: true
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
  "ffffffff", // leader_id: -1, no leader known
  "00000005", // leader_epoch
  "01", // vote_granted
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // response tag buffer
].join("");

const version1ResponseHex = [
  "0000", // error_code
  "02", // topics: 1
  "13" + utf8(metadataTopic), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "0000", // error_code
  "00000001", // leader_id: node 1 already leads
  "00000005", // leader_epoch
  "00", // vote_granted: false
  "00", // partition tag buffer
  "00", // topic tag buffer
  "01", // response tagged fields: 1
  "00" + "0e", // tag 0 (node_endpoints), 14 bytes
  "02", // node_endpoints: 1
  "00000001", // node_id
  "06" + utf8("node1"), // host
  "2384", // port: 9092 as UINT16
  "00", // endpoint tag buffer
].join("");

describe("Vote", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = {
      clusterId: "chronik",
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            { partitionIndex: 0, candidateEpoch: 5, candidateId: 2, lastOffsetEpoch: 4, lastOffset: 120n },
          ],
        },
      ],
    };
    expect(encodeRequest(voteApi, 0, request).toBuffer().toString("hex")).toBe(version0RequestHex);
    expect(decodeRequest(voteApi, 0, new Reader(Buffer.from(version0RequestHex, "hex")))).toEqual({
      clusterId: "chronik",
      voterId: -1,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              ...request.topics[0]!.partitions[0]!,
              candidateDirectoryId: zeroUuid,
              voterDirectoryId: zeroUuid,
              preVote: false,
            },
          ],
        },
      ],
    });
  });

  it("encodes a v1 request with the voter's id and both directory ids", () => {
    const request = {
      clusterId: "chronik",
      voterId: 3,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              candidateEpoch: 5,
              candidateId: 2,
              candidateDirectoryId,
              voterDirectoryId,
              lastOffsetEpoch: 4,
              lastOffset: 120n,
            },
          ],
        },
      ],
    };
    expect(encodeRequest(voteApi, 1, request).toBuffer().toString("hex")).toBe(version1RequestHex);
    const decoded = decodeRequest(voteApi, 1, new Reader(Buffer.from(version1RequestHex, "hex")));
    // Before v2 every request is an ordinary vote.
    const partition = { ...request.topics[0]!.partitions[0]!, preVote: false };
    expect(decoded).toEqual({ ...request, topics: [{ topicName: metadataTopic, partitions: [partition] }] });
  });

  it("leaves the voter key out of a v0 request", () => {
    const request = {
      clusterId: "chronik",
      voterId: 3,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              candidateEpoch: 5,
              candidateId: 2,
              candidateDirectoryId,
              voterDirectoryId,
              lastOffsetEpoch: 4,
              lastOffset: 120n,
            },
          ],
        },
      ],
    };
    expect(encodeRequest(voteApi, 0, request).toBuffer().toString("hex")).toBe(version0RequestHex);
  });

  it("encodes a v2 pre-vote request byte for byte", () => {
    const request = {
      clusterId: "chronik",
      voterId: 3,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [
            {
              partitionIndex: 0,
              candidateEpoch: 5,
              candidateId: 2,
              candidateDirectoryId,
              voterDirectoryId,
              lastOffsetEpoch: 4,
              lastOffset: 120n,
              preVote: true,
            },
          ],
        },
      ],
    };
    expect(encodeRequest(voteApi, 2, request).toBuffer().toString("hex")).toBe(version2RequestHex);
    expect(decodeRequest(voteApi, 2, new Reader(Buffer.from(version2RequestHex, "hex")))).toEqual(request);
  });

  it("leaves pre_vote out of a v1 request, which decodes as an ordinary vote", () => {
    const partition = {
      partitionIndex: 0,
      candidateEpoch: 5,
      candidateId: 2,
      candidateDirectoryId,
      voterDirectoryId,
      lastOffsetEpoch: 4,
      lastOffset: 120n,
    };
    const request = {
      clusterId: "chronik",
      voterId: 3,
      topics: [{ topicName: metadataTopic, partitions: [{ ...partition, preVote: true }] }],
    };
    expect(encodeRequest(voteApi, 1, request).toBuffer().toString("hex")).toBe(version1RequestHex);
    const decoded = decodeRequest(voteApi, 1, new Reader(Buffer.from(version1RequestHex, "hex")));
    expect(decoded.topics[0]!.partitions[0]!.preVote).toBe(false);
  });

  it("writes a null cluster id as a compact null", () => {
    const request = { clusterId: null, topics: [] };
    expect(encodeRequest(voteApi, 0, request).toBuffer().toString("hex")).toBe("00" + "01" + "00");
    expect(decodeRequest(voteApi, 0, new Reader(Buffer.from("000100", "hex"))).clusterId).toBeNull();
  });

  it("encodes a v0 response granting the vote byte for byte", () => {
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: -1, leaderEpoch: 5, voteGranted: true }],
        },
      ],
    };
    expect(encodeResponse(voteApi, 0, response).toBuffer().toString("hex")).toBe(version0ResponseHex);
    expect(decodeResponse(voteApi, 0, Buffer.from(version0ResponseHex, "hex"))).toEqual({
      ...response,
      nodeEndpoints: [],
    });
  });

  it("encodes a v1 refusal naming the leader and its endpoint in a tagged field", () => {
    const response = {
      errorCode: 0,
      topics: [
        {
          topicName: metadataTopic,
          partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: 1, leaderEpoch: 5, voteGranted: false }],
        },
      ],
      nodeEndpoints: [{ nodeId: 1, host: "node1", port: 9092 }],
    };
    expect(encodeResponse(voteApi, 1, response).toBuffer().toString("hex")).toBe(version1ResponseHex);
    expect(decodeResponse(voteApi, 1, Buffer.from(version1ResponseHex, "hex"))).toEqual(response);
  });

  it("leaves node_endpoints off the wire in v1 when there are none", () => {
    const response = { errorCode: 0, topics: [], nodeEndpoints: [] };
    const hex = "0000" + "01" + "00"; // error_code, topics: [], no tagged fields
    expect(encodeResponse(voteApi, 1, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(voteApi, 1, Buffer.from(hex, "hex"))).toEqual(response);
  });

  it("skips tag 0 in a v0 response, where node_endpoints does not exist", () => {
    const hex = [
      "0000", // error_code
      "01", // topics: []
      "01", // response tagged fields: 1
      "00" + "0e", // tag 0, 14 bytes: unknown before v1
      "02" + "00000001" + "06" + utf8("node1") + "2384" + "00",
    ].join("");
    expect(decodeResponse(voteApi, 0, Buffer.from(hex, "hex"))).toEqual({
      errorCode: 0,
      topics: [],
      nodeEndpoints: [],
    });
  });

  it("refuses to write a port that does not fit a UINT16", () => {
    const response = { errorCode: 0, topics: [], nodeEndpoints: [{ nodeId: 1, host: "h", port: 70_000 }] };
    expect(() => encodeResponse(voteApi, 1, response)).toThrow(RangeError);
  });

  testCodecProperties(voteApi, requestIn, responseIn, {
    requests: { 0: version0RequestHex, 1: version1RequestHex, 2: version2RequestHex },
    responses: { 0: version0ResponseHex, 1: version1ResponseHex, 2: version1ResponseHex },
  });
});
