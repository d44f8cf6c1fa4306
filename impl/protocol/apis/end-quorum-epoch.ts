/**
 * EndQuorumEpoch (key 54), versions 0-1; flexible from 1.
 *
 * EndQuorumEpochRequest =>
 *   cluster_id: STRING (nullable 0+, default null)
 *   topics: [
 *     topic_name: STRING
 *     partitions: [
 *       partition_index: INT32
 *       leader_id: INT32
 *       leader_epoch: INT32
 *       preferred_successors: [INT32] (0)
 *       preferred_candidates: [candidate_id: INT32, candidate_directory_id: UUID] (1+)
 *     ]
 *   ]
 *   leader_endpoints: [name: STRING, host: STRING, port: UINT16] (1+)
 *
 * EndQuorumEpochResponse =>
 *   error_code: INT16
 *   topics: [
 *     topic_name: STRING
 *     partitions: [partition_index: INT32, error_code: INT16, leader_id: INT32, leader_epoch: INT32]
 *   ]
 *   <tagged 1+> 0: node_endpoints [node_id: INT32, host: STRING, port: UINT16]
 *
 * A leader that resigns (on shutdown, or on finding itself removed from the
 * voters) tells the others so one of them stands for election before its
 * fetch timeout. The successors come sorted, most caught up first, and the
 * first ones campaign sooner. Version 1 (KIP-853) replaces the bare successor
 * ids with candidates named by id and directory id: the two lists never share
 * a version, so a v0 request decodes with no candidates and a v1 request with
 * no successors.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct, uuid } from "../schema.ts";
import { listener, nodeEndpoint, quorumTopics } from "./quorum-shapes.ts";

export const endQuorumEpochApi = defineApi({
  key: 54,
  name: "EndQuorumEpoch",
  versionMin: 0,
  versionMax: 1,
  flexibleMin: 1,
  request: struct({
    clusterId: field(string, { nullable: "0+", default: null }),
    topics: field(
      quorumTopics(
        struct({
          partitionIndex: field(int32),
          leaderId: field(int32),
          leaderEpoch: field(int32),
          preferredSuccessors: field(array(int32), { v: "0" }),
          preferredCandidates: field(
            array(struct({ candidateId: field(int32), candidateDirectoryId: field(uuid) })),
            { v: "1+" },
          ),
        }),
      ),
    ),
    leaderEndpoints: field(array(listener), { v: "1+" }),
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
        }),
      ),
    ),
    nodeEndpoints: field(array(nodeEndpoint), { v: "1+", tag: 0, tagged: "1+" }),
  }),
});
