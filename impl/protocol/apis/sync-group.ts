/**
 * SyncGroup (key 14), versions 0-5; flexible from 4.
 *
 * SyncGroupRequest =>
 *   group_id: STRING
 *   generation_id: INT32
 *   member_id: STRING
 *   group_instance_id: NULLABLE_STRING (3+, default null)
 *   protocol_type: NULLABLE_STRING (5+, default null)
 *   protocol_name: NULLABLE_STRING (5+, default null)
 *   assignments: [member_id: STRING, assignment: BYTES]
 *
 * SyncGroupResponse =>
 *   throttle_time_ms: INT32 (1+)
 *   error_code: INT16
 *   protocol_type: NULLABLE_STRING (5+, default null)
 *   protocol_name: NULLABLE_STRING (5+, default null)
 *   assignment: BYTES
 *
 * Only the leader sends assignments; followers send an empty list and wait
 * for theirs. From v5 (KIP-559) both sides name the protocol so that a proxy
 * can read the assignment without having seen the JoinGroup; the coordinator
 * refuses a request whose type or name differs from the group's with
 * INCONSISTENT_GROUP_PROTOCOL.
 */
import { defineApi } from "../api.ts";
import { array, bytes, field, int16, int32, string, struct } from "../schema.ts";

export const syncGroupApi = defineApi({
  key: 14,
  name: "SyncGroup",
  versionMin: 0,
  versionMax: 5,
  flexibleMin: 4,
  request: struct({
    groupId: field(string),
    generationId: field(int32),
    memberId: field(string),
    groupInstanceId: field(string, { v: "3+", nullable: "3+", default: null }),
    protocolType: field(string, { v: "5+", nullable: "5+", default: null }),
    protocolName: field(string, { v: "5+", nullable: "5+", default: null }),
    assignments: field(array(struct({ memberId: field(string), assignment: field(bytes) }))),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "1+" }),
    errorCode: field(int16),
    protocolType: field(string, { v: "5+", nullable: "5+", default: null }),
    protocolName: field(string, { v: "5+", nullable: "5+", default: null }),
    assignment: field(bytes),
  }),
});
