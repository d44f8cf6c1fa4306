import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { offsetDeleteApi } from "./offset-delete.ts";

/** A request in the only version. */
const requestIn = () =>
  fc.record({
    groupId: wire.text,
    topics: wire.list(
      fc.record({ name: wire.text, partitions: wire.list(fc.record({ partitionIndex: wire.int32 })) }),
    ),
  });

/** A response in the only version. */
const responseIn = () =>
  fc.record({
    errorCode: wire.int16,
    throttleTimeMs: wire.int32,
    topics: wire.list(
      fc.record({
        name: wire.text,
        partitions: wire.list(fc.record({ partitionIndex: wire.int32, errorCode: wire.int16 })),
      }),
    ),
  });

const requestHex = [
  "0002" + utf8("g1"), // group_id
  "00000001", // topics: 1
  "0006" + utf8("orders"), // name
  "00000002", // partitions: 2
  "00000000", // partition_index
  "00000001", // partition_index
].join("");

const responseHex = [
  "0000", // error_code, before the throttle time
  "00000064", // throttle_time_ms 100
  "00000001", // topics: 1
  "0006" + utf8("orders"), // name
  "00000002", // partitions: 2
  "00000000" + "0056", // partition_index, error_code 86 GROUP_SUBSCRIBED_TO_TOPIC
  "00000001" + "0056",
].join("");

describe("OffsetDelete", () => {
  it("encodes a request byte for byte", () => {
    const request = {
      groupId: "g1",
      topics: [{ name: "orders", partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] }],
    };
    expect(encodeRequest(offsetDeleteApi, 0, request).toBuffer().toString("hex")).toBe(requestHex);
    expect(decodeRequest(offsetDeleteApi, 0, new Reader(Buffer.from(requestHex, "hex")))).toEqual(request);
  });

  it("encodes a response with the error code ahead of the throttle time", () => {
    const response = {
      errorCode: 0,
      throttleTimeMs: 100,
      topics: [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, errorCode: 86 },
            { partitionIndex: 1, errorCode: 86 },
          ],
        },
      ],
    };
    expect(encodeResponse(offsetDeleteApi, 0, response).toBuffer().toString("hex")).toBe(responseHex);
    expect(decodeResponse(offsetDeleteApi, 0, Buffer.from(responseHex, "hex"))).toEqual(response);
  });

  testCodecProperties(offsetDeleteApi, requestIn, responseIn, {
    requests: { 0: requestHex },
    responses: { 0: responseHex },
  });
});
