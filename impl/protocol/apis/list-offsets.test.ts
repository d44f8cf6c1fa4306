import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { listOffsetsApi } from "./list-offsets.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    currentLeaderEpoch: carried(version >= 4, wire.int32, -1),
    timestamp: wire.int64,
  });
  return fc.record({
    replicaId: wire.int32,
    isolationLevel: carried(version >= 2, wire.int8, 0),
    topics: wire.list(fc.record({ name: wire.text, partitions: wire.list(partition) })),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    errorCode: wire.int16,
    timestamp: wire.int64,
    offset: wire.int64,
    leaderEpoch: carried(version >= 4, wire.int32, -1),
  });
  return fc.record({
    throttleTimeMs: carried(version >= 2, wire.int32, 0),
    topics: wire.list(fc.record({ name: wire.text, partitions: wire.list(partition) })),
  });
}

describe("ListOffsets", () => {
  it("encodes a v1 request for the latest offset byte for byte", () => {
    const request = {
      replicaId: -1,
      topics: [{ name: "orders", partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    };
    const hex = [
      "ffffffff", // replica_id: -1, a consumer
      "00000001", // topics: 1
      "0006" + utf8("orders"), // name
      "00000001", // partitions: 1
      "00000000", // partition_index
      "ffffffffffffffff", // timestamp: -1, the latest offset
    ].join("");
    expect(encodeRequest(listOffsetsApi, 1, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(listOffsetsApi, 1, new Reader(Buffer.from(hex, "hex")))).toEqual({
      ...request,
      isolationLevel: 0,
      topics: [
        { name: "orders", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] },
      ],
    });
  });

  it("encodes a v7 request for the max timestamp with compact fields and tag buffers", () => {
    const request = {
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        { name: "orders", partitions: [{ partitionIndex: 0, currentLeaderEpoch: 5, timestamp: -3n }] },
      ],
    };
    const hex = [
      "ffffffff", // replica_id
      "01", // isolation_level: read_committed
      "02", // topics: compact length 1 + 1
      "07" + utf8("orders"), // name
      "02", // partitions: 1
      "00000000", // partition_index
      "00000005", // current_leader_epoch
      "fffffffffffffffd", // timestamp: -3, the record with the largest timestamp (v7+)
      "00", // partition tag buffer
      "00", // topic tag buffer
      "00", // tag buffer
    ].join("");
    expect(encodeRequest(listOffsetsApi, 7, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(listOffsetsApi, 7, new Reader(Buffer.from(hex, "hex")))).toEqual(request);
  });

  it("encodes a v1 response byte for byte", () => {
    const response = {
      topics: [
        { name: "orders", partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 42n }] },
      ],
    };
    const hex = [
      "00000001", // topics: 1
      "0006" + utf8("orders"), // name
      "00000001", // partitions: 1
      "00000000", // partition_index
      "0000", // error_code
      "ffffffffffffffff", // timestamp: -1, none for the latest offset
      "000000000000002a", // offset: 42
    ].join("");
    expect(encodeResponse(listOffsetsApi, 1, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(listOffsetsApi, 1, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("encodes a v8 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, errorCode: 0, timestamp: 1700000000000n, offset: 42n, leaderEpoch: 5 },
          ],
        },
      ],
    };
    const hex = [
      "00000000", // throttle_time_ms
      "02", // topics: 1
      "07" + utf8("orders"), // name
      "02", // partitions: 1
      "00000000", // partition_index
      "0000", // error_code
      "0000018bcfe56800", // timestamp: 1700000000000 ms
      "000000000000002a", // offset: 42
      "00000005", // leader_epoch
      "00", // partition tag buffer
      "00", // topic tag buffer
      "00", // tag buffer
    ].join("");
    expect(encodeResponse(listOffsetsApi, 8, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(listOffsetsApi, 8, Buffer.from(hex, "hex"))).toEqual(response);
  });

  testCodecProperties(listOffsetsApi, requestIn, responseIn);
});
