/**
 * Vote (key 52), versions 0-2; flexible from 0.
 *
 * VoteRequest =>
 *   cluster_id: STRING (nullable 0+, default null)
 *   voter_id: INT32 (1+, default -1)
 *   topics: [
 *     topic_name: STRING
 *     partitions: [
 *       partition_index: INT32
 *       candidate_epoch: INT32
 *       candidate_id: INT32
 *       candidate_directory_id: UUID (1+)
 *       voter_directory_id: UUID (1+)
 *       last_offset_epoch: INT32
 *       last_offset: INT64
 *       pre_vote: BOOL (2+)
 *     ]
 *   ]
 *
 * VoteResponse =>
 *   error_code: INT16
 *   topics: [
 *     topic_name: STRING
 *     partitions: [
 *       partition_index: INT32, error_code: INT16
 *       leader_id: INT32, leader_epoch: INT32
 *       vote_granted: BOOL
 *     ]
 *   ]
 *   <tagged 1+> 0: node_endpoints [node_id: INT32, host: STRING, port: UINT16]
 *
 * A candidate asks each voter for its vote in a bumped epoch, naming the
 * epoch and end offset of its log so the voter can refuse a candidate whose
 * log is behind its own. Version 1 (KIP-853) names the voter being asked and
 * both replicas' directory ids, so a replica whose disk was replaced (and so
 * has a new directory id) refuses a request meant for the old one with
 * INVALID_VOTER_KEY, and lets a response say where the leader it names
 * listens. The directory ids of v0 senders decode as the zero UUID.
 * Version 2 (KIP-996, Kafka 4.0) adds pre_vote: a replica asks whether it
 * would be granted a vote before bumping its epoch, so a node cut off from
 * the quorum cannot disrupt it when it comes back. Kafka renames the
 * candidate_* fields replica_* there, since a pre-vote is sent by a replica
 * that is not yet a candidate; the bytes are the same, the names here stay.
 * The response is the same in version 2 as in version 1.
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int16, int32, int64, string, struct, uuid } from "../schema.ts";
import { nodeEndpoint, quorumTopics } from "./quorum-shapes.ts";

export const voteApi = defineApi({
  key: 52,
  name: "Vote",
  versionMin: 0,
  versionMax: 2,
  flexibleMin: 0,
  request: struct({
    clusterId: field(string, { nullable: "0+", default: null }),
    voterId: field(int32, { v: "1+", default: -1 }),
    topics: field(
      quorumTopics(
        struct({
          partitionIndex: field(int32),
          candidateEpoch: field(int32),
          candidateId: field(int32),
          candidateDirectoryId: field(uuid, { v: "1+" }),
          voterDirectoryId: field(uuid, { v: "1+" }),
          lastOffsetEpoch: field(int32),
          lastOffset: field(int64),
          preVote: field(bool, { v: "2+" }),
        }),
      ),
    ),
  }),
  response: struct({
    errorCode: field(int16),
    topics: field(
      quorumTopics(
        struct({
          partitionIndex: field(int32),
          errorCode: field(int16),
          leaderId: field(int32),
          leaderEpoch: field(int32),
          voteGranted: field(bool),
        }),
      ),
    ),
    nodeEndpoints: field(array(nodeEndpoint), { v: "1+", tag: 0, tagged: "1+" }),
  }),
});
