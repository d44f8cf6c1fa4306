/**
 * BeginQuorumEpoch (key 53), versions 0-1; flexible from 1.
 *
 * BeginQuorumEpochRequest =>
 *   cluster_id: STRING (nullable 0+, default null)
 *   voter_id: INT32 (1+, default -1)
 *   topics: [
 *     topic_name: STRING
 *     partitions: [
 *       partition_index: INT32
 *       voter_directory_id: UUID (1+)
 *       leader_id: INT32
 *       leader_epoch: INT32
 *     ]
 *   ]
 *   leader_endpoints: [name: STRING, host: STRING, port: UINT16] (1+)
 *
 * BeginQuorumEpochResponse =>
 *   error_code: INT16
 *   topics: [
 *     topic_name: STRING
 *     partitions: [partition_index: INT32, error_code: INT16, leader_id: INT32, leader_epoch: INT32]
 *   ]
 *   <tagged 1+> 0: node_endpoints [node_id: INT32, host: STRING, port: UINT16]
 *
 * A newly elected leader tells every voter of its epoch at once rather than
 * waiting for them to time out and fetch. Version 1 (KIP-853) becomes
 * flexible, names the receiving voter by id and directory id, and carries
 * the leader's listeners so a voter can reach a leader it has never seen.
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, string, struct, uuid } from "../schema.ts";
import { listener, nodeEndpoint, quorumTopics } from "./quorum-shapes.ts";

export const beginQuorumEpochApi = defineApi({
  key: 53,
  name: "BeginQuorumEpoch",
  versionMin: 0,
  versionMax: 1,
  flexibleMin: 1,
  request: struct({
    clusterId: field(string, { nullable: "0+", default: null }),
    voterId: field(int32, { v: "1+", default: -1 }),
    topics: field(
      quorumTopics(
        struct({
          partitionIndex: field(int32),
          voterDirectoryId: field(uuid, { v: "1+" }),
          leaderId: field(int32),
          leaderEpoch: field(int32),
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
