import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { createTopicsApi } from "./create-topics.ts";

const topicId = "000102030405060708090a0b0c0d0e0f";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    topics: wire.list(
      fc.record({
        name: wire.text,
        numPartitions: wire.int32,
        replicationFactor: wire.int16,
        assignments: wire.list(fc.record({ partitionIndex: wire.int32, brokerIds: wire.list(wire.int32) })),
        configs: wire.list(fc.record({ name: wire.text, value: wire.nullableText })),
      }),
    ),
    timeoutMs: wire.int32,
    validateOnly: carried(version >= 1, fc.boolean(), false),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    throttleTimeMs: carried(version >= 2, wire.int32, 0),
    topics: wire.list(
      fc.record({
        name: wire.text,
        topicId: carried(version >= 7, wire.uuid, zeroUuid),
        errorCode: wire.int16,
        errorMessage: wire.nullableText,
        topicConfigErrorCode: carried(version >= 5, wire.int16, 0),
        numPartitions: carried(version >= 5, wire.int32, -1),
        replicationFactor: carried(version >= 5, wire.int16, -1),
        configs: carried(
          version >= 5,
          wire.nullable(
            wire.list(
              fc.record({
                name: wire.text,
                value: wire.nullableText,
                readOnly: fc.boolean(),
                configSource: wire.int8,
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
  ("0003" + utf8("foo")) + // name
  "00000003" + // num_partitions
  "0001" + // replication_factor
  "00000000" + // assignments: 0
  "00000001" + // configs: 1
  ("000e" + utf8("cleanup.policy")) + // config name
  ("0007" + utf8("compact")) + // config value
  "00007530" + // timeout_ms 30000
  "00"; // validate_only

const flexibleRequestHex =
  "02" + // topics: 1 (compact, length + 1)
  ("04" + utf8("foo")) + // name
  "ffffffff" + // num_partitions -1: taken from the assignments
  "ffff" + // replication_factor -1
  "02" + // assignments: 1
  "00000000" + // partition_index 0
  ("03" + "00000001" + "00000002") + // broker_ids [1, 2]
  "00" + // assignment tagged fields
  "02" + // configs: 1
  ("0d" + utf8("retention.ms")) + // config name
  "00" + // config value null
  "00" + // config tagged fields
  "00" + // topic tagged fields
  "0000ea60" + // timeout_ms 60000
  "01" + // validate_only
  "00"; // request tagged fields

const classicResponseHex =
  "00000000" + // throttle_time_ms
  "00000002" + // topics: 2
  ("0003" + utf8("foo")) + // name
  "0000" + // error_code NONE
  "ffff" + // error_message null
  ("0003" + utf8("bar")) + // name
  "0024" + // error_code 36 TOPIC_ALREADY_EXISTS
  ("0006" + utf8("exists")); // error_message

const flexibleResponseHex =
  "00000000" + // throttle_time_ms
  "02" + // topics: 1
  ("04" + utf8("foo")) + // name
  topicId + // topic_id
  "0000" + // error_code
  "00" + // error_message null
  "00000003" + // num_partitions
  "0001" + // replication_factor
  "02" + // configs: 1
  ("0f" + utf8("cleanup.policy")) + // config name
  ("07" + utf8("delete")) + // config value
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

  testCodecProperties(createTopicsApi, requestIn, responseIn, {
    requests: { 2: classicRequestHex, 5: flexibleRequestHex },
    responses: { 2: classicResponseHex, 7: flexibleResponseHex },
  });
});
