import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { fetchApi } from "./fetch.ts";

const ascii = (text: string) => Buffer.from(text, "ascii").toString("hex");
const topicId = "000102030405060708090a0b0c0d0e0f";
/** Stands in for a record batch: the grammar carries records as opaque bytes. */
const batch = Buffer.from("deadbeef", "hex");

const int8 = fc.integer({ min: -0x80, max: 0x7f });
const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const text = fc.string({ unit: "grapheme", maxLength: 6 });
const nullableText = fc.option(text, { nil: null });
const uuid = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((bytes) => Buffer.from(bytes).toString("hex"));
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

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partition: int32,
    currentLeaderEpoch: carried(version >= 9, int32, -1),
    fetchOffset: int64,
    lastFetchedEpoch: carried(version >= 12, int32, -1),
    logStartOffset: carried(version >= 5, int64, -1n),
    partitionMaxBytes: int32,
  });
  return fc.record({
    clusterId: carried(version >= 12, nullableText, null),
    replicaId: carried(version <= 14, int32, -1),
    replicaState: carried(version >= 15, fc.record({ replicaId: int32, replicaEpoch: int64 }), {
      replicaId: -1,
      replicaEpoch: -1n,
    }),
    maxWaitMs: int32,
    minBytes: int32,
    maxBytes: int32,
    isolationLevel: int8,
    sessionId: carried(version >= 7, int32, 0),
    sessionEpoch: carried(version >= 7, int32, -1),
    topics: list(
      fc.record({
        topic: carried(version <= 12, text, ""),
        topicId: carried(version >= 13, uuid, zeroUuid),
        partitions: list(partition),
      }),
    ),
    forgottenTopicsData: carried(
      version >= 7,
      list(
        fc.record({
          topic: carried(version <= 12, text, ""),
          topicId: carried(version >= 13, uuid, zeroUuid),
          partitions: list(int32),
        }),
      ),
      [],
    ),
    rackId: carried(version >= 11, text, ""),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    partitionIndex: int32,
    errorCode: int16,
    highWatermark: int64,
    lastStableOffset: int64,
    logStartOffset: carried(version >= 5, int64, -1n),
    divergingEpoch: carried(version >= 12, fc.record({ epoch: int32, endOffset: int64 }), {
      epoch: -1,
      endOffset: -1n,
    }),
    currentLeader: carried(version >= 12, fc.record({ leaderId: int32, leaderEpoch: int32 }), {
      leaderId: -1,
      leaderEpoch: -1,
    }),
    snapshotId: carried(version >= 12, fc.record({ endOffset: int64, epoch: int32 }), {
      endOffset: -1n,
      epoch: -1,
    }),
    abortedTransactions: fc.option(list(fc.record({ producerId: int64, firstOffset: int64 })), { nil: null }),
    preferredReadReplica: carried(version >= 11, int32, -1),
    records: fc.option(recordBytes, { nil: null }),
  });
  return fc.record({
    throttleTimeMs: int32,
    errorCode: carried(version >= 7, int16, 0),
    sessionId: carried(version >= 7, int32, 0),
    responses: list(
      fc.record({
        topic: carried(version <= 12, text, ""),
        topicId: carried(version >= 13, uuid, zeroUuid),
        partitions: list(partition),
      }),
    ),
    nodeEndpoints: carried(
      version >= 16,
      list(fc.record({ nodeId: int32, host: text, port: int32, rack: nullableText })),
      [],
    ),
  });
}

function versioned<T>(messageIn: (version: number) => fc.Arbitrary<T>) {
  return fc.integer({ min: fetchApi.versionMin, max: fetchApi.versionMax }).chain((version) =>
    messageIn(version).map((message) => ({
      version,
      sent: side(message, "sent"),
      kept: side(message, "kept"),
    })),
  );
}

