/**
 * Fetch (key 1), versions 4-16; flexible from 12.
 *
 * FetchRequest =>
 *   <tagged 12+> 0: cluster_id STRING (nullable, default null)
 *   replica_id: INT32 (0-14, default -1)
 *   <tagged 15+> 1: replica_state [replica_id: INT32 (default -1), replica_epoch: INT64 (default -1)]
 *   max_wait_ms: INT32
 *   min_bytes: INT32
 *   max_bytes: INT32 (3+, default INT32_MAX)
 *   isolation_level: INT8 (4+, default 0)
 *   session_id: INT32 (7+, default 0)
 *   session_epoch: INT32 (7+, default -1)
 *   topics: [
 *     topic: STRING (0-12)
 *     topic_id: UUID (13+)
 *     partitions: [
 *       partition: INT32, current_leader_epoch: INT32 (9+, default -1), fetch_offset: INT64
 *       last_fetched_epoch: INT32 (12+, default -1), log_start_offset: INT64 (5+, default -1)
 *       partition_max_bytes: INT32
 *     ]
 *   ]
 *   forgotten_topics_data: [topic: STRING (7-12), topic_id: UUID (13+), partitions: [INT32]] (7+)
 *   rack_id: STRING (11+, default "")
 *
 * FetchResponse =>
 *   throttle_time_ms: INT32 (1+)
 *   error_code: INT16 (7+)
 *   session_id: INT32 (7+, default 0)
 *   responses: [
 *     topic: STRING (0-12)
 *     topic_id: UUID (13+)
 *     partitions: [
 *       partition_index: INT32, error_code: INT16, high_watermark: INT64
 *       last_stable_offset: INT64 (4+, default -1)
 *       log_start_offset: INT64 (5+, default -1)
 *       <tagged 12+> 0: diverging_epoch [epoch: INT32 (default -1), end_offset: INT64 (default -1)]
 *                    1: current_leader [leader_id: INT32 (default -1), leader_epoch: INT32 (default -1)]
 *                    2: snapshot_id [end_offset: INT64 (default -1), epoch: INT32 (default -1)]
 *       aborted_transactions: [producer_id: INT64, first_offset: INT64] (4+, nullable 4+)
 *       preferred_read_replica: INT32 (11+, default -1)
 *       records: RECORDS (nullable 0+)
 *     ]
 *   ]
 *   <tagged 16+> 0: node_endpoints [node_id: INT32, host: STRING, port: INT32, rack: STRING (nullable, default null)]
 *
 * Versions below 4 are not served: they predate isolation levels and the
 * aborted-transaction list a read_committed consumer needs. v15 moves the
 * follower's id into the tagged replica_state so that a Raft voter can also
 * send its epoch; replica_id is then absent and consumers send no state.
 * The v17 tagged replica_directory_id is beyond the versions served and left
 * out. Records are kept as buffers (slices of segment files when encoding) so
 * a response never copies the data it serves. Tagged fields are declared in
 * tag order because they are written in declaration order.
 */
import { defineApi } from "../api.ts";
import { array, field, int8, int16, int32, int64, records, string, struct, uuid } from "../schema.ts";

const int32Max = 0x7fffffff;

export const fetchApi = defineApi({
  key: 1,
  name: "Fetch",
  versionMin: 4,
  versionMax: 16,
  flexibleMin: 12,
  request: struct({
    clusterId: field(string, { v: "12+", nullable: "12+", tag: 0, tagged: "12+", default: null }),
    replicaId: field(int32, { v: "0-14", default: -1 }),
    replicaState: field(
      struct({
        replicaId: field(int32, { v: "15+", default: -1 }),
        replicaEpoch: field(int64, { v: "15+", default: -1n }),
      }),
      { v: "15+", tag: 1, tagged: "15+" },
    ),
    maxWaitMs: field(int32),
    minBytes: field(int32),
    maxBytes: field(int32, { v: "3+", default: int32Max }),
    isolationLevel: field(int8, { v: "4+", default: 0 }),
    sessionId: field(int32, { v: "7+", default: 0 }),
    sessionEpoch: field(int32, { v: "7+", default: -1 }),
    topics: field(
      array(
        struct({
          topic: field(string, { v: "0-12" }),
          topicId: field(uuid, { v: "13+" }),
          partitions: field(
            array(
              struct({
                partition: field(int32),
                currentLeaderEpoch: field(int32, { v: "9+", default: -1 }),
                fetchOffset: field(int64),
                lastFetchedEpoch: field(int32, { v: "12+", default: -1 }),
                logStartOffset: field(int64, { v: "5+", default: -1n }),
                partitionMaxBytes: field(int32),
              }),
            ),
          ),
        }),
      ),
    ),
    forgottenTopicsData: field(
      array(
        struct({
          topic: field(string, { v: "7-12" }),
          topicId: field(uuid, { v: "13+" }),
          partitions: field(array(int32), { v: "7+" }),
        }),
      ),
      { v: "7+" },
    ),
    rackId: field(string, { v: "11+", default: "" }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "1+" }),
    errorCode: field(int16, { v: "7+" }),
    sessionId: field(int32, { v: "7+", default: 0 }),
    responses: field(
      array(
        struct({
          topic: field(string, { v: "0-12" }),
          topicId: field(uuid, { v: "13+" }),
          partitions: field(
            array(
              struct({
                partitionIndex: field(int32),
                errorCode: field(int16),
                highWatermark: field(int64),
                lastStableOffset: field(int64, { v: "4+", default: -1n }),
                logStartOffset: field(int64, { v: "5+", default: -1n }),
                divergingEpoch: field(
                  struct({
                    epoch: field(int32, { v: "12+", default: -1 }),
                    endOffset: field(int64, { v: "12+", default: -1n }),
                  }),
                  { v: "12+", tag: 0, tagged: "12+" },
                ),
                currentLeader: field(
                  struct({
                    leaderId: field(int32, { v: "12+", default: -1 }),
                    leaderEpoch: field(int32, { v: "12+", default: -1 }),
                  }),
                  { v: "12+", tag: 1, tagged: "12+" },
                ),
                snapshotId: field(
                  struct({
                    endOffset: field(int64, { default: -1n }),
                    epoch: field(int32, { default: -1 }),
                  }),
                  { v: "12+", tag: 2, tagged: "12+" },
                ),
                abortedTransactions: field(
                  array(
                    struct({
                      producerId: field(int64, { v: "4+" }),
                      firstOffset: field(int64, { v: "4+" }),
                    }),
                  ),
                  { v: "4+", nullable: "4+" },
                ),
                preferredReadReplica: field(int32, { v: "11+", default: -1 }),
                records: field(records, { nullable: "0+" }),
              }),
            ),
          ),
        }),
      ),
    ),
    nodeEndpoints: field(
      array(
        struct({
          nodeId: field(int32, { v: "16+" }),
          host: field(string, { v: "16+" }),
          port: field(int32, { v: "16+" }),
          rack: field(string, { v: "16+", nullable: "16+", default: null }),
        }),
      ),
      { v: "16+", tag: 0, tagged: "16+" },
    ),
  }),
});
