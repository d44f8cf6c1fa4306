import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { describeConfigsApi } from "./describe-configs.ts";

const text = (value: string) => Buffer.from(value, "utf8").toString("hex");

/** The arbitrary in versions from `first` on; the grammar's default before, where the field is absent. */
function from<T>(version: number, first: number, arbitrary: fc.Arbitrary<T>, absent: T): fc.Arbitrary<T> {
  return version >= first ? arbitrary : fc.constant(absent);
}

const anyString = fc.string({ unit: "grapheme", maxLength: 20 });
const anyInt8 = fc.integer({ min: -128, max: 127 });
const anyInt16 = fc.integer({ min: -32_768, max: 32_767 });
const anyInt32 = fc.integer({ min: -2_147_483_648, max: 2_147_483_647 });

function anyRequest(version: number) {
  return fc.record({
    resources: fc.array(
      fc.record({
        resourceType: anyInt8,
        resourceName: anyString,
        configurationKeys: fc.option(fc.array(anyString)),
      }),
    ),
    includeSynonyms: from(version, 1, fc.boolean(), false),
    includeDocumentation: from(version, 3, fc.boolean(), false),
  });
}

function anyResponse(version: number) {
  const config = fc.record({
    name: anyString,
    value: fc.option(anyString),
    readOnly: fc.boolean(),
    isDefault: version === 0 ? fc.boolean() : fc.constant(false),
    configSource: from(version, 1, anyInt8, -1),
    isSensitive: fc.boolean(),
    synonyms: from(
      version,
      1,
      fc.array(fc.record({ name: anyString, value: fc.option(anyString), source: anyInt8 })),
      [],
    ),
    configType: from(version, 3, anyInt8, 0),
    documentation: from(version, 3, fc.option(anyString), null),
  });
  return fc.record({
    throttleTimeMs: anyInt32,
    results: fc.array(
      fc.record({
        errorCode: anyInt16,
        errorMessage: fc.option(anyString),
        resourceType: anyInt8,
        resourceName: anyString,
        configs: fc.array(config),
      }),
    ),
  });
}

const classicRequestHex =
  "00000001" + // resources: 1
  "02" + // resource_type TOPIC
  ("0003" + text("foo")) + // resource_name
  "00000001" + // configuration_keys: 1
  ("000c" + text("retention.ms")) +
  "01" + // include_synonyms
  "00"; // include_documentation

const flexibleRequestHex =
  "02" + // resources: 1 (compact, length + 1)
  "04" + // resource_type BROKER
  ("02" + text("1")) + // resource_name: the broker id
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
  ("0003" + text("foo")) + // resource_name
  "00000001" + // configs: 1
  ("000c" + text("retention.ms")) + // name
  ("0004" + text("1000")) + // value
  "00" + // read_only
  "01" + // is_default, v0's only notion of where a value came from
  "00"; // is_sensitive

const flexibleResponseHex =
  "00000000" + // throttle_time_ms
  "02" + // results: 1
  "0000" + // error_code
  "00" + // error_message null
  "02" + // resource_type TOPIC
  ("04" + text("foo")) + // resource_name
  "02" + // configs: 1
  ("0f" + text("cleanup.policy")) + // name
  ("08" + text("compact")) + // value
  "00" + // read_only
  "01" + // config_source DYNAMIC_TOPIC_CONFIG
  "00" + // is_sensitive
  "02" + // synonyms: 1
  ("0f" + text("cleanup.policy")) + // synonym name
  ("08" + text("compact")) + // synonym value
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

  it("round-trips requests and responses in every version", () => {
    const versions = fc.integer({ min: describeConfigsApi.versionMin, max: describeConfigsApi.versionMax });
    fc.assert(
      fc.property(
        versions.chain((version) =>
          fc.tuple(fc.constant(version), anyRequest(version), anyResponse(version)),
        ),
        ([version, request, response]) => {
          const requestBytes = encodeRequest(describeConfigsApi, version, request).toBuffer();
          const reader = new Reader(requestBytes);
          expect(decodeRequest(describeConfigsApi, version, reader)).toEqual(request);
          expect(reader.remaining).toBe(0);
          const responseBytes = encodeResponse(describeConfigsApi, version, response).toBuffer();
          expect(decodeResponse(describeConfigsApi, version, responseBytes)).toEqual(response);
        },
      ),
    );
  });

  it("refuses every truncation of a frame with a DecodeError", () => {
    const requests: Array<[number, string]> = [
      [3, classicRequestHex],
      [4, flexibleRequestHex],
    ];
    for (const [version, hex] of requests) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const reader = new Reader(bytes.subarray(0, length));
        expect(() => decodeRequest(describeConfigsApi, version, reader)).toThrow(DecodeError);
      }
    }
    const responses: Array<[number, string]> = [
      [0, classicResponseHex],
      [4, flexibleResponseHex],
    ];
    for (const [version, hex] of responses) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const truncated = bytes.subarray(0, length);
        expect(() => decodeResponse(describeConfigsApi, version, truncated)).toThrow(DecodeError);
      }
    }
  });
});
