import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { carried, nullableWhen, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { metadataApi } from "./metadata.ts";

const topicId = "000102030405060708090a0b0c0d0e0f";

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  return fc.record({
    topics: nullableWhen(
      version >= 1,
      wire.list(
        fc.record({
          topicId: carried(version >= 10, wire.uuid, zeroUuid),
          name: nullableWhen(version >= 10, wire.text, ""),
        }),
      ),
      [],
    ),
    allowAutoTopicCreation: carried(version >= 4, fc.boolean(), true),
    includeClusterAuthorizedOperations: carried(version >= 8 && version <= 10, fc.boolean(), false),
    includeTopicAuthorizedOperations: carried(version >= 8, fc.boolean(), false),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    errorCode: wire.int16,
    partitionIndex: wire.int32,
    leaderId: wire.int32,
    leaderEpoch: carried(version >= 7, wire.int32, -1),
    replicaNodes: wire.list(wire.int32),
    isrNodes: wire.list(wire.int32),
    offlineReplicas: carried(version >= 5, wire.list(wire.int32), []),
  });
  return fc.record({
    throttleTimeMs: carried(version >= 3, wire.int32, 0),
    brokers: wire.list(
      fc.record({
        nodeId: wire.int32,
        host: wire.text,
        port: wire.int32,
        rack: carried(version >= 1, wire.nullableText, null),
      }),
    ),
    clusterId: carried(version >= 2, wire.nullableText, null),
    controllerId: carried(version >= 1, wire.int32, -1),
    topics: wire.list(
      fc.record({
        errorCode: wire.int16,
        name: nullableWhen(version >= 12, wire.text, ""),
        topicId: carried(version >= 10, wire.uuid, zeroUuid),
        isInternal: carried(version >= 1, fc.boolean(), false),
        partitions: wire.list(partition),
        topicAuthorizedOperations: carried(version >= 8, wire.int32, -2147483648),
      }),
    ),
    clusterAuthorizedOperations: carried(version >= 8 && version <= 10, wire.int32, -2147483648),
  });
}

describe("Metadata", () => {
  it("encodes a v4 request byte for byte", () => {
    const request = { topics: [{ name: "orders" }], allowAutoTopicCreation: false };
    const hex = [
      "00000001", // topics: 1
      "0006" + utf8("orders"), // name
      "00", // allow_auto_topic_creation
    ].join("");
    expect(encodeRequest(metadataApi, 4, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(metadataApi, 4, new Reader(Buffer.from(hex, "hex")))).toMatchObject(request);
  });

  it("reads a null topic list as a request for every topic from v1", () => {
    expect(decodeRequest(metadataApi, 1, new Reader(Buffer.from("ffffffff", "hex"))).topics).toBeNull();
  });

  it("accepts topic entries smaller than the fields later versions add", () => {
    // Two one-letter names take 6 bytes; a topic id (v10+) must not count toward an entry's minimum size.
    const hex = "00000002" + "0001" + utf8("a") + "0001" + utf8("b");
    const request = decodeRequest(metadataApi, 1, new Reader(Buffer.from(hex, "hex")));
    expect(request.topics?.map((topic) => topic.name)).toEqual(["a", "b"]);
  });

  it("encodes a v10 request for a topic by id, with compact fields and tag buffers", () => {
    const request = {
      topics: [{ topicId, name: null }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    };
    const hex = [
      "02", // topics: compact length 1 + 1
      topicId, // topic_id
      "00", // name: null
      "00", // topic tag buffer: empty
      "01", // allow_auto_topic_creation
      "00", // include_cluster_authorized_operations (8-10)
      "01", // include_topic_authorized_operations
      "00", // tag buffer: empty
    ].join("");
    expect(encodeRequest(metadataApi, 10, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(metadataApi, 10, new Reader(Buffer.from(hex, "hex")))).toEqual(request);
  });

  it("encodes a v12 request without the cluster authorized operations flag", () => {
    const request = {
      topics: [{ topicId: zeroUuid, name: "orders" }],
      includeTopicAuthorizedOperations: false,
    };
    const hex = [
      "02", // topics: 1
      zeroUuid, // topic_id
      "07" + utf8("orders"), // name: compact length 6 + 1
      "00", // topic tag buffer
      "01", // allow_auto_topic_creation: default true
      "00", // include_topic_authorized_operations
      "00", // tag buffer
    ].join("");
    expect(encodeRequest(metadataApi, 12, request).toBuffer().toString("hex")).toBe(hex);
  });

  it("encodes a v0 response byte for byte", () => {
    const response = {
      brokers: [{ nodeId: 1, host: "h1", port: 9092 }],
      topics: [
        {
          errorCode: 0,
          name: "orders",
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
        },
      ],
    };
    const hex = [
      "00000001", // brokers: 1
      "00000001", // node_id
      "0002" + utf8("h1"), // host
      "00002384", // port 9092
      "00000001", // topics: 1
      "0000", // error_code
      "0006" + utf8("orders"), // name
      "00000001", // partitions: 1
      "0000", // error_code
      "00000000", // partition_index
      "00000001", // leader_id
      "00000001" + "00000001", // replica_nodes: [1]
      "00000001" + "00000001", // isr_nodes: [1]
    ].join("");
    expect(encodeResponse(metadataApi, 0, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(metadataApi, 0, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("encodes a v12 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: "h1", port: 9092, rack: null }],
      clusterId: "c1",
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: "orders",
          topicId,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 5,
              replicaNodes: [1],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: -2147483648,
        },
      ],
    };
    const hex = [
      "00000000", // throttle_time_ms
      "02", // brokers: 1
      "00000001", // node_id
      "03" + utf8("h1"), // host
      "00002384", // port
      "00", // rack: null
      "00", // broker tag buffer
      "03" + utf8("c1"), // cluster_id
      "00000001", // controller_id
      "02", // topics: 1
      "0000", // error_code
      "07" + utf8("orders"), // name
      topicId, // topic_id
      "00", // is_internal
      "02", // partitions: 1
      "0000", // error_code
      "00000000", // partition_index
      "00000001", // leader_id
      "00000005", // leader_epoch
      "02" + "00000001", // replica_nodes: [1]
      "02" + "00000001", // isr_nodes: [1]
      "01", // offline_replicas: []
      "00", // partition tag buffer
      "80000000", // topic_authorized_operations: INT32_MIN, not asked for
      "00", // topic tag buffer
      "00", // tag buffer; no cluster_authorized_operations after v10
    ].join("");
    expect(encodeResponse(metadataApi, 12, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(metadataApi, 12, Buffer.from(hex, "hex"))).toEqual({
      ...response,
      clusterAuthorizedOperations: -2147483648,
    });
  });

  testCodecProperties(metadataApi, requestIn, responseIn);
});
