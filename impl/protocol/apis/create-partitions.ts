/**
 * CreatePartitions (key 37), versions 0-3; flexible from 2.
 *
 * CreatePartitionsRequest =>
 *   topics: [
 *     name: STRING
 *     count: INT32                     (the new total, not the number added)
 *     assignments: NULLABLE [broker_ids: [INT32]]
 *   ]
 *   timeout_ms: INT32
 *   validate_only: BOOL
 *
 * CreatePartitionsResponse =>
 *   throttle_time_ms: INT32
 *   results: [name: STRING, error_code: INT16, error_message: NULLABLE_STRING (default null)]
 *
 * Versions 0-1 differ from 2-3 only in the flexible encoding.
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int16, int32, string, struct } from "../schema.ts";

export const createPartitionsApi = defineApi({
  key: 37,
  name: "CreatePartitions",
  versionMin: 0,
  versionMax: 3,
  flexibleMin: 2,
  request: struct({
    topics: field(
      array(
        struct({
          name: field(string),
          count: field(int32),
          assignments: field(array(struct({ brokerIds: field(array(int32)) })), { nullable: "0+" }),
        }),
      ),
    ),
    timeoutMs: field(int32),
    validateOnly: field(bool),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    results: field(
      array(
        struct({
          name: field(string),
          errorCode: field(int16),
          errorMessage: field(string, { nullable: "0+", default: null }),
        }),
      ),
    ),
  }),
});
