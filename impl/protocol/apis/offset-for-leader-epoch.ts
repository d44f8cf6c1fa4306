/**
 * OffsetForLeaderEpoch (key 23), versions 0-4; flexible from 4.
 *
 * OffsetForLeaderEpochRequest =>
 *   replica_id: INT32 (3+, default -2)         (-1: a consumer, -2: a debug consumer)
 *   topics: [
 *     topic: STRING
 *     partitions: [partition: INT32, current_leader_epoch: INT32 (2+, default -1), leader_epoch: INT32]
 *   ]
 *
 * OffsetForLeaderEpochResponse =>
 *   throttle_time_ms: INT32 (2+)
 *   topics: [
 *     topic: STRING
 *     partitions: [
 *       error_code: INT16, partition: INT32
 *       leader_epoch: INT32 (1+, default -1)
 *       end_offset: INT64 (default -1)
 *     ]
 *   ]
 *
 * A follower that restarts, or sees the leader change, asks where its last
 * epoch ends on the leader and truncates its own log there before fetching
 * again. The answer is the largest epoch at most the one asked for and the
 * start offset of the epoch after it (or the log end). current_leader_epoch
 * (v2+) fences the asker: FENCED_LEADER_EPOCH if it is behind the broker's,
 * UNKNOWN_LEADER_EPOCH if ahead. Versions 0-1 are deprecated but still part
 * of the schema; v1 adds the leader epoch to the answer, v2 the throttle
 * time, v3 the replica id, and v4 is v3 made flexible. The error code comes
 * before the partition index in the response, unlike most APIs.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, int64, string, struct } from "../schema.ts";

export const offsetForLeaderEpochApi = defineApi({
  key: 23,
  name: "OffsetForLeaderEpoch",
  versionMin: 0,
  versionMax: 4,
  flexibleMin: 4,
  request: struct({
    replicaId: field(int32, { v: "3+", default: -2 }),
    topics: field(
      array(
        struct({
          topic: field(string),
          partitions: field(
            array(
              struct({
                partition: field(int32),
                currentLeaderEpoch: field(int32, { v: "2+", default: -1 }),
                leaderEpoch: field(int32),
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
          topic: field(string),
          partitions: field(
            array(
              struct({
                errorCode: field(int16),
                partition: field(int32),
                leaderEpoch: field(int32, { v: "1+", default: -1 }),
                endOffset: field(int64, { default: -1n }),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
});
