/**
 * OffsetCommit (key 8), versions 2-9; flexible from 8.
 *
 * OffsetCommitRequest =>
 *   group_id: STRING
 *   generation_id_or_member_epoch: INT32 (1+, default -1)
 *   member_id: STRING (1+)
 *   group_instance_id: NULLABLE_STRING (7+, default null)
 *   retention_time_ms: INT64 (2-4, default -1)
 *   topics: [
 *     name: STRING
 *     partitions: [
 *       partition_index: INT32
 *       committed_offset: INT64
 *       committed_leader_epoch: INT32 (6+, default -1)
 *       committed_metadata: NULLABLE_STRING
 *     ]
 *   ]
 *
 * OffsetCommitResponse =>
 *   throttle_time_ms: INT32 (3+)
 *   topics: [name: STRING, partitions: [partition_index: INT32, error_code: INT16]]
 *
 * Versions 0-1 are deprecated and not served; with them goes v1's per-partition
 * commit_timestamp. A generation of -1 with an empty member id is a commit
 * from outside the group (a standalone consumer or an admin), which only an
 * empty group accepts. retention_time_ms -1 means the broker's retention;
 * v5 dropped the field, leaving retention to the broker alone. v9 (KIP-848)
 * has the bytes of v8: the generation is read as a member epoch there.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, int64, string, struct } from "../schema.ts";

export const offsetCommitApi = defineApi({
  key: 8,
  name: "OffsetCommit",
  versionMin: 2,
  versionMax: 9,
  flexibleMin: 8,
  request: struct({
    groupId: field(string),
    generationIdOrMemberEpoch: field(int32, { v: "1+", default: -1 }),
    memberId: field(string, { v: "1+" }),
    groupInstanceId: field(string, { v: "7+", nullable: "7+", default: null }),
    retentionTimeMs: field(int64, { v: "2-4", default: -1n }),
    topics: field(
      array(
        struct({
          name: field(string),
          partitions: field(
            array(
              struct({
                partitionIndex: field(int32),
                committedOffset: field(int64),
                committedLeaderEpoch: field(int32, { v: "6+", default: -1 }),
                committedMetadata: field(string, { nullable: "0+" }),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "3+" }),
    topics: field(
      array(
        struct({
          name: field(string),
          partitions: field(array(struct({ partitionIndex: field(int32), errorCode: field(int16) }))),
        }),
      ),
    ),
  }),
});
