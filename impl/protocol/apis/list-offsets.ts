/**
 * ListOffsets (key 2), versions 1-8; flexible from 6.
 *
 * ListOffsetsRequest =>
 *   replica_id: INT32
 *   isolation_level: INT8 (2+)
 *   topics: [
 *     name: STRING
 *     partitions: [partition_index: INT32, current_leader_epoch: INT32 (4+, default -1), timestamp: INT64]
 *   ]
 *
 * ListOffsetsResponse =>
 *   throttle_time_ms: INT32 (2+)
 *   topics: [
 *     name: STRING
 *     partitions: [
 *       partition_index: INT32, error_code: INT16
 *       timestamp: INT64 (1+, default -1), offset: INT64 (1+, default -1)
 *       leader_epoch: INT32 (4+, default -1)
 *     ]
 *   ]
 *
 * The request's timestamp is a target time or a sentinel (-1 latest, -2
 * earliest, -3 max timestamp from v7). Version 0, which asked for a list of
 * offsets (max_num_offsets, old_style_offsets), and v10's timeout_ms lie
 * outside the versions served and are left out.
 */
import { defineApi } from "../api.ts";
import { array, field, int8, int16, int32, int64, string, struct } from "../schema.ts";

export const listOffsetsApi = defineApi({
  key: 2,
  name: "ListOffsets",
  versionMin: 1,
  versionMax: 8,
  flexibleMin: 6,
  request: struct({
    replicaId: field(int32),
    isolationLevel: field(int8, { v: "2+" }),
    topics: field(
      array(
        struct({
          name: field(string),
          partitions: field(
            array(
              struct({
                partitionIndex: field(int32),
                currentLeaderEpoch: field(int32, { v: "4+", default: -1 }),
                timestamp: field(int64),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "2+" }),
    topics: field(
      array(
        struct({
          name: field(string),
          partitions: field(
            array(
              struct({
                partitionIndex: field(int32),
                errorCode: field(int16),
                timestamp: field(int64, { v: "1+", default: -1n }),
                offset: field(int64, { v: "1+", default: -1n }),
                leaderEpoch: field(int32, { v: "4+", default: -1 }),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
});
