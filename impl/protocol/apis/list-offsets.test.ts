import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { listOffsetsApi } from "./list-offsets.ts";

const ascii = (text: string) => Buffer.from(text, "ascii").toString("hex");

const int8 = fc.integer({ min: -0x80, max: 0x7f });
const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const text = fc.string({ unit: "grapheme", maxLength: 6 });
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

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partitionIndex: int32,
    currentLeaderEpoch: carried(version >= 4, int32, -1),
    timestamp: int64,
  });
  return fc.record({
    replicaId: int32,
    isolationLevel: carried(version >= 2, int8, 0),
    topics: list(fc.record({ name: text, partitions: list(partition) })),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    partitionIndex: int32,
    errorCode: int16,
    timestamp: int64,
    offset: int64,
    leaderEpoch: carried(version >= 4, int32, -1),
  });
  return fc.record({
    throttleTimeMs: carried(version >= 2, int32, 0),
    topics: list(fc.record({ name: text, partitions: list(partition) })),
  });
}

function versioned<T>(messageIn: (version: number) => fc.Arbitrary<T>) {
  return fc.integer({ min: listOffsetsApi.versionMin, max: listOffsetsApi.versionMax }).chain((version) =>
    messageIn(version).map((message) => ({
      version,
      sent: side(message, "sent"),
      kept: side(message, "kept"),
    })),
  );
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
      "0006" + ascii("orders"), // name
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
      "07" + ascii("orders"), // name
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
      "0006" + ascii("orders"), // name
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
      "07" + ascii("orders"), // name
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

  it("round-trips every version, dropping what a version cannot carry", () => {
    fc.assert(
      fc.property(versioned(requestIn), versioned(responseIn), (request, response) => {
        const reader = new Reader(encodeRequest(listOffsetsApi, request.version, request.sent).toBuffer());
        expect(decodeRequest(listOffsetsApi, request.version, reader)).toEqual(request.kept);
        expect(reader.remaining).toBe(0);
        const bytes = encodeResponse(listOffsetsApi, response.version, response.sent).toBuffer();
        expect(decodeResponse(listOffsetsApi, response.version, bytes)).toEqual(response.kept);
      }),
    );
  });

  it("throws DecodeError on a truncated frame", () => {
    fc.assert(
      fc.property(versioned(requestIn), versioned(responseIn), fc.nat(), (request, response, cut) => {
        const requestBytes = encodeRequest(listOffsetsApi, request.version, request.sent).toBuffer();
        const requestPrefix = requestBytes.subarray(0, cut % requestBytes.length);
        expect(() => decodeRequest(listOffsetsApi, request.version, new Reader(requestPrefix))).toThrow(
          DecodeError,
        );
        const responseBytes = encodeResponse(listOffsetsApi, response.version, response.sent).toBuffer();
        const responsePrefix = responseBytes.subarray(0, cut % responseBytes.length);
        expect(() => decodeResponse(listOffsetsApi, response.version, responsePrefix)).toThrow(DecodeError);
      }),
    );
  });
});
