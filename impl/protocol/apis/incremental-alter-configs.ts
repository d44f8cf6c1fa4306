/**
 * IncrementalAlterConfigs (key 44), versions 0-1; flexible from 1.
 *
 * IncrementalAlterConfigsRequest =>
 *   resources: [
 *     resource_type: INT8 (2 topic, 4 broker, ...)
 *     resource_name: STRING
 *     configs: [
 *       name: STRING
 *       config_operation: INT8 (0 set, 1 delete, 2 append, 3 subtract)
 *       value: NULLABLE_STRING
 *     ]
 *   ]
 *   validate_only: BOOL
 *
 * IncrementalAlterConfigsResponse =>
 *   throttle_time_ms: INT32
 *   responses: [
 *     error_code: INT16
 *     error_message: NULLABLE_STRING
 *     resource_type: INT8
 *     resource_name: STRING
 *   ]
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int8, int16, int32, string, struct } from "../schema.ts";

/** config_operation values (Kafka's AlterConfigOp.OpType). */
export const configOperation = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

export const incrementalAlterConfigsApi = defineApi({
  key: 44,
  name: "IncrementalAlterConfigs",
  versionMin: 0,
  versionMax: 1,
  flexibleMin: 1,
  request: struct({
    resources: field(
      array(
        struct({
          resourceType: field(int8),
          resourceName: field(string),
          configs: field(
            array(
              struct({
                name: field(string),
                configOperation: field(int8),
                value: field(string, { nullable: "0+" }),
              }),
            ),
          ),
        }),
      ),
    ),
    validateOnly: field(bool),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    responses: field(
      array(
        struct({
          errorCode: field(int16),
          errorMessage: field(string, { nullable: "0+", default: null }),
          resourceType: field(int8),
          resourceName: field(string),
        }),
      ),
    ),
  }),
});
