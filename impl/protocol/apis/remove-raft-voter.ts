/**
 * RemoveRaftVoter (key 81), version 0; flexible from 0.
 *
 * RemoveRaftVoterRequest =>
 *   cluster_id: STRING (nullable 0+)
 *   voter_id: INT32
 *   voter_directory_id: UUID
 *
 * RemoveRaftVoterResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   error_message: STRING (nullable 0+)
 *
 * Asks the leader to remove a voter, named by id and directory id, from the
 * voters (KIP-853); VOTER_NOT_FOUND when no voter has that key. The leader
 * may remove itself: it then resigns once the change is committed.
 */
import { defineApi } from "../api.ts";
import { field, int16, int32, string, struct, uuid } from "../schema.ts";

export const removeRaftVoterApi = defineApi({
  key: 81,
  name: "RemoveRaftVoter",
  versionMin: 0,
  versionMax: 0,
  flexibleMin: 0,
  request: struct({
    clusterId: field(string, { nullable: "0+" }),
    voterId: field(int32),
    voterDirectoryId: field(uuid),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, { nullable: "0+" }),
  }),
});
