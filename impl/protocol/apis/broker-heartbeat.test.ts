import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { brokerHeartbeatApi } from "./broker-heartbeat.ts";
import { carried, testCodecProperties, wire } from "./codec-test-support.ts";

function requestIn(version: number) {
  return fc.record({
    brokerId: wire.int32,
    brokerEpoch: wire.int64,
    currentMetadataOffset: wire.int64,
    wantFence: fc.boolean(),
    wantShutDown: fc.boolean(),
    offlineLogDirs: carried(version >= 1, wire.list(wire.uuid), []),
  });
}

function responseIn() {
  return fc.record({
    throttleTimeMs: wire.int32,
    errorCode: wire.int16,
    isCaughtUp: fc.boolean(),
    isFenced: fc.boolean(),
    shouldShutDown: fc.boolean(),
  });
}

const shutDownRequestHex = [
  "00000002", // broker_id 2
  "0000000000000007", // broker_epoch 7
  "000000000000002a", // current_metadata_offset 42
  "00", // want_fence false
  "01", // want_shut_down true
  "00", // request tag buffer
].join("");

const offlineDirsRequestHex = [
  shutDownRequestHex.slice(0, -2),
  "01", // one tagged field
  "00", // tag 0: offline_log_dirs
  "11", // its size: 17 bytes
  "02", // compact array of one
  "0102030405060708090a0b0c0d0e0f10", // the directory's uuid
].join("");

const grantedResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "01", // is_caught_up
  "00", // is_fenced false
  "01", // should_shut_down
  "00", // response tag buffer
].join("");

describe("BrokerHeartbeat", () => {
  const request = {
    brokerId: 2,
    brokerEpoch: 7n,
    currentMetadataOffset: 42n,
    wantFence: false,
    wantShutDown: true,
    offlineLogDirs: [],
  };

  it("encodes a v0 request to shut down byte for byte", () => {
    expect(encodeRequest(brokerHeartbeatApi, 0, request).toBuffer().toString("hex")).toBe(shutDownRequestHex);
    expect(decodeRequest(brokerHeartbeatApi, 0, new Reader(Buffer.from(shutDownRequestHex, "hex")))).toEqual(
      request,
    );
  });

  it("carries offline log directories as tag 0 from v1 only", () => {
    const withDirs = { ...request, offlineLogDirs: ["0102030405060708090a0b0c0d0e0f10"] };
    expect(encodeRequest(brokerHeartbeatApi, 1, withDirs).toBuffer().toString("hex")).toBe(
      offlineDirsRequestHex,
    );
    expect(encodeRequest(brokerHeartbeatApi, 0, withDirs).toBuffer().toString("hex")).toBe(
      shutDownRequestHex,
    );
  });

  it("encodes a granted shutdown byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      isCaughtUp: true,
      isFenced: false,
      shouldShutDown: true,
    };
    expect(encodeResponse(brokerHeartbeatApi, 1, response).toBuffer().toString("hex")).toBe(
      grantedResponseHex,
    );
    expect(decodeResponse(brokerHeartbeatApi, 1, Buffer.from(grantedResponseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(brokerHeartbeatApi, requestIn, responseIn, {
    requests: { 0: shutDownRequestHex, 1: offlineDirsRequestHex },
    responses: { 0: grantedResponseHex, 1: grantedResponseHex },
  });
});
