import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { createTopicsApi } from "./create-topics.ts";

const text = (value: string) => Buffer.from(value, "utf8").toString("hex");
const topicId = "000102030405060708090a0b0c0d0e0f";

/** The arbitrary in versions from `first` on; the grammar's default before, where the field is absent. */
function from<T>(version: number, first: number, arbitrary: fc.Arbitrary<T>, absent: T): fc.Arbitrary<T> {
  return version >= first ? arbitrary : fc.constant(absent);
}

const anyString = fc.string({ unit: "grapheme", maxLength: 20 });
const anyInt8 = fc.integer({ min: -128, max: 127 });
const anyInt16 = fc.integer({ min: -32_768, max: 32_767 });
const anyInt32 = fc.integer({ min: -2_147_483_648, max: 2_147_483_647 });
const anyUuid = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((bytes) => Buffer.from(bytes).toString("hex"));

function anyRequest(version: number) {
  return fc.record({
    topics: fc.array(
      fc.record({
        name: anyString,
        numPartitions: anyInt32,
        replicationFactor: anyInt16,
        assignments: fc.array(fc.record({ partitionIndex: anyInt32, brokerIds: fc.array(anyInt32) })),
        configs: fc.array(fc.record({ name: anyString, value: fc.option(anyString) })),
      }),
    ),
    timeoutMs: anyInt32,
    validateOnly: from(version, 1, fc.boolean(), false),
  });
}

function anyResponse(version: number) {
  return fc.record({
    throttleTimeMs: from(version, 2, anyInt32, 0),
    topics: fc.array(
      fc.record({
        name: anyString,
        topicId: from(version, 7, anyUuid, "00000000000000000000000000000000"),
        errorCode: anyInt16,
        errorMessage: fc.option(anyString),
        topicConfigErrorCode: from(version, 5, anyInt16, 0),
        numPartitions: from(version, 5, anyInt32, -1),
        replicationFactor: from(version, 5, anyInt16, -1),
        configs: from(
          version,
          5,
          fc.option(
            fc.array(
              fc.record({
                name: anyString,
                value: fc.option(anyString),
                readOnly: fc.boolean(),
                configSource: anyInt8,
                isSensitive: fc.boolean(),
              }),
            ),
          ),
          [],
        ),
      }),
    ),
  });
}

const classicRequestHex =
  "00000001" + // topics: 1
  ("0003" + text("foo")) + // name
  "00000003" + // num_partitions
  "0001" + // replication_factor
  "00000000" + // assignments: 0
  "00000001" + // configs: 1
  ("000e" + text("cleanup.policy")) + // config name
  ("0007" + text("compact")) + // config value
  "00007530" + // timeout_ms 30000
  "00"; // validate_only

const flexibleRequestHex =
  "02" + // topics: 1 (compact, length + 1)
  ("04" + text("foo")) + // name
  "ffffffff" + // num_partitions -1: taken from the assignments
  "ffff" + // replication_factor -1
  "02" + // assignments: 1
  "00000000" + // partition_index 0
  ("03" + "00000001" + "00000002") + // broker_ids [1, 2]
  "00" + // assignment tagged fields
  "02" + // configs: 1
  ("0d" + text("retention.ms")) + // config name
  "00" + // config value null
  "00" + // config tagged fields
  "00" + // topic tagged fields
  "0000ea60" + // timeout_ms 60000
  "01" + // validate_only
  "00"; // request tagged fields

const classicResponseHex =
  "00000000" + // throttle_time_ms
  "00000002" + // topics: 2
  ("0003" + text("foo")) + // name
  "0000" + // error_code NONE
  "ffff" + // error_message null
  ("0003" + text("bar")) + // name
  "0024" + // error_code 36 TOPIC_ALREADY_EXISTS
  ("0006" + text("exists")); // error_message

const flexibleResponseHex =
  "00000000" + // throttle_time_ms
  "02" + // topics: 1
  ("04" + text("foo")) + // name
  topicId + // topic_id
  "0000" + // error_code
  "00" + // error_message null
  "00000003" + // num_partitions
  "0001" + // replication_factor
  "02" + // configs: 1
  ("0f" + text("cleanup.policy")) + // config name
  ("07" + text("delete")) + // config value
  "00" + // read_only
  "05" + // config_source DEFAULT_CONFIG
  "00" + // is_sensitive
  "00" + // config tagged fields
  ("01" + "00" + "02" + "001d") + // one tagged field: tag 0, 2 bytes, topic_config_error_code 29
  "00"; // response tagged fields

