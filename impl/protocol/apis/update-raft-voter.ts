/**
 * UpdateRaftVoter (key 82), version 0; flexible from 0.
 *
 * UpdateRaftVoterRequest =>
 *   cluster_id: STRING (nullable 0+)
 *   current_leader_epoch: INT32               (-1: leader epoch unknown)
 *   voter_id: INT32
 *   voter_directory_id: UUID
 *   listeners: [name: STRING, host: STRING, port: UINT16]
 *   kraft_version_feature: [min_supported_version: INT16, max_supported_version: INT16]
 *
 * UpdateRaftVoterResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   <tagged 0+> 0: current_leader [
 *     leader_id: INT32 (default -1), leader_epoch: INT32 (default -1), host: STRING, port: INT32
 *   ]
 *
 * A voter tells the leader its current listeners and the range of KRaft
 * versions it supports (KIP-853), so the voter set in the log stays right
 * after a voter restarts with new endpoints or software. kraft_version_feature
 * is a single struct, not an array. The tagged current_leader names the
 * leader and where it listens, for a voter that asked a node that is not (or
 * no longer) the leader; it stays off the wire while it holds its defaults.
 * Its port is an INT32 where every listener's port is a UINT16, as the
 * schema has it.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct, uuid } from "../schema.ts";
import { listener } from "./quorum-shapes.ts";

export const updateRaftVoterApi = defineApi({
  key: 82,
  name: "UpdateRaftVoter",
  versionMin: 0,
  versionMax: 0,
  flexibleMin: 0,
  request: struct({
    clusterId: field(string, { nullable: "0+" }),
    currentLeaderEpoch: field(int32),
    voterId: field(int32),
    voterDirectoryId: field(uuid),
    listeners: field(array(listener)),
    kraftVersionFeature: field(
      struct({ minSupportedVersion: field(int16), maxSupportedVersion: field(int16) }),
    ),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    currentLeader: field(
      struct({
        leaderId: field(int32, { default: -1 }),
        leaderEpoch: field(int32, { default: -1 }),
        host: field(string),
        port: field(int32),
      }),
      { tag: 0, tagged: "0+" },
    ),
  }),
});
