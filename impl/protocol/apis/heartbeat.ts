/**
 * Heartbeat (key 12), versions 0-4; flexible from 4.
 *
 * HeartbeatRequest =>
 *   group_id: STRING
 *   generation_id: INT32
 *   member_id: STRING
 *   group_instance_id: NULLABLE_STRING (3+, default null)
 *
 * HeartbeatResponse =>
 *   throttle_time_ms: INT32 (1+)
 *   error_code: INT16
 *
 * The response carries no data: a member learns that the group is
 * rebalancing from REBALANCE_IN_PROGRESS and rejoins.
 */
import { defineApi } from "../api.ts";
import { field, int16, int32, string, struct } from "../schema.ts";

export const heartbeatApi = defineApi({
  key: 12,
  name: "Heartbeat",
  versionMin: 0,
  versionMax: 4,
  flexibleMin: 4,
  request: struct({
    groupId: field(string),
    generationId: field(int32),
    memberId: field(string),
    groupInstanceId: field(string, { v: "3+", nullable: "3+", default: null }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "1+" }),
    errorCode: field(int16),
  }),
});
