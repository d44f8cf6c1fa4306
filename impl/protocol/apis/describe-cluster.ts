/**
 * DescribeCluster (key 60), versions 0-1; flexible from 0.
 *
 * DescribeClusterRequest =>
 *   include_cluster_authorized_operations: BOOL
 *   endpoint_type: INT8 (1+, default 1)        (1: brokers, 2: controllers)
 *
 * DescribeClusterResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   error_message: NULLABLE_STRING (default null)
 *   endpoint_type: INT8 (1+, default 1)
 *   cluster_id: STRING
 *   controller_id: INT32 (default -1)
 *   brokers: [broker_id: INT32, host: STRING, port: INT32, rack: NULLABLE_STRING (default null)]
 *   cluster_authorized_operations: INT32 (default -2147483648)
 *
 * The authorized-operations default is INT32_MIN, which Kafka reads as "not
 * requested", distinct from an empty set of operations (0).
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int8, int16, int32, string, struct } from "../schema.ts";

export const describeClusterApi = defineApi({
  key: 60,
  name: "DescribeCluster",
  versionMin: 0,
  versionMax: 1,
  flexibleMin: 0,
  request: struct({
    includeClusterAuthorizedOperations: field(bool),
    endpointType: field(int8, { v: "1+", default: 1 }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, { nullable: "0+", default: null }),
    endpointType: field(int8, { v: "1+", default: 1 }),
    clusterId: field(string),
    controllerId: field(int32, { default: -1 }),
    brokers: field(
      array(
        struct({
          brokerId: field(int32),
          host: field(string),
          port: field(int32),
          rack: field(string, { nullable: "0+", default: null }),
        }),
      ),
    ),
    clusterAuthorizedOperations: field(int32, { default: -2_147_483_648 }),
  }),
});
