/**
 * DescribeQuorum (key 55), versions 0-2; flexible from 0.
 *
 * DescribeQuorumRequest =>
 *   topics: [topic_name: STRING, partitions: [partition_index: INT32]]
 *
 * DescribeQuorumResponse =>
 *   error_code: INT16
 *   error_message: STRING (2+, nullable 2+)
 *   topics: [
 *     topic_name: STRING
 *     partitions: [
 *       partition_index: INT32
 *       error_code: INT16
 *       error_message: STRING (2+, nullable 2+)
 *       leader_id: INT32
 *       leader_epoch: INT32
 *       high_watermark: INT64
 *       current_voters: [ReplicaState]
 *       observers: [ReplicaState]
 *     ]
 *   ]
 *   nodes: [node_id: INT32, listeners: [name: STRING, host: STRING, port: UINT16]] (2+)
 *
 * ReplicaState =>
 *   replica_id: INT32
 *   replica_directory_id: UUID (2+)
 *   log_end_offset: INT64                     (-1: unknown)
 *   last_fetch_timestamp: INT64 (1+, default -1)
 *   last_caught_up_timestamp: INT64 (1+, default -1)
 *
 * The one read-only view of the quorum from outside: the conformance tests
 * compare it with the raft machine's state after every step. The request is
 * the same in every version; v1 (KIP-836) adds the fetch and caught-up times
 * of each replica, v2 (KIP-853) the error messages, directory ids and the
 * voters' listeners. The error messages have no default of their own, so a
 * v0 or v1 response decodes them as "", the empty string, not null; from v2
 * a message left out of the input is written as null.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, int64, string, struct, uuid } from "../schema.ts";
import { listener, quorumTopics } from "./quorum-shapes.ts";

const replicaState = struct({
  replicaId: field(int32),
  replicaDirectoryId: field(uuid, { v: "2+" }),
  logEndOffset: field(int64),
  lastFetchTimestamp: field(int64, { v: "1+", default: -1n }),
  lastCaughtUpTimestamp: field(int64, { v: "1+", default: -1n }),
});

export const describeQuorumApi = defineApi({
  key: 55,
  name: "DescribeQuorum",
  versionMin: 0,
  versionMax: 2,
  flexibleMin: 0,
  request: struct({
    topics: field(
      array(
        struct({
          topicName: field(string),
          partitions: field(array(struct({ partitionIndex: field(int32) }))),
        }),
      ),
    ),
  }),
  response: struct({
    errorCode: field(int16),
    errorMessage: field(string, { v: "2+", nullable: "2+" }),
    topics: field(
      quorumTopics(
        struct({
          partitionIndex: field(int32),
          errorCode: field(int16),
          errorMessage: field(string, { v: "2+", nullable: "2+" }),
          leaderId: field(int32),
          leaderEpoch: field(int32),
          highWatermark: field(int64),
          currentVoters: field(array(replicaState)),
          observers: field(array(replicaState)),
        }),
      ),
    ),
    nodes: field(
      array(
        struct({
          nodeId: field(int32),
          listeners: field(array(listener)),
        }),
      ),
      { v: "2+" },
    ),
  }),
});
