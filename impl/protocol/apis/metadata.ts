/**
 * Metadata (key 3), versions 0-12; flexible from 9.
 *
 * MetadataRequest =>
 *   topics: [topic_id: UUID (10+), name: STRING (nullable 10+)] (nullable 1+)
 *   allow_auto_topic_creation: BOOL (4+, default true)
 *   include_cluster_authorized_operations: BOOL (8-10)
 *   include_topic_authorized_operations: BOOL (8+)
 *
 * MetadataResponse =>
 *   throttle_time_ms: INT32 (3+)
 *   brokers: [node_id: INT32, host: STRING, port: INT32, rack: STRING (1+, nullable 1+, default null)]
 *   cluster_id: STRING (2+, nullable 2+, default null)
 *   controller_id: INT32 (1+, default -1)
 *   topics: [
 *     error_code: INT16
 *     name: STRING (nullable 12+)
 *     topic_id: UUID (10+)
 *     is_internal: BOOL (1+, default false)
 *     partitions: [
 *       error_code: INT16, partition_index: INT32, leader_id: INT32, leader_epoch: INT32 (7+, default -1)
 *       replica_nodes: [INT32], isr_nodes: [INT32], offline_replicas: [INT32] (5+)
 *     ]
 *     topic_authorized_operations: INT32 (8+, default INT32_MIN)
 *   ]
 *   cluster_authorized_operations: INT32 (8-10, default INT32_MIN)
 *
 * A null topic list (v1+) asks for every topic and an empty one for none; v0
 * has no null, so there an empty list means every topic. From v10 a topic may
 * be asked for by id with a null name, and from v12 the answer for an unknown
 * id carries a null name. INT32_MIN in the authorized-operations fields means
 * "not asked for"; v11 moved the cluster's to DescribeCluster.
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int16, int32, string, struct, uuid } from "../schema.ts";

/** Kafka's sentinel for authorized operations that the client did not ask for. */
const authorizedOperationsOmitted = -2147483648;

export const metadataApi = defineApi({
  key: 3,
  name: "Metadata",
  versionMin: 0,
  versionMax: 12,
  flexibleMin: 9,
  request: struct({
    topics: field(
      array(
        struct({
          topicId: field(uuid, { v: "10+" }),
          name: field(string, { nullable: "10+" }),
        }),
      ),
      { nullable: "1+" },
    ),
    allowAutoTopicCreation: field(bool, { v: "4+", default: true }),
    includeClusterAuthorizedOperations: field(bool, { v: "8-10" }),
    includeTopicAuthorizedOperations: field(bool, { v: "8+" }),
  }),
  response: struct({
    throttleTimeMs: field(int32, { v: "3+" }),
    brokers: field(
      array(
        struct({
          nodeId: field(int32),
          host: field(string),
          port: field(int32),
          rack: field(string, { v: "1+", nullable: "1+", default: null }),
        }),
      ),
    ),
    clusterId: field(string, { v: "2+", nullable: "2+", default: null }),
    controllerId: field(int32, { v: "1+", default: -1 }),
    topics: field(
      array(
        struct({
          errorCode: field(int16),
          name: field(string, { nullable: "12+" }),
          topicId: field(uuid, { v: "10+" }),
          isInternal: field(bool, { v: "1+", default: false }),
          partitions: field(
            array(
              struct({
                errorCode: field(int16),
                partitionIndex: field(int32),
                leaderId: field(int32),
                leaderEpoch: field(int32, { v: "7+", default: -1 }),
                replicaNodes: field(array(int32)),
                isrNodes: field(array(int32)),
                offlineReplicas: field(array(int32), { v: "5+" }),
              }),
            ),
          ),
          topicAuthorizedOperations: field(int32, { v: "8+", default: authorizedOperationsOmitted }),
        }),
      ),
    ),
    clusterAuthorizedOperations: field(int32, { v: "8-10", default: authorizedOperationsOmitted }),
  }),
});
