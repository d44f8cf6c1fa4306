/**
 * LeaveGroup (key 13), versions 0-5; flexible from 4.
 *
 * LeaveGroupRequest =>
 *   group_id: STRING
 *   member_id: STRING (0-2)
 *   members: [
 *     member_id: STRING
 *     group_instance_id: NULLABLE_STRING (default null)
 *     reason: NULLABLE_STRING (5+, default null)
 *   ] (3+)
 *
 * LeaveGroupResponse =>
 *   throttle_time_ms: INT32 (1+)
 *   error_code: INT16
 *   members: [member_id: STRING, group_instance_id: NULLABLE_STRING, error_code: INT16] (3+)
 *
 * v3 (KIP-345) batches: an admin can remove several static members at once,
 * naming each by instance id with an empty member id, so each member gets its
 * own error beside the group-level one. Before v3 one member leaves itself.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct } from "../schema.ts";

export const leaveGroupApi = defineApi({
  key: 13,
  name: "LeaveGroup",
  versionMin: 0,
  versionMax: 5,
  flexibleMin: 4,
  request: struct({
    groupId: field(string),
    memberId: field(string, { v: "0-2" }),
    members: field(
      array(
        struct({
          memberId: field(string),
          groupInstanceId: field(string, { nullable: "3+", default: null }),
          reason: field(string, { v: "5+", nullable: "5+", default: null }),
        }),
      ),
      { v: "3+" },
    ),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "1+" }),
    errorCode: field(int16),
    members: field(
      array(
        struct({
          memberId: field(string),
          groupInstanceId: field(string, { nullable: "3+" }),
          errorCode: field(int16),
        }),
      ),
      { v: "3+" },
    ),
  }),
});
