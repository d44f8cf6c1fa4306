/**
 * ElectLeaders (key 43), versions 0-2; flexible from 2.
 *
 * ElectLeadersRequest =>
 *   election_type: INT8 (1+; 0 preferred, 1 unclean)
 *   topic_partitions: [               (nullable: null asks for every partition)
 *     topic: STRING
 *     partitions: [INT32]
 *   ]
 *   timeout_ms: INT32 (default 60000)
 *
 * ElectLeadersResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16 (1+)
 *   replica_election_results: [
 *     topic: STRING
 *     partition_result: [
 *       partition_id: INT32
 *       error_code: INT16
 *       error_message: NULLABLE_STRING
 *     ]
 *   ]
 *
 * Version 0 has no election type: it always asks for the preferred leader (KIP-460 added unclean).
 */
import { defineApi } from "../api.ts";
import { array, field, int8, int16, int32, string, struct } from "../schema.ts";

/** election_type values (Kafka's ElectionType). */
export const electionTypePreferred = 0;
export const electionTypeUnclean = 1;

export const electLeadersApi = defineApi({
  key: 43,
  name: "ElectLeaders",
  versionMin: 0,
  versionMax: 2,
  flexibleMin: 2,
  request: struct({
    electionType: field(int8, { v: "1+", default: electionTypePreferred }),
    topicPartitions: field(array(struct({ topic: field(string), partitions: field(array(int32)) })), {
      nullable: "0+",
    }),
    timeoutMs: field(int32, { default: 60_000 }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16, { v: "1+", default: 0 }),
    replicaElectionResults: field(
      array(
        struct({
          topic: field(string),
          partitionResult: field(
            array(
              struct({
                partitionId: field(int32),
                errorCode: field(int16),
                errorMessage: field(string, { nullable: "0+", default: null }),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
});
