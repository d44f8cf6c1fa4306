import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { produceApi } from "./produce.ts";

const ascii = (text: string) => Buffer.from(text, "ascii").toString("hex");
/** Stands in for a record batch: the grammar carries records as opaque bytes. */
const batch = Buffer.from("deadbeef", "hex");

const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const text = fc.string({ unit: "grapheme", maxLength: 6 });
const nullableText = fc.option(text, { nil: null });
const recordBytes = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes));
const list = <T>(element: fc.Arbitrary<T>) => fc.array(element, { maxLength: 3 });

/** A value the version cannot carry: the caller sends `sent`, and decoding gives back `kept`. */
class Dropped {
  constructor(
    readonly sent: unknown,
    readonly kept: unknown,
  ) {}
}

/**
 * Any value where the version carries the field. Elsewhere the caller still
 * sends one, which must not reach the wire: decoding gives back `absent`.
 */
function carried<T>(inVersion: boolean, arbitrary: fc.Arbitrary<T>, absent: T): fc.Arbitrary<T> {
  return inVersion ? arbitrary : arbitrary.map((sent) => new Dropped(sent, absent) as unknown as T);
}

/** The message as a caller sends it, or as decoding must give it back. */
function side<T>(message: T, which: "sent" | "kept"): T {
  const pick = (value: unknown): unknown => {
    if (value instanceof Dropped) return pick(value[which]);
    if (Array.isArray(value)) return value.map(pick);
    if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
      return Object.fromEntries(Object.entries(value).map(([name, field]) => [name, pick(field)]));
    }
    return value;
  };
  return pick(message) as T;
}

/** A request for `version`: every request field exists in 3-11, so nothing is dropped. */
function requestIn(_version: number) {
  return fc.record({
    transactionalId: nullableText,
    acks: int16,
    timeoutMs: int32,
    topicData: list(
      fc.record({
        name: text,
        partitionData: list(fc.record({ index: int32, records: fc.option(recordBytes, { nil: null }) })),
      }),
    ),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    index: int32,
    errorCode: int16,
    baseOffset: int64,
    logAppendTimeMs: int64,
    logStartOffset: carried(version >= 5, int64, -1n),
    recordErrors: carried(
      version >= 8,
      list(fc.record({ batchIndex: int32, batchIndexErrorMessage: nullableText })),
      [],
    ),
    errorMessage: carried(version >= 8, nullableText, null),
    currentLeader: carried(version >= 10, fc.record({ leaderId: int32, leaderEpoch: int32 }), {
      leaderId: -1,
      leaderEpoch: -1,
    }),
  });
  return fc.record({
    responses: list(fc.record({ name: text, partitionResponses: list(partition) })),
    throttleTimeMs: int32,
    nodeEndpoints: carried(
      version >= 10,
      list(fc.record({ nodeId: int32, host: text, port: int32, rack: nullableText })),
      [],
    ),
  });
}

function versioned<T>(messageIn: (version: number) => fc.Arbitrary<T>) {
  return fc.integer({ min: produceApi.versionMin, max: produceApi.versionMax }).chain((version) =>
    messageIn(version).map((message) => ({
      version,
      sent: side(message, "sent"),
      kept: side(message, "kept"),
    })),
  );
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
      "0006" + ascii("orders"), // name
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
      "03" + ascii("tx"), // transactional_id: compact length 2 + 1
      "0001", // acks
      "000003e8", // timeout_ms: 1000
      "02", // topic_data: compact length 1 + 1
      "07" + ascii("orders"), // name
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
      "0006" + ascii("orders"), // name
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
      "07" + ascii("orders"), // name
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
      "00000002" + "03" + ascii("h2") + "00002384", // node_id, host, port
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
      "02" + "02" + ascii("t"), // responses: 1, name
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

  it("round-trips every version, dropping what a version cannot carry", () => {
    fc.assert(
      fc.property(versioned(requestIn), versioned(responseIn), (request, response) => {
        const reader = new Reader(encodeRequest(produceApi, request.version, request.sent).toBuffer());
        expect(decodeRequest(produceApi, request.version, reader)).toEqual(request.kept);
        expect(reader.remaining).toBe(0);
        const bytes = encodeResponse(produceApi, response.version, response.sent).toBuffer();
        expect(decodeResponse(produceApi, response.version, bytes)).toEqual(response.kept);
      }),
    );
  });

  it("throws DecodeError on a truncated frame", () => {
    fc.assert(
      fc.property(versioned(requestIn), versioned(responseIn), fc.nat(), (request, response, cut) => {
        const requestBytes = encodeRequest(produceApi, request.version, request.sent).toBuffer();
        const requestPrefix = requestBytes.subarray(0, cut % requestBytes.length);
        expect(() => decodeRequest(produceApi, request.version, new Reader(requestPrefix))).toThrow(
          DecodeError,
        );
        const responseBytes = encodeResponse(produceApi, response.version, response.sent).toBuffer();
        const responsePrefix = responseBytes.subarray(0, cut % responseBytes.length);
        expect(() => decodeResponse(produceApi, response.version, responsePrefix)).toThrow(DecodeError);
      }),
    );
  });
});