describe("CreateTopics", () => {
  it("encodes a v2 request byte for byte", () => {
    const request = {
      topics: [
        {
          name: "foo",
          numPartitions: 3,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: "cleanup.policy", value: "compact" }],
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    };
    expect(encodeRequest(createTopicsApi, 2, request).toBuffer().toString("hex")).toBe(classicRequestHex);
    expect(decodeRequest(createTopicsApi, 2, new Reader(Buffer.from(classicRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v5 request with compact arrays, a null config value and the default timeout", () => {
    const request = {
      topics: [
        {
          name: "foo",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
          configs: [{ name: "retention.ms", value: null }],
        },
      ],
      validateOnly: true,
    };
    expect(encodeRequest(createTopicsApi, 5, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    const decoded = decodeRequest(createTopicsApi, 5, new Reader(Buffer.from(flexibleRequestHex, "hex")));
    expect(decoded).toEqual({ ...request, timeoutMs: 60_000 });
  });

  it("encodes a v2 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      topics: [
        { name: "foo", errorCode: 0, errorMessage: null },
        { name: "bar", errorCode: 36, errorMessage: "exists" },
      ],
    };
    expect(encodeResponse(createTopicsApi, 2, response).toBuffer().toString("hex")).toBe(classicResponseHex);
    const decoded = decodeResponse(createTopicsApi, 2, Buffer.from(classicResponseHex, "hex"));
    expect(decoded.topics[1]).toMatchObject({ name: "bar", errorCode: 36, errorMessage: "exists" });
    // Fields newer than v2 decode to their defaults so handlers see one shape.
    expect(decoded.topics[0]).toMatchObject({ numPartitions: -1, replicationFactor: -1, configs: [] });
  });

  it("encodes a v7 response with a topic id and a tagged config error code", () => {
    const response = {
      throttleTimeMs: 0,
      topics: [
        {
          name: "foo",
          topicId,
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: 29,
          numPartitions: 3,
          replicationFactor: 1,
          configs: [
            { name: "cleanup.policy", value: "delete", readOnly: false, configSource: 5, isSensitive: false },
          ],
        },
      ],
    };
    expect(encodeResponse(createTopicsApi, 7, response).toBuffer().toString("hex")).toBe(flexibleResponseHex);
    expect(decodeResponse(createTopicsApi, 7, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  it("round-trips requests and responses in every version", () => {
    const versions = fc.integer({ min: createTopicsApi.versionMin, max: createTopicsApi.versionMax });
    fc.assert(
      fc.property(
        versions.chain((version) =>
          fc.tuple(fc.constant(version), anyRequest(version), anyResponse(version)),
        ),
        ([version, request, response]) => {
          const requestBytes = encodeRequest(createTopicsApi, version, request).toBuffer();
          const reader = new Reader(requestBytes);
          expect(decodeRequest(createTopicsApi, version, reader)).toEqual(request);
          expect(reader.remaining).toBe(0);
          const responseBytes = encodeResponse(createTopicsApi, version, response).toBuffer();
          expect(decodeResponse(createTopicsApi, version, responseBytes)).toEqual(response);
        },
      ),
    );
  });

  it("refuses every truncation of a frame with a DecodeError", () => {
    const requests: Array<[number, string]> = [
      [2, classicRequestHex],
      [5, flexibleRequestHex],
    ];
    for (const [version, hex] of requests) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const reader = new Reader(bytes.subarray(0, length));
        expect(() => decodeRequest(createTopicsApi, version, reader)).toThrow(DecodeError);
      }
    }
    const responses: Array<[number, string]> = [
      [2, classicResponseHex],
      [7, flexibleResponseHex],
    ];
    for (const [version, hex] of responses) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        expect(() => decodeResponse(createTopicsApi, version, bytes.subarray(0, length))).toThrow(
          DecodeError,
        );
      }
    }
  });
});
