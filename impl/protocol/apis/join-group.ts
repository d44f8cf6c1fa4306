/**
 * JoinGroup (key 11), versions 0-9; flexible from 6.
 *
 * JoinGroupRequest =>
 *   group_id: STRING
 *   session_timeout_ms: INT32
 *   rebalance_timeout_ms: INT32 (1+, default -1)
 *   member_id: STRING
 *   group_instance_id: NULLABLE_STRING (5+, default null)
 *   protocol_type: STRING
 *   protocols: [name: STRING, metadata: BYTES]
 *   reason: NULLABLE_STRING (8+, default null)
 *
 * JoinGroupResponse =>
 *   throttle_time_ms: INT32 (2+)
 *   error_code: INT16
 *   generation_id: INT32 (default -1)
 *   protocol_type: NULLABLE_STRING (7+, default null)
 *   protocol_name: STRING (nullable 7+)
 *   leader: STRING
 *   skip_assignment: BOOL (9+, default false)
 *   member_id: STRING
 *   members: [member_id: STRING, group_instance_id: NULLABLE_STRING (5+, default null), metadata: BYTES]
 *
 * A v0 request has no rebalance timeout: the coordinator then waits the
 * session timeout, which is why -1 stands for "absent" rather than a time.
 * From v4 a member joining with an empty id is answered MEMBER_ID_REQUIRED
 * with its new id and joins again; the bytes are those of v3. The protocol
 * metadata and the members' metadata are opaque here: the consumer's
 * subscription format belongs to the client, not the coordinator.
 */
import { defineApi } from "../api.ts";
import { array, bool, bytes, field, int16, int32, string, struct } from "../schema.ts";

export const joinGroupApi = defineApi({
  key: 11,
  name: "JoinGroup",
  versionMin: 0,
  versionMax: 9,
  flexibleMin: 6,
  request: struct({
    groupId: field(string),
    sessionTimeoutMs: field(int32),
    rebalanceTimeoutMs: field(int32, { v: "1+", default: -1 }),
    memberId: field(string),
    groupInstanceId: field(string, { v: "5+", nullable: "5+", default: null }),
    protocolType: field(string),
    protocols: field(array(struct({ name: field(string), metadata: field(bytes) }))),
    reason: field(string, { v: "8+", nullable: "8+", default: null }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "2+" }),
    errorCode: field(int16),
    generationId: field(int32, { default: -1 }),
    protocolType: field(string, { v: "7+", nullable: "7+", default: null }),
    protocolName: field(string, { nullable: "7+" }),
    leader: field(string),
    skipAssignment: field(bool, { v: "9+", default: false }),
    memberId: field(string),
    members: field(
      array(
        struct({
          memberId: field(string),
          groupInstanceId: field(string, { v: "5+", nullable: "5+", default: null }),
          metadata: field(bytes),
        }),
      ),
    ),
  }),
});
