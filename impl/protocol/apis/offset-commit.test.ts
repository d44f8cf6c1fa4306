import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { offsetCommitApi } from "./offset-commit.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    committedOffset: wire.int64,
    committedLeaderEpoch: carried(version >= 6, wire.int32, -1),
    committedMetadata: wire.nullableText,
  });
  return fc.record({
    groupId: wire.text,
    generationIdOrMemberEpoch: wire.int32,
    memberId: wire.text,
    groupInstanceId: carried(version >= 7, wire.nullableText, null),
    retentionTimeMs: carried(version <= 4, wire.int64, -1n),
    topics: wire.list(fc.record({ name: wire.text, partitions: wire.list(partition) })),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: carried(version >= 3, wire.int32, 0),
    topics: wire.list(
      fc.record({
        name: wire.text,
        partitions: wire.list(fc.record({ partitionIndex: wire.int32, errorCode: wire.int16 })),
      }),
    ),
  });
}

const v2RequestHex = [
  "0002" + utf8("g1"), // group_id
  "00000003", // generation_id
  "0002" + utf8("m1"), // member_id
  "ffffffffffffffff", // retention_time_ms -1: the broker's retention
  "00000001", // topics: 1
  "0006" + utf8("orders"), // name
  "00000001", // partitions: 1
  "00000000", // partition_index
  "0000000000000064", // committed_offset 100
  "ffff", // committed_metadata null
].join("");

const v6RequestHex = [
  "0002" + utf8("g1"), // group_id
  "ffffffff", // generation_id -1: a commit from outside the group
  "0000", // member_id ""
  "00000001", // topics: 1
  "0006" + utf8("orders"), // name
  "00000001", // partitions: 1
  "00000002", // partition_index
  "00000000000003e8", // committed_offset 1000
  "00000004", // committed_leader_epoch
  "0004" + utf8("note"), // committed_metadata
].join("");

const flexibleRequestHex = [
  "03" + utf8("g1"), // group_id (compact, length + 1)
  "00000003", // generation_id
  "03" + utf8("m1"), // member_id
  "03" + utf8("i1"), // group_instance_id
  "02", // topics: 1
  "07" + utf8("orders"), // name
  "02", // partitions: 1
  "00000000", // partition_index
  "0000000000000064", // committed_offset
  "ffffffff", // committed_leader_epoch -1: unknown
  "01", // committed_metadata ""
  "00", // partition tagged fields
  "00", // topic tagged fields
  "00", // request tagged fields
].join("");

const v2ResponseHex = [
  "00000001", // topics: 1
  "0006" + utf8("orders"), // name
  "00000002", // partitions: 2
  "00000000" + "0000", // partition_index, error_code
  "00000001" + "0016", // partition_index, error_code 22 ILLEGAL_GENERATION
].join("");

const v3ResponseHex = [
  "00000064", // throttle_time_ms 100
  "00000000", // topics: 0
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "02", // topics: 1
  "07" + utf8("orders"), // name
  "02", // partitions: 1
  "00000000" + "0071", // partition_index, error_code 113 STALE_MEMBER_EPOCH
  "00", // partition tagged fields
  "00", // topic tagged fields
  "00", // response tagged fields
].join("");

describe("OffsetCommit", () => {
  it("encodes a v2 request with a retention time byte for byte", () => {
    const request = {
      groupId: "g1",
      generationIdOrMemberEpoch: 3,
      memberId: "m1",
      retentionTimeMs: -1n,
      topics: [
        {
          name: "orders",
          partitions: [{ partitionIndex: 0, committedOffset: 100n, committedMetadata: null }],
        },
      ],
    };
    expect(encodeRequest(offsetCommitApi, 2, request).toBuffer().toString("hex")).toBe(v2RequestHex);
    expect(decodeRequest(offsetCommitApi, 2, new Reader(Buffer.from(v2RequestHex, "hex")))).toEqual({
      ...request,
      groupInstanceId: null,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, committedOffset: 100n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
  });

  it("encodes a v6 request with a leader epoch and no retention time", () => {
    const partition = {
      partitionIndex: 2,
      committedOffset: 1000n,
      committedLeaderEpoch: 4,
      committedMetadata: "note",
    };
    const request = {
      groupId: "g1",
      memberId: "",
      retentionTimeMs: 86_400_000n,
      topics: [{ name: "orders", partitions: [partition] }],
    };
    expect(encodeRequest(offsetCommitApi, 6, request).toBuffer().toString("hex")).toBe(v6RequestHex);
    expect(decodeRequest(offsetCommitApi, 6, new Reader(Buffer.from(v6RequestHex, "hex")))).toEqual({
      ...request,
      generationIdOrMemberEpoch: -1,
      groupInstanceId: null,
      retentionTimeMs: -1n,
    });
  });

  it("encodes a v8 request from a static member with compact fields", () => {
    const request = {
      groupId: "g1",
      generationIdOrMemberEpoch: 3,
      memberId: "m1",
      groupInstanceId: "i1",
      topics: [
        {
          name: "orders",
          partitions: [{ partitionIndex: 0, committedOffset: 100n, committedMetadata: "" }],
        },
      ],
    };
    expect(encodeRequest(offsetCommitApi, 8, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(offsetCommitApi, 8, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual({
      ...request,
      retentionTimeMs: -1n,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, committedOffset: 100n, committedLeaderEpoch: -1, committedMetadata: "" },
          ],
        },
      ],
    });
  });

  it("encodes a v2 response with an error per partition", () => {
    const response = {
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 22 },
          ],
        },
      ],
    };
    expect(encodeResponse(offsetCommitApi, 2, response).toBuffer().toString("hex")).toBe(v2ResponseHex);
    expect(decodeResponse(offsetCommitApi, 2, Buffer.from(v2ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      ...response,
    });
  });

  it("encodes a v3 response with a throttle time", () => {
    const response = { throttleTimeMs: 100, topics: [] };
    expect(encodeResponse(offsetCommitApi, 3, response).toBuffer().toString("hex")).toBe(v3ResponseHex);
    expect(decodeResponse(offsetCommitApi, 3, Buffer.from(v3ResponseHex, "hex"))).toEqual(response);
  });

  it("encodes a v9 response with compact fields", () => {
    const response = {
      throttleTimeMs: 0,
      topics: [{ name: "orders", partitions: [{ partitionIndex: 0, errorCode: 113 }] }],
    };
    expect(encodeResponse(offsetCommitApi, 9, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(offsetCommitApi, 9, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(offsetCommitApi, requestIn, responseIn, {
    requests: { 2: v2RequestHex, 6: v6RequestHex, 8: flexibleRequestHex },
    responses: { 2: v2ResponseHex, 3: v3ResponseHex, 9: flexibleResponseHex },
  });
});
