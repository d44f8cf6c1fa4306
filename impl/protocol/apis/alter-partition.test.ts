import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { alterPartitionApi } from "./alter-partition.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";

const topicId = "5f1e2d3c4b5a69788796a5b4c3d2e1f0";

/** A topic as AlterPartition names it, by name up to v1 and by id from v2, with its partitions. */
function topicIn<T>(version: number, partition: fc.Arbitrary<T>) {
  return fc.record({
    topicName: carried(version <= 1, wire.text, ""),
    topicId: carried(version >= 2, wire.uuid, zeroUuid),
    partitions: wire.list(partition),
  });
}

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    leaderEpoch: wire.int32,
    newIsr: carried(version <= 2, wire.list(wire.int32), []),
    newIsrWithEpochs: carried(
      version >= 3,
      wire.list(fc.record({ brokerId: wire.int32, brokerEpoch: wire.int64 })),
      [],
    ),
    leaderRecoveryState: carried(version >= 1, wire.int8, 0),
    partitionEpoch: wire.int32,
  });
  return fc.record({
    brokerId: wire.int32,
    brokerEpoch: wire.int64,
    topics: wire.list(topicIn(version, partition)),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    errorCode: wire.int16,
    leaderId: wire.int32,
    leaderEpoch: wire.int32,
    isr: wire.list(wire.int32),
    leaderRecoveryState: carried(version >= 1, wire.int8, 0),
    partitionEpoch: wire.int32,
  });
  return fc.record({
    throttleTimeMs: wire.int32,
    errorCode: wire.int16,
    topics: wire.list(topicIn(version, partition)),
  });
}

// AlterPartition is flexible in every version: compact strings and arrays, a tag buffer after every struct.
const version0RequestHex = [
  "00000001", // broker_id: the partition leader
  "00000000000004d2", // broker_epoch: 1234
  "02", // topics: 1 (compact, length + 1)
  "07" + utf8("orders"), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "00000003", // leader_epoch
  "04", // new_isr: 3
  "00000001" + "00000002" + "00000003", // [1, 2, 3]
  "00000005", // partition_epoch; no leader_recovery_state before v1
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // request tag buffer
].join("");

const version3RequestHex = [
  "00000001", // broker_id
  "00000000000004d2", // broker_epoch: 1234
  "02", // topics: 1
  topicId, // topic_id
  "02", // partitions: 1
  "00000000", // partition_index
  "00000003", // leader_epoch
  "03", // new_isr_with_epochs: 2
  "00000001" + "00000000000004d2" + "00", // broker_id 1, broker_epoch 1234, member tag buffer
  "00000002" + "0000000000000640" + "00", // broker_id 2, broker_epoch 1600
  "00", // leader_recovery_state: recovered
  "00000005", // partition_epoch
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // request tag buffer
].join("");

const version0ResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "02", // topics: 1
  "07" + utf8("orders"), // topic_name
  "02", // partitions: 1
  "00000000", // partition_index
  "0000", // error_code
  "00000001", // leader_id
  "00000003", // leader_epoch
  "04" + "00000001" + "00000002" + "00000003", // isr: [1, 2, 3]
  "00000006", // partition_epoch: bumped by the commit
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // response tag buffer
].join("");

const version3ResponseHex = [
  "00000000", // throttle_time_ms
  "0000", // error_code
  "02", // topics: 1
  topicId, // topic_id
  "02", // partitions: 1
  "00000000", // partition_index
  "0000", // error_code
  "00000001", // leader_id
  "00000003", // leader_epoch
  "03" + "00000001" + "00000002", // isr: [1, 2]
  "00", // leader_recovery_state
  "00000006", // partition_epoch
  "00", // partition tag buffer
  "00", // topic tag buffer
  "00", // response tag buffer
].join("");

