import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { testCodecProperties, wire } from "./codec-test-support.ts";
import { envelopeApi } from "./envelope.ts";

const requestIn = () =>
  fc.record({
    requestData: wire.recordBytes,
    requestPrincipal: wire.nullable(wire.recordBytes),
    clientHostAddress: wire.recordBytes,
  });
const responseIn = () => fc.record({ responseData: wire.nullable(wire.recordBytes), errorCode: wire.int16 });

const requestHex = [
  "04" + "0a0b0c", // request_data: 3 bytes (compact, length + 1)
  "00", // request_principal: null
  "05" + "7f000001", // client_host_address: 127.0.0.1
  "00", // request tag buffer
].join("");

const responseHex = [
  "03" + "0d0e", // response_data: 2 bytes
  "0000", // error_code
  "00", // response tag buffer
].join("");

describe("Envelope", () => {
  it("encodes a request byte for byte", () => {
    const request = {
      requestData: Buffer.from("0a0b0c", "hex"),
      requestPrincipal: null,
      clientHostAddress: Buffer.from([127, 0, 0, 1]),
    };
    expect(encodeRequest(envelopeApi, 0, request).toBuffer().toString("hex")).toBe(requestHex);
    expect(decodeRequest(envelopeApi, 0, new Reader(Buffer.from(requestHex, "hex")))).toEqual(request);
  });

  it("encodes a response byte for byte, and a refusal without data", () => {
    const response = { responseData: Buffer.from("0d0e", "hex"), errorCode: 0 };
    expect(encodeResponse(envelopeApi, 0, response).toBuffer().toString("hex")).toBe(responseHex);
    expect(decodeResponse(envelopeApi, 0, Buffer.from(responseHex, "hex"))).toEqual(response);
    // NOT_CONTROLLER (41) with null data: what a node that does not lead answers.
    const refusal = { responseData: null, errorCode: 41 };
    expect(encodeResponse(envelopeApi, 0, refusal).toBuffer().toString("hex")).toBe("00002900");
  });

  testCodecProperties(envelopeApi, requestIn, responseIn, {
    requests: { 0: requestHex },
    responses: { 0: responseHex },
  });
});
