import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { electLeadersApi } from "./elect-leaders.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    electionType: carried(version >= 1, wire.int8, 0),
    topicPartitions: wire.nullable(
      wire.list(fc.record({ topic: wire.text, partitions: wire.list(wire.int32) })),
    ),
    timeoutMs: wire.int32,
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: wire.int32,
    errorCode: carried(version >= 1, wire.int16, 0),
    replicaElectionResults: wire.list(
      fc.record({
        topic: wire.text,
        partitionResult: wire.list(
          fc.record({ partitionId: wire.int32, errorCode: wire.int16, errorMessage: wire.nullableText }),
        ),
      }),
    ),
  });
}

const preferredV0RequestHex =
  "00000001" + // topic_partitions: 1
  ("0003" + utf8("foo")) + // topic
  "00000002" + // partitions: 2
  "00000000" + // 0
  "00000002" + // 2
  "0000ea60"; // timeout_ms 60000

const allPartitionsV1RequestHex =
  "01" + // election_type 1 unclean
  "ffffffff" + // topic_partitions null: every partition
  "00007530"; // timeout_ms 30000

const flexibleRequestHex =
  "00" + // election_type 0 preferred
  "02" + // topic_partitions: 1 (compact, length + 1)
  ("04" + utf8("foo")) + // topic
  "02" + // partitions: 1
  "00000001" + // 1
  "00" + // topic tagged fields
  "00007530" + // timeout_ms 30000
  "00"; // request tagged fields

const v0ResponseHex =
  "00000000" + // throttle_time_ms
  "00000001" + // replica_election_results: 1
  ("0003" + utf8("foo")) + // topic
  "00000001" + // partition_result: 1
  "00000000" + // partition_id 0
  "0054" + // error_code 84 ELECTION_NOT_NEEDED
  "ffff"; // error_message null

const flexibleResponseHex =
  "00000000" + // throttle_time_ms
  "0000" + // error_code
  "02" + // replica_election_results: 1
  ("04" + utf8("foo")) + // topic
  "03" + // partition_result: 2
  ("00000000" + "0000" + "00" + "00") + // partition 0: NONE, message null, tagged fields
  ("00000001" + "0050" + ("04" + utf8("why")) + "00") + // partition 1: 80 PREFERRED_LEADER_NOT_AVAILABLE
  "00" + // result tagged fields
  "00"; // response tagged fields

describe("ElectLeaders", () => {
  it("encodes a v0 request, which has no election type", () => {
    const request = { topicPartitions: [{ topic: "foo", partitions: [0, 2] }], timeoutMs: 60_000 };
    expect(encodeRequest(electLeadersApi, 0, request).toBuffer().toString("hex")).toBe(preferredV0RequestHex);
    const decoded = decodeRequest(electLeadersApi, 0, new Reader(Buffer.from(preferredV0RequestHex, "hex")));
    expect(decoded).toEqual({ electionType: 0, ...request });
  });

  it("decodes a v1 unclean election of every partition (null topic list)", () => {
    const decoded = decodeRequest(
      electLeadersApi,
      1,
      new Reader(Buffer.from(allPartitionsV1RequestHex, "hex")),
    );
    expect(decoded).toEqual({ electionType: 1, topicPartitions: null, timeoutMs: 30_000 });
  });

  it("encodes a v2 request with compact arrays and tagged fields", () => {
    const request = {
      electionType: 0,
      topicPartitions: [{ topic: "foo", partitions: [1] }],
      timeoutMs: 30_000,
    };
    expect(encodeRequest(electLeadersApi, 2, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
  });

  it("encodes a v0 response without the top-level error code", () => {
    const response = {
      throttleTimeMs: 0,
      replicaElectionResults: [{ topic: "foo", partitionResult: [{ partitionId: 0, errorCode: 84 }] }],
    };
    expect(encodeResponse(electLeadersApi, 0, response).toBuffer().toString("hex")).toBe(v0ResponseHex);
    expect(decodeResponse(electLeadersApi, 0, Buffer.from(v0ResponseHex, "hex"))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      replicaElectionResults: [
        { topic: "foo", partitionResult: [{ partitionId: 0, errorCode: 84, errorMessage: null }] },
      ],
    });
  });

  it("encodes a v2 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      replicaElectionResults: [
        {
          topic: "foo",
          partitionResult: [
            { partitionId: 0, errorCode: 0, errorMessage: null },
            { partitionId: 1, errorCode: 80, errorMessage: "why" },
          ],
        },
      ],
    };
    expect(encodeResponse(electLeadersApi, 2, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(electLeadersApi, 2, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(electLeadersApi, requestIn, responseIn, {
    requests: { 0: preferredV0RequestHex, 1: allPartitionsV1RequestHex, 2: flexibleRequestHex },
    responses: { 0: v0ResponseHex, 2: flexibleResponseHex },
  });
});
