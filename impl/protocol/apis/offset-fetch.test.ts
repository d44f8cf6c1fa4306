import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { carried, nullableWhen, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { offsetFetchApi } from "./offset-fetch.ts";

const requestTopics = wire.list(fc.record({ name: wire.text, partitionIndexes: wire.list(wire.int32) }));

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const single = version <= 7;
  return fc.record({
    groupId: carried(single, wire.text, ""),
    topics: single
      ? nullableWhen(version >= 2, requestTopics, [])
      : carried(false, wire.nullable(requestTopics), []),
    groups: carried(
      version >= 8,
      wire.list(
        fc.record({
          groupId: wire.text,
          memberId: carried(version >= 9, wire.nullableText, null),
          memberEpoch: carried(version >= 9, wire.int32, -1),
          topics: wire.nullable(requestTopics),
        }),
      ),
      [],
    ),
    requireStable: carried(version >= 7, fc.boolean(), false),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const single = version <= 7;
  const topics = wire.list(
    fc.record({
      name: wire.text,
      partitions: wire.list(
        fc.record({
          partitionIndex: wire.int32,
          committedOffset: wire.int64,
          committedLeaderEpoch: carried(version >= 5, wire.int32, -1),
          metadata: wire.nullableText,
          errorCode: wire.int16,
        }),
      ),
    }),
  );
  return fc.record({
    throttleTimeMs: carried(version >= 3, wire.int32, 0),
    topics: carried(single, topics, []),
    errorCode: carried(version >= 2 && single, wire.int16, 0),
    groups: carried(
      version >= 8,
      wire.list(fc.record({ groupId: wire.text, topics, errorCode: wire.int16 })),
      [],
    ),
  });
}

const v1RequestHex = [
  "0002" + utf8("g1"), // group_id
  "00000001", // topics: 1
  "0006" + utf8("orders"), // name
  "00000002" + "00000000" + "00000001", // partition_indexes [0, 1]
].join("");

const v2RequestHex = [
  "0002" + utf8("g1"), // group_id
  "ffffffff", // topics: null, every committed partition
].join("");

const flexibleRequestHex = [
  "03" + utf8("g1"), // group_id (compact, length + 1)
  "02", // topics: 1
  "07" + utf8("orders"), // name
  "02" + "00000000", // partition_indexes [0]
  "00", // topic tagged fields
  "01", // require_stable
  "00", // request tagged fields
].join("");

const batchedRequestHex = [
  "03", // groups: 2
  "03" + utf8("g1"), // group_id
  "02", // topics: 1
  "07" + utf8("orders"), // name
  "02" + "00000000", // partition_indexes [0]
  "00", // topic tagged fields
  "00", // group tagged fields
  "03" + utf8("g2"), // group_id
  "00", // topics: null, every committed partition
  "00", // group tagged fields
  "00", // require_stable
  "00", // request tagged fields
].join("");

const v9RequestHex = [
  "02", // groups: 1
  "03" + utf8("g1"), // group_id
  "03" + utf8("m1"), // member_id
  "00000005", // member_epoch
  "00", // topics: null
  "00", // group tagged fields
  "01", // require_stable
  "00", // request tagged fields
].join("");

const v1ResponseHex = [
  "00000001", // topics: 1
  "0006" + utf8("orders"), // name
  "00000001", // partitions: 1
  "00000000", // partition_index
  "0000000000000064", // committed_offset 100
  "ffff", // metadata null
  "0000", // error_code
].join("");

const v5ResponseHex = [
  "00000000", // throttle_time_ms
  "00000001", // topics: 1
  "0006" + utf8("orders"), // name
  "00000001", // partitions: 1
  "00000001", // partition_index
  "ffffffffffffffff", // committed_offset -1: nothing committed
  "ffffffff", // committed_leader_epoch -1
  "0000", // metadata ""
  "0000", // error_code
  "000e", // error_code 14 COORDINATOR_LOAD_IN_PROGRESS, after the topics
].join("");

const flexibleResponseHex = [
  "00000000", // throttle_time_ms
  "02", // topics: 1
  "07" + utf8("orders"), // name
  "02", // partitions: 1
  "00000000", // partition_index
  "0000000000000064", // committed_offset
  "00000003", // committed_leader_epoch
  "00", // metadata null
  "0058", // error_code 88 UNSTABLE_OFFSET_COMMIT
  "00", // partition tagged fields
  "00", // topic tagged fields
  "0000", // error_code
  "00", // response tagged fields
].join("");

const batchedResponseHex = [
  "00000000", // throttle_time_ms
  "03", // groups: 2
  "03" + utf8("g1"), // group_id
  "02", // topics: 1
  "07" + utf8("orders"), // name
  "02", // partitions: 1
  "00000000", // partition_index
  "0000000000000064", // committed_offset
  "00000003", // committed_leader_epoch
  "03" + utf8("m1"), // metadata
  "0000", // error_code
  "00", // partition tagged fields
  "00", // topic tagged fields
  "0000", // group error_code
  "00", // group tagged fields
  "03" + utf8("g2"), // group_id
  "01", // topics: 0
  "0010", // group error_code 16 NOT_COORDINATOR
  "00", // group tagged fields
  "00", // response tagged fields
].join("");

describe("OffsetFetch", () => {
  it("encodes a v1 request naming its partitions", () => {
    const request = { groupId: "g1", topics: [{ name: "orders", partitionIndexes: [0, 1] }] };
    expect(encodeRequest(offsetFetchApi, 1, request).toBuffer().toString("hex")).toBe(v1RequestHex);
    expect(decodeRequest(offsetFetchApi, 1, new Reader(Buffer.from(v1RequestHex, "hex")))).toEqual({
      ...request,
      groups: [],
      requireStable: false,
    });
  });

  it("encodes a v2 request for every partition as a null topic list", () => {
    const request = { groupId: "g1", topics: null };
    expect(encodeRequest(offsetFetchApi, 2, request).toBuffer().toString("hex")).toBe(v2RequestHex);
    expect(decodeRequest(offsetFetchApi, 2, new Reader(Buffer.from(v2RequestHex, "hex")))).toEqual({
      ...request,
      groups: [],
      requireStable: false,
    });
  });

  it("refuses a null topic list in v1, which has none", () => {
    const nullTopics = "0002" + utf8("g1") + "ffffffff"; // group_id, topics: null
    expect(() => decodeRequest(offsetFetchApi, 1, new Reader(Buffer.from(nullTopics, "hex")))).toThrow(
      DecodeError,
    );
  });

  it("encodes a v7 request asking for stable offsets only", () => {
    const request = {
      groupId: "g1",
      topics: [{ name: "orders", partitionIndexes: [0] }],
      requireStable: true,
    };
    expect(encodeRequest(offsetFetchApi, 7, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(offsetFetchApi, 7, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual({
      ...request,
      groups: [],
    });
  });

  it("encodes a v8 request batching groups, with no single group", () => {
    const request = {
      groups: [
        { groupId: "g1", topics: [{ name: "orders", partitionIndexes: [0] }] },
        { groupId: "g2", topics: null },
      ],
      requireStable: false,
    };
    expect(encodeRequest(offsetFetchApi, 8, request).toBuffer().toString("hex")).toBe(batchedRequestHex);
    expect(decodeRequest(offsetFetchApi, 8, new Reader(Buffer.from(batchedRequestHex, "hex")))).toEqual({
      groupId: "",
      topics: [],
      groups: request.groups.map((group) => ({ ...group, memberId: null, memberEpoch: -1 })),
      requireStable: false,
    });
  });

  it("encodes a v9 request carrying the member's id and epoch", () => {
    const request = {
      groups: [{ groupId: "g1", memberId: "m1", memberEpoch: 5, topics: null }],
      requireStable: true,
    };
    expect(encodeRequest(offsetFetchApi, 9, request).toBuffer().toString("hex")).toBe(v9RequestHex);
    expect(decodeRequest(offsetFetchApi, 9, new Reader(Buffer.from(v9RequestHex, "hex")))).toEqual({
      ...request,
      groupId: "",
      topics: [],
    });
  });

  it("encodes a v1 response, which has neither throttle time nor top-level error", () => {
    const response = {
      topics: [
        {
          name: "orders",
          partitions: [{ partitionIndex: 0, committedOffset: 100n, metadata: null, errorCode: 0 }],
        },
      ],
    };
    expect(encodeResponse(offsetFetchApi, 1, response).toBuffer().toString("hex")).toBe(v1ResponseHex);
    expect(decodeResponse(offsetFetchApi, 1, Buffer.from(v1ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 100n,
              committedLeaderEpoch: -1,
              metadata: null,
              errorCode: 0,
            },
          ],
        },
      ],
      errorCode: 0,
      groups: [],
    });
  });

  it("encodes a v5 response with a leader epoch and the top-level error after the topics", () => {
    const response = {
      throttleTimeMs: 0,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: "", errorCode: 0 },
          ],
        },
      ],
      errorCode: 14,
    };
    expect(encodeResponse(offsetFetchApi, 5, response).toBuffer().toString("hex")).toBe(v5ResponseHex);
    expect(decodeResponse(offsetFetchApi, 5, Buffer.from(v5ResponseHex, "hex"))).toEqual({
      ...response,
      groups: [],
    });
  });

  it("encodes a v6 response with compact fields", () => {
    const response = {
      throttleTimeMs: 0,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 100n,
              committedLeaderEpoch: 3,
              metadata: null,
              errorCode: 88,
            },
          ],
        },
      ],
      errorCode: 0,
    };
    expect(encodeResponse(offsetFetchApi, 6, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(offsetFetchApi, 6, Buffer.from(flexibleResponseHex, "hex"))).toEqual({
      ...response,
      groups: [],
    });
  });

  it("encodes a v8 response with the offsets and an error per group", () => {
    const response = {
      throttleTimeMs: 0,
      groups: [
        {
          groupId: "g1",
          topics: [
            {
              name: "orders",
              partitions: [
                {
                  partitionIndex: 0,
                  committedOffset: 100n,
                  committedLeaderEpoch: 3,
                  metadata: "m1",
                  errorCode: 0,
                },
              ],
            },
          ],
          errorCode: 0,
        },
        { groupId: "g2", topics: [], errorCode: 16 },
      ],
    };
    expect(encodeResponse(offsetFetchApi, 8, response).toBuffer().toString("hex")).toBe(batchedResponseHex);
    expect(decodeResponse(offsetFetchApi, 8, Buffer.from(batchedResponseHex, "hex"))).toEqual({
      ...response,
      topics: [],
      errorCode: 0,
    });
  });

  testCodecProperties(offsetFetchApi, requestIn, responseIn, {
    requests: {
      1: v1RequestHex,
      2: v2RequestHex,
      7: flexibleRequestHex,
      8: batchedRequestHex,
      9: v9RequestHex,
    },
    responses: { 1: v1ResponseHex, 5: v5ResponseHex, 6: flexibleResponseHex, 8: batchedResponseHex },
  });
});
