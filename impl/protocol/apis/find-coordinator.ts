/**
 * FindCoordinator (key 10), versions 0-4; flexible from 3.
 *
 * FindCoordinatorRequest =>
 *   key: STRING (0-3)
 *   key_type: INT8 (1+, default 0)     (0: a consumer group, 1: a transactional id)
 *   coordinator_keys: [STRING] (4+)
 *
 * FindCoordinatorResponse =>
 *   throttle_time_ms: INT32 (1+)
 *   error_code: INT16 (0-3)
 *   error_message: NULLABLE_STRING (1-3)
 *   node_id: INT32 (0-3)
 *   host: STRING (0-3)
 *   port: INT32 (0-3)
 *   coordinators: [
 *     key: STRING, node_id: INT32, host: STRING, port: INT32
 *     error_code: INT16, error_message: NULLABLE_STRING
 *   ] (4+)
 *
 * v4 (KIP-699) batches: one request names many keys of one type, and each
 * key gets its own coordinator and error, so the single-key fields of 0-3 are
 * absent there. v5 (TRANSACTION_ABORTABLE) and v6 (share groups) are not served.
 */
import { defineApi } from "../api.ts";
import { array, field, int8, int16, int32, string, struct } from "../schema.ts";

export const findCoordinatorApi = defineApi({
  key: 10,
  name: "FindCoordinator",
  versionMin: 0,
  versionMax: 4,
  flexibleMin: 3,
  request: struct({
    key: field(string, { v: "0-3" }),
    keyType: field(int8, { v: "1+", default: 0 }),
    coordinatorKeys: field(array(string), { v: "4+" }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "1+" }),
    errorCode: field(int16, { v: "0-3" }),
    errorMessage: field(string, { v: "1-3", nullable: "1-3" }),
    nodeId: field(int32, { v: "0-3" }),
    host: field(string, { v: "0-3" }),
    port: field(int32, { v: "0-3" }),
    coordinators: field(
      array(
        struct({
          key: field(string),
          nodeId: field(int32),
          host: field(string),
          port: field(int32),
          errorCode: field(int16),
          errorMessage: field(string, { nullable: "4+" }),
        }),
      ),
      { v: "4+" },
    ),
  }),
});
