/**
 * ListGroups (key 16), versions 0-5; flexible from 3.
 *
 * ListGroupsRequest =>
 *   states_filter: [STRING] (4+)
 *   types_filter: [STRING] (5+)
 *
 * ListGroupsResponse =>
 *   throttle_time_ms: INT32 (1+)
 *   error_code: INT16
 *   groups: [
 *     group_id: STRING
 *     protocol_type: STRING
 *     group_state: STRING (4+)
 *     group_type: STRING (5+)
 *   ]
 *
 * Up to v2 the request has no fields at all, and v3 only its tag buffer: it
 * lists every group the broker coordinates. An empty filter matches every
 * state (KIP-518) or every type (KIP-848), so the filters' absence in older
 * versions decodes to the same meaning.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct } from "../schema.ts";

export const listGroupsApi = defineApi({
  key: 16,
  name: "ListGroups",
  versionMin: 0,
  versionMax: 5,
  flexibleMin: 3,
  request: struct({
    statesFilter: field(array(string), { v: "4+" }),
    typesFilter: field(array(string), { v: "5+" }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "1+" }),
    errorCode: field(int16),
    groups: field(
      array(
        struct({
          groupId: field(string),
          protocolType: field(string),
          groupState: field(string, { v: "4+" }),
          groupType: field(string, { v: "5+" }),
        }),
      ),
    ),
  }),
});