describe("AlterPartition", () => {
  it("encodes a v0 request byte for byte", () => {
    const request = {
      brokerId: 1,
      brokerEpoch: 1234n,
      topics: [
        {
          topicName: "orders",
          partitions: [{ partitionIndex: 0, leaderEpoch: 3, newIsr: [1, 2, 3], partitionEpoch: 5 }],
        },
      ],
    };
    expect(encodeRequest(alterPartitionApi, 0, request).toBuffer().toString("hex")).toBe(version0RequestHex);
    expect(decodeRequest(alterPartitionApi, 0, new Reader(Buffer.from(version0RequestHex, "hex")))).toEqual({
      brokerId: 1,
      brokerEpoch: 1234n,
      topics: [
        {
          topicName: "orders",
          topicId: zeroUuid,
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: 3,
              newIsr: [1, 2, 3],
              newIsrWithEpochs: [],
              leaderRecoveryState: 0,
              partitionEpoch: 5,
            },
          ],
        },
      ],
    });
  });

  it("encodes a v3 request naming the topic by id and each ISR member with its broker epoch", () => {
    const request = {
      brokerId: 1,
      brokerEpoch: 1234n,
      topics: [
        {
          topicId,
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: 3,
              newIsrWithEpochs: [
                { brokerId: 1, brokerEpoch: 1234n },
                { brokerId: 2, brokerEpoch: 1600n },
              ],
              leaderRecoveryState: 0,
              partitionEpoch: 5,
            },
          ],
        },
      ],
    };
    expect(encodeRequest(alterPartitionApi, 3, request).toBuffer().toString("hex")).toBe(version3RequestHex);
    const decoded = decodeRequest(alterPartitionApi, 3, new Reader(Buffer.from(version3RequestHex, "hex")));
    expect(decoded.topics[0]!.topicName).toBe("");
    expect(decoded.topics[0]!.partitions[0]!.newIsr).toEqual([]);
    expect(decoded.topics[0]!.partitions[0]!.newIsrWithEpochs).toEqual([
      { brokerId: 1, brokerEpoch: 1234n },
      { brokerId: 2, brokerEpoch: 1600n },
    ]);
  });

  it("writes the defaults of the broker epochs when they are left out", () => {
    const request = {
      brokerId: 1,
      topics: [
        {
          topicId,
          partitions: [
            { partitionIndex: 0, leaderEpoch: 3, newIsrWithEpochs: [{ brokerId: 2 }], partitionEpoch: 5 },
          ],
        },
      ],
    };
    const hex = [
      "00000001", // broker_id
      "ffffffffffffffff", // broker_epoch: default -1
      "02" + topicId, // topics: 1, topic_id
      "02" + "00000000" + "00000003", // partitions: 1, partition_index, leader_epoch
      "02" + "00000002" + "ffffffffffffffff" + "00", // new_isr_with_epochs: 1, broker 2 with epoch -1: unchecked
      "00", // leader_recovery_state: default 0
      "00000005", // partition_epoch
      "00" + "00" + "00", // partition, topic and request tag buffers
    ].join("");
    expect(encodeRequest(alterPartitionApi, 3, request).toBuffer().toString("hex")).toBe(hex);
  });

  it("writes only the ISR form and topic key each version has", () => {
    const partition = {
      partitionIndex: 0,
      leaderEpoch: 3,
      newIsr: [1, 2],
      newIsrWithEpochs: [{ brokerId: 1, brokerEpoch: 1234n }],
      leaderRecoveryState: 1,
      partitionEpoch: 5,
    };
    const request = {
      brokerId: 1,
      brokerEpoch: 1234n,
      topics: [{ topicName: "orders", topicId, partitions: [partition] }],
    };
    const prefix = "00000001" + "00000000000004d2" + "02"; // broker_id, broker_epoch, topics: 1
    const version1 = [
      prefix,
      "07" + utf8("orders"), // topic_name, through v1
      "02" + "00000000" + "00000003", // partitions: 1, partition_index, leader_epoch
      "03" + "00000001" + "00000002", // new_isr: [1, 2]
      "01", // leader_recovery_state: recovering, from v1
      "00000005" + "00" + "00" + "00", // partition_epoch and tag buffers
    ].join("");
    const version2 = [
      prefix,
      topicId, // topic_id, from v2
      "02" + "00000000" + "00000003",
      "03" + "00000001" + "00000002", // new_isr still, through v2
      "01",
      "00000005" + "00" + "00" + "00",
    ].join("");
    expect(encodeRequest(alterPartitionApi, 1, request).toBuffer().toString("hex")).toBe(version1);
    expect(encodeRequest(alterPartitionApi, 2, request).toBuffer().toString("hex")).toBe(version2);
  });

  it("refuses a null topic name, which is never nullable", () => {
    const hex = "00000001" + "00000000000004d2" + "02" + "00" + "01" + "00" + "00"; // topic_name: compact null
    expect(() => decodeRequest(alterPartitionApi, 1, new Reader(Buffer.from(hex, "hex")))).toThrow(
      DecodeError,
    );
  });

  it("encodes a v0 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      topics: [
        {
          topicName: "orders",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              leaderId: 1,
              leaderEpoch: 3,
              isr: [1, 2, 3],
              partitionEpoch: 6,
            },
          ],
        },
      ],
    };
    expect(encodeResponse(alterPartitionApi, 0, response).toBuffer().toString("hex")).toBe(
      version0ResponseHex,
    );
    const decoded = decodeResponse(alterPartitionApi, 0, Buffer.from(version0ResponseHex, "hex"));
    expect(decoded.topics[0]).toEqual({
      ...response.topics[0],
      topicId: zeroUuid,
      partitions: [{ ...response.topics[0]!.partitions[0]!, leaderRecoveryState: 0 }],
    });
  });

  it("encodes a v3 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      topics: [
        {
          topicName: "",
          topicId,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              leaderId: 1,
              leaderEpoch: 3,
              isr: [1, 2],
              leaderRecoveryState: 0,
              partitionEpoch: 6,
            },
          ],
        },
      ],
    };
    expect(encodeResponse(alterPartitionApi, 3, response).toBuffer().toString("hex")).toBe(
      version3ResponseHex,
    );
    expect(decodeResponse(alterPartitionApi, 3, Buffer.from(version3ResponseHex, "hex"))).toEqual(response);
  });

  it("encodes a v2 INELIGIBLE_REPLICA refusal", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      topics: [
        {
          topicId,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 107,
              leaderId: 1,
              leaderEpoch: 3,
              isr: [1],
              leaderRecoveryState: 0,
              partitionEpoch: 5,
            },
          ],
        },
      ],
    };
    const hex = [
      "00000000" + "0000", // throttle_time_ms, error_code
      "02" + topicId, // topics: 1, topic_id
      "02" + "00000000", // partitions: 1, partition_index
      "006b", // error_code: 107 INELIGIBLE_REPLICA
      "00000001" + "00000003", // leader_id, leader_epoch
      "02" + "00000001", // isr: [1], unchanged
      "00" + "00000005", // leader_recovery_state, partition_epoch
      "00" + "00" + "00", // partition, topic and response tag buffers
    ].join("");
    expect(encodeResponse(alterPartitionApi, 2, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(alterPartitionApi, 2, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  testCodecProperties(alterPartitionApi, requestIn, responseIn, {
    requests: { 0: version0RequestHex, 3: version3RequestHex },
    responses: { 0: version0ResponseHex, 3: version3ResponseHex },
  });
});
