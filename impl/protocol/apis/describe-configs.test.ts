import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { describeConfigsApi } from "./describe-configs.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    resources: wire.list(
      fc.record({
        resourceType: wire.int8,
        resourceName: wire.text,
        configurationKeys: wire.nullable(wire.list(wire.text)),
      }),
    ),
    includeSynonyms: carried(version >= 1, fc.boolean(), false),
    includeDocumentation: carried(version >= 3, fc.boolean(), false),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const config = fc.record({
    name: wire.text,
    value: wire.nullableText,
    readOnly: fc.boolean(),
    isDefault: carried(version === 0, fc.boolean(), false),
    configSource: carried(version >= 1, wire.int8, -1),
    isSensitive: fc.boolean(),
    synonyms: carried(
      version >= 1,
      wire.list(fc.record({ name: wire.text, value: wire.nullableText, source: wire.int8 })),
      [],
    ),
    configType: carried(version >= 3, wire.int8, 0),
    documentation: carried(version >= 3, wire.nullableText, null),
  });
  return fc.record({
    throttleTimeMs: wire.int32,
    results: wire.list(
      fc.record({
        errorCode: wire.int16,
        errorMessage: wire.nullableText,
        resourceType: wire.int8,
        resourceName: wire.text,
        configs: wire.list(config),
      }),
    ),
  });
}

const classicRequestHex =
  "00000001" + // resources: 1
  "02" + // resource_type TOPIC
  ("0003" + utf8("foo")) + // resource_name
  "00000001" + // configuration_keys: 1
  ("000c" + utf8("retention.ms")) +
  "01" + // include_synonyms
  "00"; // include_documentation

const flexibleRequestHex =
  "02" + // resources: 1 (compact, length + 1)
  "04" + // resource_type BROKER
  ("02" + utf8("1")) + // resource_name: the broker id
  "00" + // configuration_keys null: every key
  "00" + // resource tagged fields
  "00" + // include_synonyms
  "01" + // include_documentation
  "00"; // request tagged fields

const classicResponseHex =
  "00000000" + // throttle_time_ms
  "00000001" + // results: 1
  "0000" + // error_code
  "ffff" + // error_message null
  "02" + // resource_type TOPIC
  ("0003" + utf8("foo")) + // resource_name
  "00000001" + // configs: 1
  ("000c" + utf8("retention.ms")) + // name
  ("0004" + utf8("1000")) + // value
  "00" + // read_only
  "01" + // is_default, v0's only notion of where a value came from
  "00"; // is_sensitive

const flexibleResponseHex =
  "00000000" + // throttle_time_ms
  "02" + // results: 1
  "0000" + // error_code
  "00" + // error_message null
  "02" + // resource_type TOPIC
  ("04" + utf8("foo")) + // resource_name
  "02" + // configs: 1
  ("0f" + utf8("cleanup.policy")) + // name
  ("08" + utf8("compact")) + // value
  "00" + // read_only
  "01" + // config_source DYNAMIC_TOPIC_CONFIG
  "00" + // is_sensitive
  "02" + // synonyms: 1
  ("0f" + utf8("cleanup.policy")) + // synonym name
  ("08" + utf8("compact")) + // synonym value
  "01" + // synonym source
  "00" + // synonym tagged fields
  "02" + // config_type STRING
  "00" + // documentation null
  "00" + // config tagged fields
  "00" + // result tagged fields
  "00"; // response tagged fields

describe("DescribeConfigs", () => {
  it("encodes a v3 request byte for byte", () => {
    const request = {
      resources: [{ resourceType: 2, resourceName: "foo", configurationKeys: ["retention.ms"] }],
      includeSynonyms: true,
      includeDocumentation: false,
    };
    expect(encodeRequest(describeConfigsApi, 3, request).toBuffer().toString("hex")).toBe(classicRequestHex);
    expect(decodeRequest(describeConfigsApi, 3, new Reader(Buffer.from(classicRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("encodes a v4 request asking for every key of a broker", () => {
    const request = {
      resources: [{ resourceType: 4, resourceName: "1", configurationKeys: null }],
      includeDocumentation: true,
    };
    expect(encodeRequest(describeConfigsApi, 4, request).toBuffer().toString("hex")).toBe(flexibleRequestHex);
    expect(decodeRequest(describeConfigsApi, 4, new Reader(Buffer.from(flexibleRequestHex, "hex")))).toEqual({
      ...request,
      includeSynonyms: false,
    });
  });

  it("encodes a v0 response with is_default and without the newer fields", () => {
    const config = {
      name: "retention.ms",
      value: "1000",
      readOnly: false,
      isDefault: true,
      configSource: 5,
      isSensitive: false,
      synonyms: [{ name: "log.retention.ms", value: "1000", source: 5 }],
    };
    const response = {
      throttleTimeMs: 0,
      results: [
        { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: "foo", configs: [config] },
      ],
    };
    expect(encodeResponse(describeConfigsApi, 0, response).toBuffer().toString("hex")).toBe(
      classicResponseHex,
    );
    const decoded = decodeResponse(describeConfigsApi, 0, Buffer.from(classicResponseHex, "hex"));
    expect(decoded.results[0]?.configs[0]).toEqual({
      name: "retention.ms",
      value: "1000",
      readOnly: false,
      isDefault: true,
      configSource: -1,
      isSensitive: false,
      synonyms: [],
      configType: 0,
      documentation: null,
    });
  });

  it("encodes a v4 response with config source, synonyms and config type", () => {
    const response = {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: "foo",
          configs: [
            {
              name: "cleanup.policy",
              value: "compact",
              readOnly: false,
              isDefault: false,
              configSource: 1,
              isSensitive: false,
              synonyms: [{ name: "cleanup.policy", value: "compact", source: 1 }],
              configType: 2,
              documentation: null,
            },
          ],
        },
      ],
    };
    expect(encodeResponse(describeConfigsApi, 4, response).toBuffer().toString("hex")).toBe(
      flexibleResponseHex,
    );
    expect(decodeResponse(describeConfigsApi, 4, Buffer.from(flexibleResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(describeConfigsApi, requestIn, responseIn, {
    requests: { 3: classicRequestHex, 4: flexibleRequestHex },
    responses: { 0: classicResponseHex, 4: flexibleResponseHex },
  });
});
