/**
 * DescribeGroups (key 15), versions 0-5; flexible from 5.
 *
 * DescribeGroupsRequest =>
 *   groups: [STRING]
 *   include_authorized_operations: BOOL (3+)
 *
 * DescribeGroupsResponse =>
 *   throttle_time_ms: INT32 (1+)
 *   groups: [
 *     error_code: INT16
 *     group_id: STRING
 *     group_state: STRING
 *     protocol_type: STRING
 *     protocol_data: STRING         (the chosen protocol's name; "" unless the group is Stable)
 *     members: [
 *       member_id: STRING
 *       group_instance_id: NULLABLE_STRING (4+, default null)
 *       client_id: STRING
 *       client_host: STRING
 *       member_metadata: BYTES
 *       member_assignment: BYTES
 *     ]
 *     authorized_operations: INT32 (3+, default INT32_MIN)
 *   ]
 *
 * INT32_MIN in authorized_operations means "not asked for", as in Metadata.
 * The members' metadata and assignments are opaque: their format belongs to
 * the protocol type, which the coordinator does not interpret.
 */
import { defineApi } from "../api.ts";
import { array, bool, bytes, field, int16, int32, string, struct } from "../schema.ts";

/** Kafka's sentinel for authorized operations that the client did not ask for. */
const authorizedOperationsOmitted = -2147483648;

export const describeGroupsApi = defineApi({
  key: 15,
  name: "DescribeGroups",
  versionMin: 0,
  versionMax: 5,
  flexibleMin: 5,
  request: struct({
    groups: field(array(string)),
    includeAuthorizedOperations: field(bool, { v: "3+" }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "1+" }),
    groups: field(
      array(
        struct({
          errorCode: field(int16),
          groupId: field(string),
          groupState: field(string),
          protocolType: field(string),
          protocolData: field(string),
          members: field(
            array(
              struct({
                memberId: field(string),
                groupInstanceId: field(string, { v: "4+", nullable: "4+", default: null }),
                clientId: field(string),
                clientHost: field(string),
                memberMetadata: field(bytes),
                memberAssignment: field(bytes),
              }),
            ),
          ),
          authorizedOperations: field(int32, { v: "3+", default: authorizedOperationsOmitted }),
        }),
      ),
    ),
  }),
});
