/**
 * DeleteTopics (key 20), versions 1-6; flexible from 4.
 *
 * DeleteTopicsRequest =>
 *   topics: [name: NULLABLE_STRING (default null), topic_id: UUID] (6+)
 *   topic_names: [STRING] (0-5)
 *   timeout_ms: INT32
 *
 * DeleteTopicsResponse =>
 *   throttle_time_ms: INT32 (1+)
 *   responses: [
 *     name: STRING (nullable 6+)
 *     topic_id: UUID (6+)
 *     error_code: INT16
 *     error_message: NULLABLE_STRING (5+, default null)
 *   ]
 *
 * From v6 a topic is named either by name or by id, so the name may be null;
 * before v6 only names exist. Version 0 is deprecated and not served.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct, uuid } from "../schema.ts";

export const deleteTopicsApi = defineApi({
  key: 20,
  name: "DeleteTopics",
  versionMin: 1,
  versionMax: 6,
  flexibleMin: 4,
  request: struct({
    topics: field(
      array(struct({ name: field(string, { nullable: "6+", default: null }), topicId: field(uuid) })),
      { v: "6+" },
    ),
    topicNames: field(array(string), { v: "0-5" }),
    timeoutMs: field(int32),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "1+" }),
    responses: field(
      array(
        struct({
          name: field(string, { nullable: "6+" }),
          topicId: field(uuid, { v: "6+" }),
          errorCode: field(int16),
          errorMessage: field(string, { v: "5+", nullable: "5+", default: null }),
        }),
      ),
    ),
  }),
});
