import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../api.ts";
import { Reader } from "../reader.ts";
import { zeroUuid } from "../schema.ts";
import { carried, testCodecProperties, utf8, wire } from "./codec-test-support.ts";
import { fetchApi } from "./fetch.ts";

const topicId = "000102030405060708090a0b0c0d0e0f";
/** Stands in for a record batch: the grammar carries records as opaque bytes. */
const batch = Buffer.from("deadbeef", "hex");

/** A topic as Fetch names it, by name up to v12 and by id from v13, with its partitions. */
function topicIn<T>(version: number, partition: fc.Arbitrary<T>) {
  return fc.record({
    topic: carried(version <= 12, wire.text, ""),
    topicId: carried(version >= 13, wire.uuid, zeroUuid),
    partitions: wire.list(partition),
  });
}

/** A request for `version`, with values in the fields it cannot carry. */
function requestIn(version: number) {
  const partition = fc.record({
    partition: wire.int32,
    currentLeaderEpoch: carried(version >= 9, wire.int32, -1),
    fetchOffset: wire.int64,
    lastFetchedEpoch: carried(version >= 12, wire.int32, -1),
    logStartOffset: carried(version >= 5, wire.int64, -1n),
    partitionMaxBytes: wire.int32,
  });
  return fc.record({
    clusterId: carried(version >= 12, wire.nullableText, null),
    replicaId: carried(version <= 14, wire.int32, -1),
    replicaState: carried(version >= 15, fc.record({ replicaId: wire.int32, replicaEpoch: wire.int64 }), {
      replicaId: -1,
      replicaEpoch: -1n,
    }),
    maxWaitMs: wire.int32,
    minBytes: wire.int32,
    maxBytes: wire.int32,
    isolationLevel: wire.int8,
    sessionId: carried(version >= 7, wire.int32, 0),
    sessionEpoch: carried(version >= 7, wire.int32, -1),
    topics: wire.list(topicIn(version, partition)),
    forgottenTopicsData: carried(version >= 7, wire.list(topicIn(version, wire.int32)), []),
    rackId: carried(version >= 11, wire.text, ""),
  });
}

/** A response for `version`, with values in the fields it cannot carry. */
function responseIn(version: number) {
  const partition = fc.record({
    partitionIndex: wire.int32,
    errorCode: wire.int16,
    highWatermark: wire.int64,
    lastStableOffset: wire.int64,
    logStartOffset: carried(version >= 5, wire.int64, -1n),
    divergingEpoch: carried(version >= 12, fc.record({ epoch: wire.int32, endOffset: wire.int64 }), {
      epoch: -1,
      endOffset: -1n,
    }),
    currentLeader: carried(version >= 12, wire.leaderIdAndEpoch, { leaderId: -1, leaderEpoch: -1 }),
    snapshotId: carried(version >= 12, fc.record({ endOffset: wire.int64, epoch: wire.int32 }), {
      endOffset: -1n,
      epoch: -1,
    }),
    abortedTransactions: wire.nullable(
      wire.list(fc.record({ producerId: wire.int64, firstOffset: wire.int64 })),
    ),
    preferredReadReplica: carried(version >= 11, wire.int32, -1),
    records: wire.nullable(wire.recordBytes),
  });
  return fc.record({
    throttleTimeMs: wire.int32,
    errorCode: carried(version >= 7, wire.int16, 0),
    sessionId: carried(version >= 7, wire.int32, 0),
    responses: wire.list(topicIn(version, partition)),
    nodeEndpoints: carried(version >= 16, wire.list(wire.nodeEndpoint), []),
  });
}

