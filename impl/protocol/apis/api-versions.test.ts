import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { apiVersionsApi } from "./api-versions.ts";
import { assertRoundTrips, carried, wire } from "./codec-test-support.ts";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    clientSoftwareName: carried(version >= 3, wire.text, ""),
    clientSoftwareVersion: carried(version >= 3, wire.text, ""),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  return fc.record({
    errorCode: wire.int16,
    apiKeys: wire.list(fc.record({ apiKey: wire.int16, minVersion: wire.int16, maxVersion: wire.int16 })),
    throttleTimeMs: carried(version >= 1, wire.int32, 0),
    supportedFeatures: carried(
      version >= 3,
      wire.list(fc.record({ name: wire.text, minVersion: wire.int16, maxVersion: wire.int16 })),
      [],
    ),
    finalizedFeaturesEpoch: carried(version >= 3, wire.int64, -1n),
    finalizedFeatures: carried(
      version >= 3,
      wire.list(fc.record({ name: wire.text, maxVersionLevel: wire.int16, minVersionLevel: wire.int16 })),
      [],
    ),
    zkMigrationReady: carried(version >= 3, fc.boolean(), false),
  });
}

describe("ApiVersions", () => {
  it("encodes a v0 response byte for byte", () => {
    const bytes = encodeResponse(apiVersionsApi, 0, {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
    }).toBuffer();
    expect(bytes.toString("hex")).toBe("0000" + "00000001" + "0012" + "0000" + "0004");
  });

  it("encodes a v3 response with compact arrays and a tagged finalized-features epoch", () => {
    const bytes = encodeResponse(apiVersionsApi, 3, {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      finalizedFeaturesEpoch: 5n,
    }).toBuffer();
    // error, compact array (len+1=2), one entry + its empty tag buffer, throttle, one tagged field (tag 1, size 8)
    expect(bytes.toString("hex")).toBe(
      "0000" + "02" + "0012" + "0000" + "0004" + "00" + "00000000" + "01" + "01" + "08" + "0000000000000005",
    );
    expect(decodeResponse(apiVersionsApi, 3, bytes).finalizedFeaturesEpoch).toBe(5n);
  });

  it("decodes a v3 request from librdkafka's bytes", () => {
    const hex =
      "0b" + Buffer.from("librdkafka").toString("hex") + "06" + Buffer.from("2.0.2").toString("hex") + "00";
    const request = decodeRequest(apiVersionsApi, 3, new Reader(Buffer.from(hex, "hex")));
    expect(request).toEqual({ clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2" });
  });

  it("round-trips every version", () => {
    assertRoundTrips(apiVersionsApi, requestIn, responseIn);
  });
});