describe("Fetch", () => {
  it("encodes a v4 consumer request byte for byte", () => {
    const request = {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 1,
      topics: [
        { topic: "orders", partitions: [{ partition: 0, fetchOffset: 100n, partitionMaxBytes: 1048576 }] },
      ],
    };
    const hex = [
      "ffffffff", // replica_id: -1, a consumer
      "000001f4", // max_wait_ms: 500
      "00000001", // min_bytes
      "00100000", // max_bytes: 1 MiB
      "01", // isolation_level: read_committed
      "00000001", // topics: 1
      "0006" + ascii("orders"), // topic
      "00000001", // partitions: 1
      "00000000", // partition
      "0000000000000064", // fetch_offset: 100
      "00100000", // partition_max_bytes
    ].join("");
    expect(encodeRequest(fetchApi, 4, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(fetchApi, 4, new Reader(Buffer.from(hex, "hex")))).toMatchObject(request);
  });

  it("encodes a v15 follower request with the cluster id and replica state as tagged fields", () => {
    const request = {
      clusterId: "c1",
      replicaState: { replicaId: 2, replicaEpoch: 7n },
      maxWaitMs: 500,
      minBytes: 1,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topicId,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: 3,
              fetchOffset: 100n,
              lastFetchedEpoch: 3,
              logStartOffset: 0n,
              partitionMaxBytes: 1048576,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    };
    const hex = [
      "000001f4", // max_wait_ms; no replica_id after v14
      "00000001", // min_bytes
      "7fffffff", // max_bytes: default INT32_MAX
      "00", // isolation_level
      "00000000", // session_id
      "ffffffff", // session_epoch: -1, no session
      "02", // topics: compact length 1 + 1
      topicId, // topic_id
      "02", // partitions: 1
      "00000000", // partition
      "00000003", // current_leader_epoch
      "0000000000000064", // fetch_offset
      "00000003", // last_fetched_epoch
      "0000000000000000", // log_start_offset
      "00100000", // partition_max_bytes
      "00", // partition tag buffer
      "00", // topic tag buffer
      "01", // forgotten_topics_data: []
      "01", // rack_id: ""
      "02", // tagged fields: 2, in tag order
      "00" + "03" + "03" + ascii("c1"), // tag 0 (cluster_id), 3 bytes
      "01" + "0d", // tag 1 (replica_state), 13 bytes
      "00000002" + "0000000000000007" + "00", // replica_id, replica_epoch, the struct's own tag buffer
    ].join("");
    expect(encodeRequest(fetchApi, 15, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(fetchApi, 15, new Reader(Buffer.from(hex, "hex")))).toEqual({
      ...request,
      replicaId: -1,
      maxBytes: 0x7fffffff,
      topics: [{ ...request.topics[0], topic: "" }],
    });
  });

  it("encodes a v4 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      responses: [
        {
          topic: "orders",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 100n,
              lastStableOffset: 100n,
              abortedTransactions: null,
              records: batch,
            },
          ],
        },
      ],
    };
    const hex = [
      "00000000", // throttle_time_ms
      "00000001", // responses: 1
      "0006" + ascii("orders"), // topic
      "00000001", // partitions: 1
      "00000000", // partition_index
      "0000", // error_code
      "0000000000000064", // high_watermark
      "0000000000000064", // last_stable_offset
      "ffffffff", // aborted_transactions: null
      "00000004" + "deadbeef", // records
    ].join("");
    expect(encodeResponse(fetchApi, 4, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(fetchApi, 4, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("encodes a v12 response with a diverging epoch for a follower to truncate to", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: "orders",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 90n,
              lastStableOffset: 90n,
              logStartOffset: 0n,
              divergingEpoch: { epoch: 3, endOffset: 80n },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: Buffer.alloc(0),
            },
          ],
        },
      ],
    };
    const hex = [
      "00000000", // throttle_time_ms
      "0000", // error_code
      "00000000", // session_id
      "02", // responses: 1
      "07" + ascii("orders"), // topic: still a name in v12
      "02", // partitions: 1
      "00000000", // partition_index
      "0000", // error_code
      "000000000000005a", // high_watermark: 90
      "000000000000005a", // last_stable_offset
      "0000000000000000", // log_start_offset
      "00", // aborted_transactions: null
      "ffffffff", // preferred_read_replica: -1
      "01", // records: empty
      "01", // partition tagged fields: 1
      "00" + "0d", // tag 0 (diverging_epoch), 13 bytes
      "00000003" + "0000000000000050" + "00", // epoch, end_offset: 80, the struct's own tag buffer
      "00", // topic tag buffer
      "00", // tag buffer
    ].join("");
    expect(encodeResponse(fetchApi, 12, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(fetchApi, 12, Buffer.from(hex, "hex"))).toMatchObject({
      ...response,
      responses: [
        {
          partitions: [
            {
              ...response.responses[0]?.partitions[0],
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
              snapshotId: { endOffset: -1n, epoch: -1 },
            },
          ],
        },
      ],
    });
  });

  it("encodes a v16 NOT_LEADER_OR_FOLLOWER response with the new leader and its endpoint", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topicId,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 6,
              highWatermark: -1n,
              lastStableOffset: -1n,
              logStartOffset: -1n,
              currentLeader: { leaderId: 2, leaderEpoch: 7 },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: null,
            },
          ],
        },
      ],
      nodeEndpoints: [{ nodeId: 2, host: "h2", port: 9092, rack: null }],
    };
    const hex = [
      "00000000" + "0000" + "00000000", // throttle_time_ms, error_code, session_id
      "02", // responses: 1
      topicId, // topic_id
      "02", // partitions: 1
      "00000000", // partition_index
      "0006", // error_code: NOT_LEADER_OR_FOLLOWER
      "ffffffffffffffff", // high_watermark
      "ffffffffffffffff", // last_stable_offset
      "ffffffffffffffff", // log_start_offset
      "00", // aborted_transactions: null
      "ffffffff", // preferred_read_replica
      "00", // records: null
      "01", // partition tagged fields: 1
      "01" + "09", // tag 1 (current_leader), 9 bytes
      "00000002" + "00000007" + "00", // leader_id, leader_epoch, the struct's own tag buffer
      "00", // topic tag buffer
      "01", // tagged fields: 1
      "00" + "0e", // tag 0 (node_endpoints), 14 bytes
      "02", // node_endpoints: 1
      "00000002" + "03" + ascii("h2") + "00002384", // node_id, host, port
      "00" + "00", // rack: null, endpoint tag buffer
    ].join("");
    expect(encodeResponse(fetchApi, 16, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(fetchApi, 16, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("decodes a snapshot id and skips a tag it does not know", () => {
    const hex = [
      "00000000" + "0000" + "00000000", // throttle_time_ms, error_code, session_id
      "02" + topicId + "02", // responses: 1, topic_id, partitions: 1
      "00000000" + "0000", // partition_index, error_code
      "0000000000000064" + "0000000000000064" + "0000000000000032", // high watermark, LSO, log start 50
      "00" + "ffffffff" + "00", // aborted_transactions, preferred_read_replica, records: null
      "02", // partition tagged fields: 2
      "02" + "0d" + "0000000000000032" + "00000004" + "00", // tag 2 (snapshot_id): end_offset 50, epoch 4
      "09" + "02" + "abcd", // tag 9: unknown to this version, skipped by its size
      "00", // topic tag buffer
      "00", // tag buffer
    ].join("");
    const partition = decodeResponse(fetchApi, 13, Buffer.from(hex, "hex")).responses[0]?.partitions[0];
    expect(partition?.snapshotId).toEqual({ endOffset: 50n, epoch: 4 });
    expect(partition?.divergingEpoch).toEqual({ epoch: -1, endOffset: -1n });
  });

  it("round-trips every version, dropping what a version cannot carry", () => {
    fc.assert(
      fc.property(versioned(requestIn), versioned(responseIn), (request, response) => {
        const reader = new Reader(encodeRequest(fetchApi, request.version, request.sent).toBuffer());
        expect(decodeRequest(fetchApi, request.version, reader)).toEqual(request.kept);
        expect(reader.remaining).toBe(0);
        const bytes = encodeResponse(fetchApi, response.version, response.sent).toBuffer();
        expect(decodeResponse(fetchApi, response.version, bytes)).toEqual(response.kept);
      }),
    );
  });

  it("throws DecodeError on a truncated frame", () => {
    fc.assert(
      fc.property(versioned(requestIn), versioned(responseIn), fc.nat(), (request, response, cut) => {
        const requestBytes = encodeRequest(fetchApi, request.version, request.sent).toBuffer();
        const requestPrefix = requestBytes.subarray(0, cut % requestBytes.length);
        expect(() => decodeRequest(fetchApi, request.version, new Reader(requestPrefix))).toThrow(
          DecodeError,
        );
        const responseBytes = encodeResponse(fetchApi, response.version, response.sent).toBuffer();
        const responsePrefix = responseBytes.subarray(0, cut % responseBytes.length);
        expect(() => decodeResponse(fetchApi, response.version, responsePrefix)).toThrow(DecodeError);
      }),
    );
  });
});
