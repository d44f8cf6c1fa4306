import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { apiVersionsApi } from "./api-versions.ts";

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
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.record({ apiKey: fc.nat(100), minVersion: fc.nat(5), maxVersion: fc.nat(20) })),
        fc.nat(1000),
        (version, apiKeys, throttleTimeMs) => {
          const input = { errorCode: 0, apiKeys, throttleTimeMs: version >= 1 ? throttleTimeMs : 0 };
          const decoded = decodeResponse(
            apiVersionsApi,
            version,
            encodeResponse(apiVersionsApi, version, input).toBuffer(),
          );
          expect(decoded.apiKeys).toEqual(apiKeys);
          expect(decoded.throttleTimeMs).toBe(input.throttleTimeMs);
          const request = { clientSoftwareName: "c", clientSoftwareVersion: "1" };
          const back = decodeRequest(
            apiVersionsApi,
            version,
            new Reader(encodeRequest(apiVersionsApi, version, request).toBuffer()),
          );
          expect(back.clientSoftwareName).toBe(version >= 3 ? "c" : "");
        },
      ),
    );
  });
});
