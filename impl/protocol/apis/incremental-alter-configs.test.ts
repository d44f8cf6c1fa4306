import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { incrementalAlterConfigsApi } from "./incremental-alter-configs.ts";

/** Requests look alike in both versions: only the encoding differs. */
function requestIn(_version: number) {
  return fc.record({
    resources: wire.list(
      fc.record({
        resourceType: wire.int8,
        resourceName: wire.text,
        configs: wire.list(
          fc.record({ name: wire.text, configOperation: wire.int8, value: wire.nullableText }),
        ),
      }),
    ),
    validateOnly: fc.boolean(),
  });
}

function responseIn(_version: number) {
  return fc.record({
    throttleTimeMs: wire.int32,
    responses: wire.list(
      fc.record({
        errorCode: wire.int16,
        errorMessage: wire.nullableText,
        resourceType: wire.int8,
        resourceName: wire.text,
      }),
    ),
  });
}

const setName = "retention.ms";
const deleteName = "min.insync.replicas";

const v0RequestHex =
  "00000001" + // resources: 1
  "02" + // resource_type 2 TOPIC
  ("0003" + utf8("foo")) + // resource_name
  "00000002" + // configs: 2
  ("000c" + utf8(setName) + "00" + ("0004" + utf8("1000"))) + // SET retention.ms=1000
  ("0013" + utf8(deleteName) + "01" + "ffff") + // DELETE min.insync.replicas, value null
  "01"; // validate_only true

const v1RequestHex =
  "02" + // resources: 1 (compact, length + 1)
  "02" + // resource_type 2 TOPIC
  ("04" + utf8("foo")) + // resource_name
  "02" + // configs: 1
  ("0d" + utf8(setName) + "00" + ("05" + utf8("1000")) + "00") + // SET, config tagged fields
  "00" + // resource tagged fields
  "00" + // validate_only false
  "00"; // request tagged fields

const v0ResponseHex =
  "00000000" + // throttle_time_ms
  "00000001" + // responses: 1
  "0028" + // error_code 40 INVALID_CONFIG
  ("0003" + utf8("bad")) + // error_message
  "02" + // resource_type
  ("0003" + utf8("foo")); // resource_name

const v1ResponseHex =
  "00000000" + // throttle_time_ms
  "02" + // responses: 1
  "0000" + // error_code NONE
  "00" + // error_message null
  "02" + // resource_type
  ("04" + utf8("foo")) + // resource_name
  "00" + // response tagged fields
  "00"; // tagged fields

describe("IncrementalAlterConfigs", () => {
  it("encodes a v0 request with a SET and a DELETE byte for byte", () => {
    const request = {
      resources: [
        {
          resourceType: 2,
          resourceName: "foo",
          configs: [
            { name: setName, configOperation: 0, value: "1000" },
            { name: deleteName, configOperation: 1, value: null },
          ],
        },
      ],
      validateOnly: true,
    };
    expect(encodeRequest(incrementalAlterConfigsApi, 0, request).toBuffer().toString("hex")).toBe(
      v0RequestHex,
    );
    expect(
      decodeRequest(incrementalAlterConfigsApi, 0, new Reader(Buffer.from(v0RequestHex, "hex"))),
    ).toEqual(request);
  });

  it("encodes a v1 request with compact strings", () => {
    const request = {
      resources: [
        {
          resourceType: 2,
          resourceName: "foo",
          configs: [{ name: setName, configOperation: 0, value: "1000" }],
        },
      ],
      validateOnly: false,
    };
    expect(encodeRequest(incrementalAlterConfigsApi, 1, request).toBuffer().toString("hex")).toBe(
      v1RequestHex,
    );
  });

  it("encodes v0 and v1 responses byte for byte", () => {
    const refused = {
      throttleTimeMs: 0,
      responses: [{ errorCode: 40, errorMessage: "bad", resourceType: 2, resourceName: "foo" }],
    };
    expect(encodeResponse(incrementalAlterConfigsApi, 0, refused).toBuffer().toString("hex")).toBe(
      v0ResponseHex,
    );
    const accepted = {
      throttleTimeMs: 0,
      responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: "foo" }],
    };
    expect(encodeResponse(incrementalAlterConfigsApi, 1, accepted).toBuffer().toString("hex")).toBe(
      v1ResponseHex,
    );
    expect(decodeResponse(incrementalAlterConfigsApi, 1, Buffer.from(v1ResponseHex, "hex"))).toEqual(
      accepted,
    );
  });

  testCodecProperties(incrementalAlterConfigsApi, requestIn, responseIn, {
    requests: { 0: v0RequestHex, 1: v1RequestHex },
    responses: { 0: v0ResponseHex, 1: v1ResponseHex },
  });
});
