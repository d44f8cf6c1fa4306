import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { metadataApi } from "./metadata.ts";

const ascii = (text: string) => Buffer.from(text, "ascii").toString("hex");
const topicId = "000102030405060708090a0b0c0d0e0f";

const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const text = fc.string({ unit: "grapheme", maxLength: 6 });
const uuid = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((bytes) => Buffer.from(bytes).toString("hex"));
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

/** Null where the version allows it; elsewhere a null is written as the empty value. */
function nullableWhen<T>(nullable: boolean, arbitrary: fc.Arbitrary<T>, empty: T): fc.Arbitrary<T | null> {
  const value = fc.option(arbitrary, { nil: null });
  return nullable
    ? value
    : value.map((sent) => (sent === null ? (new Dropped(null, empty) as unknown as T) : sent));
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
  return fc.record({
    topics: nullableWhen(
      version >= 1,
      list(
        fc.record({
          topicId: carried(version >= 10, uuid, zeroUuid),
          name: nullableWhen(version >= 10, text, ""),
        }),
      ),
      [],
    ),
    allowAutoTopicCreation: carried(version >= 4, fc.boolean(), true),
    includeClusterAuthorizedOperations: carried(version >= 8 && version <= 10, fc.boolean(), false),
    includeTopicAuthorizedOperations: carried(version >= 8, fc.boolean(), false),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    errorCode: int16,
    partitionIndex: int32,
    leaderId: int32,
    leaderEpoch: carried(version >= 7, int32, -1),
    replicaNodes: list(int32),
    isrNodes: list(int32),
    offlineReplicas: carried(version >= 5, list(int32), []),
  });
  return fc.record({
    throttleTimeMs: carried(version >= 3, int32, 0),
    brokers: list(
      fc.record({
        nodeId: int32,
        host: text,
        port: int32,
        rack: carried(version >= 1, fc.option(text, { nil: null }), null),
      }),
    ),
    clusterId: carried(version >= 2, fc.option(text, { nil: null }), null),
    controllerId: carried(version >= 1, int32, -1),
    topics: list(
      fc.record({
        errorCode: int16,
        name: nullableWhen(version >= 12, text, ""),
        topicId: carried(version >= 10, uuid, zeroUuid),
        isInternal: carried(version >= 1, fc.boolean(), false),
        partitions: list(partition),
        topicAuthorizedOperations: carried(version >= 8, int32, -2147483648),
      }),
    ),
    clusterAuthorizedOperations: carried(version >= 8 && version <= 10, int32, -2147483648),
  });
}

function versioned<T>(messageIn: (version: number) => fc.Arbitrary<T>) {
  return fc.integer({ min: metadataApi.versionMin, max: metadataApi.versionMax }).chain((version) =>
    messageIn(version).map((message) => ({
      version,
      sent: side(message, "sent"),
      kept: side(message, "kept"),
    })),
  );
}

