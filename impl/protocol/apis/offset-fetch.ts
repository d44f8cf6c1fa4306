/**
 * OffsetFetch (key 9), versions 1-9; flexible from 6.
 *
 * OffsetFetchRequest =>
 *   group_id: STRING (0-7)
 *   topics: [name: STRING, partition_indexes: [INT32]] (0-7, nullable 2-7)
 *   groups: [
 *     group_id: STRING
 *     member_id: NULLABLE_STRING (9+, default null)
 *     member_epoch: INT32 (9+, default -1)
 *     topics: [name: STRING, partition_indexes: [INT32]] (nullable)
 *   ] (8+)
 *   require_stable: BOOL (7+, default false)
 *
 * OffsetFetchResponse =>
 *   throttle_time_ms: INT32 (3+)
 *   topics: [
 *     name: STRING
 *     partitions: [
 *       partition_index: INT32
 *       committed_offset: INT64
 *       committed_leader_epoch: INT32 (5+, default -1)
 *       metadata: NULLABLE_STRING
 *       error_code: INT16
 *     ]
 *   ] (0-7)
 *   error_code: INT16 (2-7, default 0)
 *   groups: [group_id: STRING, topics: <as above>, error_code: INT16 (default 0)] (8+)
 *
 * Version 0 read offsets from ZooKeeper and is not served. A null topic list
 * (v2+) asks for every partition the group has committed; v1 has no null and
 * must name them. v8 batches several groups into one request, each answered
 * with its own error, so the single-group fields of 1-7 are absent there.
 * The batched shapes are the classic ones nested one level down, so one
 * topic and one partition grammar serve both; committed_leader_epoch, added
 * in v5, is in every batched version. v9 (KIP-848) adds the member's id and
 * epoch, checked only for groups of the new consumer protocol.
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int16, int32, int64, string, struct } from "../schema.ts";

const requestTopic = struct({
  name: field(string),
  partitionIndexes: field(array(int32)),
});

const responseTopic = struct({
  name: field(string),
  partitions: field(
    array(
      struct({
        partitionIndex: field(int32),
        committedOffset: field(int64),
        committedLeaderEpoch: field(int32, { v: "5+", default: -1 }),
        metadata: field(string, { nullable: "0+" }),
        errorCode: field(int16),
      }),
    ),
  ),
});

export const offsetFetchApi = defineApi({
  key: 9,
  name: "OffsetFetch",
  versionMin: 1,
  versionMax: 9,
  flexibleMin: 6,
  request: struct({
    groupId: field(string, { v: "0-7" }),
    topics: field(array(requestTopic), { v: "0-7", nullable: "2-7" }),
    groups: field(
      array(
        struct({
          groupId: field(string),
          memberId: field(string, { v: "9+", nullable: "9+", default: null }),
          memberEpoch: field(int32, { v: "9+", default: -1 }),
          topics: field(array(requestTopic), { nullable: "8+" }),
        }),
      ),
      { v: "8+" },
    ),
    requireStable: field(bool, { v: "7+", default: false }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "3+" }),
    topics: field(array(responseTopic), { v: "0-7" }),
    errorCode: field(int16, { v: "2-7", default: 0 }),
    groups: field(
      array(
        struct({
          groupId: field(string),
          topics: field(array(responseTopic)),
          errorCode: field(int16, { default: 0 }),
        }),
      ),
      { v: "8+" },
    ),
  }),
});
