/**
 * DeleteGroups (key 42), versions 0-2; flexible from 2.
 *
 * DeleteGroupsRequest =>
 *   groups_names: [STRING]
 *
 * DeleteGroupsResponse =>
 *   throttle_time_ms: INT32
 *   results: [group_id: STRING, error_code: INT16]
 *
 * Only an empty group can be deleted; one with members is answered
 * NON_EMPTY_GROUP. v1 changed only when a throttled response is sent.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct } from "../schema.ts";

export const deleteGroupsApi = defineApi({
  key: 42,
  name: "DeleteGroups",
  versionMin: 0,
  versionMax: 2,
  flexibleMin: 2,
  request: struct({
    groupsNames: field(array(string)),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    results: field(array(struct({ groupId: field(string), errorCode: field(int16) }))),
  }),
});
