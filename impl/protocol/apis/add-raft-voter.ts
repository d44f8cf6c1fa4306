/**
 * AddRaftVoter (key 80), version 0; flexible from 0.
 *
 * AddRaftVoterRequest =>
 *   cluster_id: STRING (nullable 0+)
 *   timeout_ms: INT32
 *   voter_id: INT32
 *   voter_directory_id: UUID
 *   listeners: [name: STRING, host: STRING, port: UINT16]
 *
 * AddRaftVoterResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   error_message: STRING (nullable 0+)
 *
 * Asks the leader to add a replica, named by id and directory id, to the
 * voters (KIP-853). The leader answers once the new voter set is committed in
 * the log, or with an error: DUPLICATE_VOTER, REQUEST_TIMED_OUT after
 * timeout_ms, or NOT_LEADER_OR_FOLLOWER. The listeners are where the other
 * voters will reach the new one.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct, uuid } from "../schema.ts";
import { listener } from "./quorum-shapes.ts";

export const addRaftVoterApi = defineApi({
  key: 80,
  name: "AddRaftVoter",
  versionMin: 0,
  versionMax: 0,
  flexibleMin: 0,
  request: struct({
    clusterId: field(string, { nullable: "0+" }),
    timeoutMs: field(int32),
    voterId: field(int32),
    voterDirectoryId: field(uuid),
    listeners: field(array(listener)),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, { nullable: "0+" }),
  }),
});