describe("Fetch", () => {
  it("encodes a v4 consumer request byte for byte", () => {
    const request = {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 1,
      topics: [
        { topic: "orders", partitions: [{ partition: 0, fetchOffset: 100n, partitionMaxBytes: 1048576 }] },
      ],
    };
    const hex = [
      "ffffffff", // replica_id: -1, a consumer
      "000001f4", // max_wait_ms: 500
      "00000001", // min_bytes
      "00100000", // max_bytes: 1 MiB
      "01", // isolation_level: read_committed
      "00000001", // topics: 1
      "0006" + utf8("orders"), // topic
      "00000001", // partitions: 1
      "00000000", // partition
      "0000000000000064", // fetch_offset: 100
      "00100000", // partition_max_bytes
    ].join("");
    expect(encodeRequest(fetchApi, 4, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(fetchApi, 4, new Reader(Buffer.from(hex, "hex")))).toMatchObject(request);
  });

  it("encodes a v15 follower request with the cluster id and replica state as tagged fields", () => {
    const request = {
      clusterId: "c1",
      replicaState: { replicaId: 2, replicaEpoch: 7n },
      maxWaitMs: 500,
      minBytes: 1,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topicId,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: 3,
              fetchOffset: 100n,
              lastFetchedEpoch: 3,
              logStartOffset: 0n,
              partitionMaxBytes: 1048576,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    };
    const hex = [
      "000001f4", // max_wait_ms; no replica_id after v14
      "00000001", // min_bytes
      "7fffffff", // max_bytes: default INT32_MAX
      "00", // isolation_level
      "00000000", // session_id
      "ffffffff", // session_epoch: -1, no session
      "02", // topics: compact length 1 + 1
      topicId, // topic_id
      "02", // partitions: 1
      "00000000", // partition
      "00000003", // current_leader_epoch
      "0000000000000064", // fetch_offset
      "00000003", // last_fetched_epoch
      "0000000000000000", // log_start_offset
      "00100000", // partition_max_bytes
      "00", // partition tag buffer
      "00", // topic tag buffer
      "01", // forgotten_topics_data: []
      "01", // rack_id: ""
      "02", // tagged fields: 2, in tag order
      "00" + "03" + "03" + utf8("c1"), // tag 0 (cluster_id), 3 bytes
      "01" + "0d", // tag 1 (replica_state), 13 bytes
      "00000002" + "0000000000000007" + "00", // replica_id, replica_epoch, the struct's own tag buffer
    ].join("");
    expect(encodeRequest(fetchApi, 15, request).toBuffer().toString("hex")).toBe(hex);
    expect(decodeRequest(fetchApi, 15, new Reader(Buffer.from(hex, "hex")))).toEqual({
      ...request,
      replicaId: -1,
      maxBytes: 0x7fffffff,
      topics: [{ ...request.topics[0], topic: "" }],
    });
  });

  it("encodes a v4 response byte for byte", () => {
    const response = {
      throttleTimeMs: 0,
      responses: [
        {
          topic: "orders",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 100n,
              lastStableOffset: 100n,
              abortedTransactions: null,
              records: batch,
            },
          ],
        },
      ],
    };
    const hex = [
      "00000000", // throttle_time_ms
      "00000001", // responses: 1
      "0006" + utf8("orders"), // topic
      "00000001", // partitions: 1
      "00000000", // partition_index
      "0000", // error_code
      "0000000000000064", // high_watermark
      "0000000000000064", // last_stable_offset
      "ffffffff", // aborted_transactions: null
      "00000004" + "deadbeef", // records
    ].join("");
    expect(encodeResponse(fetchApi, 4, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(fetchApi, 4, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("encodes a v12 response with a diverging epoch for a follower to truncate to", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: "orders",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 90n,
              lastStableOffset: 90n,
              logStartOffset: 0n,
              divergingEpoch: { epoch: 3, endOffset: 80n },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: Buffer.alloc(0),
            },
          ],
        },
      ],
    };
    const hex = [
      "00000000", // throttle_time_ms
      "0000", // error_code
      "00000000", // session_id
      "02", // responses: 1
      "07" + utf8("orders"), // topic: still a name in v12
      "02", // partitions: 1
      "00000000", // partition_index
      "0000", // error_code
      "000000000000005a", // high_watermark: 90
      "000000000000005a", // last_stable_offset
      "0000000000000000", // log_start_offset
      "00", // aborted_transactions: null
      "ffffffff", // preferred_read_replica: -1
      "01", // records: empty
      "01", // partition tagged fields: 1
      "00" + "0d", // tag 0 (diverging_epoch), 13 bytes
      "00000003" + "0000000000000050" + "00", // epoch, end_offset: 80, the struct's own tag buffer
      "00", // topic tag buffer
      "00", // tag buffer
    ].join("");
    expect(encodeResponse(fetchApi, 12, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(fetchApi, 12, Buffer.from(hex, "hex"))).toMatchObject({
      ...response,
      responses: [
        {
          partitions: [
            {
              ...response.responses[0]?.partitions[0],
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
              snapshotId: { endOffset: -1n, epoch: -1 },
            },
          ],
        },
      ],
    });
  });

  it("encodes a v16 NOT_LEADER_OR_FOLLOWER response with the new leader and its endpoint", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topicId,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 6,
              highWatermark: -1n,
              lastStableOffset: -1n,
              logStartOffset: -1n,
              currentLeader: { leaderId: 2, leaderEpoch: 7 },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: null,
            },
          ],
        },
      ],
      nodeEndpoints: [{ nodeId: 2, host: "h2", port: 9092, rack: null }],
    };
    const hex = [
      "00000000" + "0000" + "00000000", // throttle_time_ms, error_code, session_id
      "02", // responses: 1
      topicId, // topic_id
      "02", // partitions: 1
      "00000000", // partition_index
      "0006", // error_code: NOT_LEADER_OR_FOLLOWER
      "ffffffffffffffff", // high_watermark
      "ffffffffffffffff", // last_stable_offset
      "ffffffffffffffff", // log_start_offset
      "00", // aborted_transactions: null
      "ffffffff", // preferred_read_replica
      "00", // records: null
      "01", // partition tagged fields: 1
      "01" + "09", // tag 1 (current_leader), 9 bytes
      "00000002" + "00000007" + "00", // leader_id, leader_epoch, the struct's own tag buffer
      "00", // topic tag buffer
      "01", // tagged fields: 1
      "00" + "0e", // tag 0 (node_endpoints), 14 bytes
      "02", // node_endpoints: 1
      "00000002" + "03" + utf8("h2") + "00002384", // node_id, host, port
      "00" + "00", // rack: null, endpoint tag buffer
    ].join("");
    expect(encodeResponse(fetchApi, 16, response).toBuffer().toString("hex")).toBe(hex);
    expect(decodeResponse(fetchApi, 16, Buffer.from(hex, "hex"))).toMatchObject(response);
  });

  it("decodes a snapshot id and skips a tag it does not know", () => {
    const hex = [
      "00000000" + "0000" + "00000000", // throttle_time_ms, error_code, session_id
      "02" + topicId + "02", // responses: 1, topic_id, partitions: 1
      "00000000" + "0000", // partition_index, error_code
      "0000000000000064" + "0000000000000064" + "0000000000000032", // high watermark, LSO, log start 50
      "00" + "ffffffff" + "00", // aborted_transactions, preferred_read_replica, records: null
      "02", // partition tagged fields: 2
      "02" + "0d" + "0000000000000032" + "00000004" + "00", // tag 2 (snapshot_id): end_offset 50, epoch 4
      "09" + "02" + "abcd", // tag 9: unknown to this version, skipped by its size
      "00", // topic tag buffer
      "00", // tag buffer
    ].join("");
    const partition = decodeResponse(fetchApi, 13, Buffer.from(hex, "hex")).responses[0]?.partitions[0];
    expect(partition?.snapshotId).toEqual({ endOffset: 50n, epoch: 4 });
    expect(partition?.divergingEpoch).toEqual({ epoch: -1, endOffset: -1n });
  });

  testCodecProperties(fetchApi, requestIn, responseIn);
});