describe("Metadata", () => {
  it("encodes a v4 request byte for byte", () => {
    const request = { topics: [{ name: "orders" }], allowAutoTopicCreation: false };
    const hex = [
      "00000001", // topics: 1
      "0006" + ascii("orders"), // name
      "00", // allow_auto_topic_creation
    ].join("");
    expect(encodeRequest(metadataApi, 4, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(metadataApi, 4, new Reader(Buffer.from(hex, "hex")))).toMatchObject(request);
  });

  it("reads a null topic list as a request for every topic from v1", () => {
    expect(decodeRequest(metadataApi, 1, new Reader(Buffer.from("ffffffff", "hex"))).topics).toBeNull();
  });

  it("accepts topic entries smaller than the fields later versions add", () => {
    // Two one-letter names take 6 bytes; a topic id (v10+) must not count toward an entry's minimum size.
    const hex = "00000002" + "0001" + ascii("a") + "0001" + ascii("b");
    const request = decodeRequest(metadataApi, 1, new Reader(Buffer.from(hex, "hex")));
    expect(request.topics?.map((topic) => topic.name)).toEqual(["a", "b"]);
  });

  it("encodes a v10 request for a topic by id, with compact fields and tag buffers", () => {
    const request = {
      topics: [{ topicId, name: null }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    };
    const hex = [
      "02", // topics: compact length 1 + 1
      topicId, // topic_id
      "00", // name: null
      "00", // topic tag buffer: empty
      "01", // allow_auto_topic_creation
      "00", // include_cluster_authorized_operations (8-10)
      "01", // include_topic_authorized_operations
      "00", // tag buffer: empty
    ].join("");
    expect(encodeRequest(metadataApi, 10, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(metadataApi, 10, new Reader(Buffer.from(hex, "hex")))).toEqual(request);
  });

  it("encodes a v12 request without the cluster authorized operations flag", () => {
    const request = {
      topics: [{ topicId: zeroUuid, name: "orders" }],
      includeTopicAuthorizedOperations: false,
    };
    const hex = [
      "02", // topics: 1
      zeroUuid, // topic_id
      "07" + ascii("orders"), // name: compact length 6 + 1
      "00", // topic tag buffer
      "01", // allow_auto_topic_creation: default true
      "00", // include_topic_authorized_operations
      "00", // tag buffer
    ].join("");
    expect(encodeRequest(metadataApi, 12, request).toBuffer().toString("hex")).toBe(hex);
  });

  it("encodes a v0 response byte for byte", () => {
    const response = {
      brokers: [{ nodeId: 1, host: "h1", port: 9092 }],
      topics: [
        {
          errorCode: 0,
          name: "orders",
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
        },
      ],
    };
    const hex = [
      "00000001", // brokers: 1
      "00000001", // node_id
      "0002" + ascii("h1"), // host
      "00002384", // port 9092
      "00000001", // topics: 1
      "0000", // error_code
      "0006" + ascii("orders"), // name
      "00000001", // partitions: 1
      "0000", // error_code
      "00000000", // partition_index
      "00000001", // leader_id
      "00000001" + "00000001", // replica_nodes: [1]
      "00000001" + "00000001", // isr_nodes: [1]
    ].join("");
    expect(encodeResponse(metadataApi, 0, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(metadataApi, 0, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("encodes a v12 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: "h1", port: 9092, rack: null }],
      clusterId: "c1",
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: "orders",
          topicId,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 5,
              replicaNodes: [1],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: -2147483648,
        },
      ],
    };
    const hex = [
      "00000000", // throttle_time_ms
      "02", // brokers: 1
      "00000001", // node_id
      "03" + ascii("h1"), // host
      "00002384", // port
      "00", // rack: null
      "00", // broker tag buffer
      "03" + ascii("c1"), // cluster_id
      "00000001", // controller_id
      "02", // topics: 1
      "0000", // error_code
      "07" + ascii("orders"), // name
      topicId, // topic_id
      "00", // is_internal
      "02", // partitions: 1
      "0000", // error_code
      "00000000", // partition_index
      "00000001", // leader_id
      "00000005", // leader_epoch
      "02" + "00000001", // replica_nodes: [1]
      "02" + "00000001", // isr_nodes: [1]
      "01", // offline_replicas: []
      "00", // partition tag buffer
      "80000000", // topic_authorized_operations: INT32_MIN, not asked for
      "00", // topic tag buffer
      "00", // tag buffer; no cluster_authorized_operations after v10
    ].join("");
    expect(encodeResponse(metadataApi, 12, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(metadataApi, 12, Buffer.from(hex, "hex"))).toEqual({
      ...response,
      clusterAuthorizedOperations: -2147483648,
    });
  });

  it("round-trips every version, dropping what a version cannot carry", () => {
    fc.assert(
      fc.property(versioned(requestIn), versioned(responseIn), (request, response) => {
        const reader = new Reader(encodeRequest(metadataApi, request.version, request.sent).toBuffer());
        expect(decodeRequest(metadataApi, request.version, reader)).toEqual(request.kept);
        expect(reader.remaining).toBe(0);
        const bytes = encodeResponse(metadataApi, response.version, response.sent).toBuffer();
        expect(decodeResponse(metadataApi, response.version, bytes)).toEqual(response.kept);
      }),
    );
  });

  it("throws DecodeError on a truncated frame", () => {
    fc.assert(
      fc.property(versioned(requestIn), versioned(responseIn), fc.nat(), (request, response, cut) => {
        const requestBytes = encodeRequest(metadataApi, request.version, request.sent).toBuffer();
        const requestPrefix = requestBytes.subarray(0, cut % requestBytes.length);
        expect(() => decodeRequest(metadataApi, request.version, new Reader(requestPrefix))).toThrow(
          DecodeError,
        );
        const responseBytes = encodeResponse(metadataApi, response.version, response.sent).toBuffer();
        const responsePrefix = responseBytes.subarray(0, cut % responseBytes.length);
        expect(() => decodeResponse(metadataApi, response.version, responsePrefix)).toThrow(DecodeError);
      }),
    );
  });
});
