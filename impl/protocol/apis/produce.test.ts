import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { produceApi } from "./produce.ts";

/** Stands in for a record batch: the grammar carries records as opaque bytes. */
const batch = Buffer.from("deadbeef", "hex");

/** A request for `version`: every request field exists in 3-11, so nothing is dropped. */
function requestIn(_version: number) {
  return fc.record({
    transactionalId: wire.nullableText,
    acks: wire.int16,
    timeoutMs: wire.int32,
    topicData: wire.list(
      fc.record({
        name: wire.text,
        partitionData: wire.list(fc.record({ index: wire.int32, records: wire.nullable(wire.recordBytes) })),
      }),
    ),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    index: wire.int32,
    errorCode: wire.int16,
    baseOffset: wire.int64,
    logAppendTimeMs: wire.int64,
    logStartOffset: carried(version >= 5, wire.int64, -1n),
    recordErrors: carried(
      version >= 8,
      wire.list(fc.record({ batchIndex: wire.int32, batchIndexErrorMessage: wire.nullableText })),
      [],
    ),
    errorMessage: carried(version >= 8, wire.nullableText, null),
    currentLeader: carried(version >= 10, wire.leaderIdAndEpoch, { leaderId: -1, leaderEpoch: -1 }),
  });
  return fc.record({
    responses: wire.list(fc.record({ name: wire.text, partitionResponses: wire.list(partition) })),
    throttleTimeMs: wire.int32,
    nodeEndpoints: carried(version >= 10, wire.list(wire.nodeEndpoint), []),
  });
}

describe("Produce", () => {
  it("encodes a v3 request byte for byte", () => {
    const request = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: "orders", partitionData: [{ index: 0, records: batch }] }],
    };
    const hex = [
      "ffff", // transactional_id: null
      "ffff", // acks: -1, all in-sync replicas
      "00007530", // timeout_ms: 30000
      "00000001", // topic_data: 1
      "0006" + utf8("orders"), // name
      "00000001", // partition_data: 1
      "00000000", // index
      "00000004" + "deadbeef", // records: INT32 length then the batch
    ].join("");
    expect(encodeRequest(produceApi, 3, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(produceApi, 3, new Reader(Buffer.from(hex, "hex")))).toEqual(request);
  });

  it("encodes a v9 request with compact fields and tag buffers", () => {
    const request = {
      transactionalId: "tx",
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: "orders", partitionData: [{ index: 2, records: batch }] }],
    };
    const hex = [
      "03" + utf8("tx"), // transactional_id: compact length 2 + 1
      "0001", // acks
      "000003e8", // timeout_ms: 1000
      "02", // topic_data: compact length 1 + 1
      "07" + utf8("orders"), // name
      "02", // partition_data: 1
      "00000002", // index
      "05" + "deadbeef", // records: compact length 4 + 1
      "00", // partition tag buffer
      "00", // topic tag buffer
      "00", // tag buffer
    ].join("");
    expect(encodeRequest(produceApi, 9, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(produceApi, 9, new Reader(Buffer.from(hex, "hex")))).toEqual(request);
  });

  it("encodes a v3 response byte for byte", () => {
    const response = {
      responses: [{ name: "orders", partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 42n }] }],
      throttleTimeMs: 0,
    };
    const hex = [
      "00000001", // responses: 1
      "0006" + utf8("orders"), // name
      "00000001", // partition_responses: 1
      "00000000", // index
      "0000", // error_code
      "000000000000002a", // base_offset: 42
      "ffffffffffffffff", // log_append_time_ms: default -1, the topic uses create time
      "00000000", // throttle_time_ms
    ].join("");
    expect(encodeResponse(produceApi, 3, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(produceApi, 3, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("encodes a v10 NOT_LEADER_OR_FOLLOWER response naming the new leader in tagged fields", () => {
    const response = {
      responses: [
        {
          name: "orders",
          partitionResponses: [
            {
              index: 0,
              errorCode: 6,
              baseOffset: -1n,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: 2, leaderEpoch: 7 },
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: "h2", port: 9092, rack: null }],
    };
    const hex = [
      "02", // responses: 1
      "07" + utf8("orders"), // name
      "02", // partition_responses: 1
      "00000000", // index
      "0006", // error_code: NOT_LEADER_OR_FOLLOWER
      "ffffffffffffffff", // base_offset: -1
      "ffffffffffffffff", // log_append_time_ms: default -1
      "ffffffffffffffff", // log_start_offset: default -1
      "01", // record_errors: []
      "00", // error_message: null
      "01", // partition tagged fields: 1
      "00" + "09", // tag 0 (current_leader), 9 bytes
      "00000002" + "00000007" + "00", // leader_id, leader_epoch, the struct's own tag buffer
      "00", // topic tag buffer
      "00000000", // throttle_time_ms
      "01", // tagged fields: 1
      "00" + "0e", // tag 0 (node_endpoints), 14 bytes
      "02", // node_endpoints: 1
      "00000002" + "03" + utf8("h2") + "00002384", // node_id, host, port
      "00" + "00", // rack: null, endpoint tag buffer
    ].join("");
    expect(encodeResponse(produceApi, 10, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(produceApi, 10, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("leaves tagged fields out when they hold their defaults", () => {
    const response = {
      responses: [{ name: "t", partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 0n }] }],
      throttleTimeMs: 0,
    };
    const hex = [
      "02" + "02" + utf8("t"), // responses: 1, name
      "02" + "00000000" + "0000", // partition_responses: 1, index, error_code
      "0000000000000000" + "ffffffffffffffff" + "ffffffffffffffff", // base, log append time, log start
      "01" + "00", // record_errors: [], error_message: null
      "00", // partition tag buffer: no current_leader
      "00", // topic tag buffer
      "00000000", // throttle_time_ms
      "00", // tag buffer: no node_endpoints
    ].join("");
    expect(encodeResponse(produceApi, 11, response).toBuffer().toString("hex")).toBe(hex);
    const decoded = decodeResponse(produceApi, 11, Buffer.from(hex, "hex"));
    expect(decoded.responses[0]?.partitionResponses[0]?.currentLeader).toEqual({
      leaderId: -1,
      leaderEpoch: -1,
    });
    expect(decoded.nodeEndpoints).toEqual([]);
  });

  testCodecProperties(produceApi, requestIn, responseIn);
});
