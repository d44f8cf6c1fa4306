/**
 * CreateTopics (key 19), versions 2-7; flexible from 5.
 *
 * CreateTopicsRequest =>
 *   topics: [
 *     name: STRING
 *     num_partitions: INT32            (-1: use the broker default or the assignments)
 *     replication_factor: INT16        (-1: use the broker default or the assignments)
 *     assignments: [partition_index: INT32, broker_ids: [INT32]]
 *     configs: [name: STRING, value: NULLABLE_STRING]
 *   ]
 *   timeout_ms: INT32 (default 60000)
 *   validate_only: BOOL (1+)
 *
 * CreateTopicsResponse =>
 *   throttle_time_ms: INT32 (2+)
 *   topics: [
 *     name: STRING
 *     topic_id: UUID (7+)
 *     error_code: INT16
 *     error_message: NULLABLE_STRING (1+)
 *     num_partitions: INT32 (5+, default -1)
 *     replication_factor: INT16 (5+, default -1)
 *     configs: NULLABLE [name: STRING, value: NULLABLE_STRING, read_only: BOOL,
 *                        config_source: INT8 (default -1), is_sensitive: BOOL] (5+)
 *     <tagged 5+> 0: topic_config_error_code INT16
 *   ]
 *
 * Versions 0-1 are deprecated and not served. Versions 2-4 share one layout
 * (the bumps changed broker behaviour, not bytes), as do 5-6.
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int8, int16, int32, string, struct, uuid } from "../schema.ts";

export const createTopicsApi = defineApi({
  key: 19,
  name: "CreateTopics",
  versionMin: 2,
  versionMax: 7,
  flexibleMin: 5,
  request: struct({
    topics: field(
      array(
        struct({
          name: field(string),
          numPartitions: field(int32),
          replicationFactor: field(int16),
          assignments: field(array(struct({ partitionIndex: field(int32), brokerIds: field(array(int32)) }))),
          configs: field(array(struct({ name: field(string), value: field(string, { nullable: "0+" }) }))),
        }),
      ),
    ),
    timeoutMs: field(int32, { default: 60_000 }),
    validateOnly: field(bool, { v: "1+", default: false }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "2+" }),
    topics: field(
      array(
        struct({
          name: field(string),
          topicId: field(uuid, { v: "7+" }),
          errorCode: field(int16),
          errorMessage: field(string, { v: "1+", nullable: "0+" }),
          topicConfigErrorCode: field(int16, { v: "5+", tag: 0, tagged: "5+" }),
          numPartitions: field(int32, { v: "5+", default: -1 }),
          replicationFactor: field(int16, { v: "5+", default: -1 }),
          configs: field(
            array(
              struct({
                name: field(string),
                value: field(string, { nullable: "5+" }),
                readOnly: field(bool),
                configSource: field(int8, { default: -1 }),
                isSensitive: field(bool),
              }),
            ),
            { v: "5+", nullable: "5+" },
          ),
        }),
      ),
    ),
  }),
});
