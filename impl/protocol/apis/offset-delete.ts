/**
 * OffsetDelete (key 47), version 0; never flexible.
 *
 * OffsetDeleteRequest =>
 *   group_id: STRING
 *   topics: [name: STRING, partitions: [partition_index: INT32]]
 *
 * OffsetDeleteResponse =>
 *   error_code: INT16
 *   throttle_time_ms: INT32
 *   topics: [name: STRING, partitions: [partition_index: INT32, error_code: INT16]]
 *
 * Unlike most responses, the error code comes before the throttle
 * time. A group still subscribed to a topic keeps that topic's offsets and is
 * answered GROUP_SUBSCRIBED_TO_TOPIC for each of its partitions (KIP-496).
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct } from "../schema.ts";

export const offsetDeleteApi = defineApi({
  key: 47,
  name: "OffsetDelete",
  versionMin: 0,
  versionMax: 0,
  flexibleMin: Number.POSITIVE_INFINITY,
  request: struct({
    groupId: field(string),
    topics: field(
      array(
        struct({
          name: field(string),
          partitions: field(array(struct({ partitionIndex: field(int32) }))),
        }),
      ),
    ),
  }),
  response: struct({
    errorCode: field(int16),
    throttleTimeMs: field(int32),
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
