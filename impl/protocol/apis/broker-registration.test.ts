import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { brokerRegistrationApi } from "./broker-registration.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";

function requestIn(version: number) {
  return fc.record({
    brokerId: wire.int32,
    clusterId: wire.text,
    incarnationId: wire.uuid,
    listeners: wire.list(
      fc.record({ name: wire.text, host: wire.text, port: wire.uint16, securityProtocol: wire.int16 }),
    ),
    features: wire.list(
      fc.record({ name: wire.text, minSupportedVersion: wire.int16, maxSupportedVersion: wire.int16 }),
    ),
    rack: wire.nullableText,
    isMigratingZkBroker: carried(version >= 1, fc.boolean(), false),
    logDirs: carried(version >= 2, wire.list(wire.uuid), []),
    previousBrokerEpoch: carried(version >= 3, wire.int64, -1n),
  });
}

const responseIn = () =>
  fc.record({ throttleTimeMs: wire.int32, errorCode: wire.int16, brokerEpoch: wire.int64 });

const incarnation = "0123456789abcdef0123456789abcdef";
const logDir = "fedcba9876543210fedcba9876543210";

const version3RequestHex = [
  "00000002", // broker_id
  "05" + utf8("ABCD"), // cluster_id (compact, length + 1)
  incarnation, // incarnation_id
  "02", // listeners: 1
  "0a" + utf8("PLAINTEXT"), // name
  "0a" + utf8("127.0.0.1"), // host
  "2384", // port: 9092
  "0000", // security_protocol: PLAINTEXT
  "00", // listener tag buffer
  "01", // features: 0
  "00", // rack: null
  "00", // is_migrating_zk_broker: false
  "02" + logDir, // log_dirs: 1
  "0000000000000007", // previous_broker_epoch
  "00", // request tag buffer
].join("");

const responseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "000000000000002a", // broker_epoch: 42
  "00", // response tag buffer
].join("");

describe("BrokerRegistration", () => {
  it("encodes a v3 request byte for byte", () => {
    const request = {
      brokerId: 2,
      clusterId: "ABCD",
      incarnationId: incarnation,
      listeners: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 9092, securityProtocol: 0 }],
      features: [],
      rack: null,
      isMigratingZkBroker: false,
      logDirs: [logDir],
      previousBrokerEpoch: 7n,
    };
    expect(encodeRequest(brokerRegistrationApi, 3, request).toBuffer().toString("hex")).toBe(
      version3RequestHex,
    );
    expect(
      decodeRequest(brokerRegistrationApi, 3, new Reader(Buffer.from(version3RequestHex, "hex"))),
    ).toEqual(request);
  });

  it("encodes a response byte for byte, the same in every version", () => {
    const response = { throttleTimeMs: 0, errorCode: 0, brokerEpoch: 42n };
    for (const version of [0, 4]) {
      expect(encodeResponse(brokerRegistrationApi, version, response).toBuffer().toString("hex")).toBe(
        responseHex,
      );
      expect(decodeResponse(brokerRegistrationApi, version, Buffer.from(responseHex, "hex"))).toEqual(
        response,
      );
    }
  });

  testCodecProperties(brokerRegistrationApi, requestIn, responseIn, {
    requests: { 3: version3RequestHex },
    responses: { 0: responseHex },
  });
});
