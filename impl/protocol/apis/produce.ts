/**
 * Produce (key 0), versions 3-11; flexible from 9.
 *
 * ProduceRequest =>
 *   transactional_id: STRING (3+, nullable 3+, default null)
 *   acks: INT16
 *   timeout_ms: INT32
 *   topic_data: [name: STRING, partition_data: [index: INT32, records: RECORDS (nullable 0+)]]
 *
 * ProduceResponse =>
 *   responses: [
 *     name: STRING
 *     partition_responses: [
 *       index: INT32, error_code: INT16, base_offset: INT64
 *       log_append_time_ms: INT64 (2+, default -1)
 *       log_start_offset: INT64 (5+, default -1)
 *       record_errors: [batch_index: INT32, batch_index_error_message: STRING (nullable 8+, default null)] (8+)
 *       error_message: STRING (8+, nullable 8+, default null)
 *       <tagged 10+> 0: current_leader [leader_id: INT32 (default -1), leader_epoch: INT32 (default -1)]
 *     ]
 *   ]
 *   throttle_time_ms: INT32 (1+, default 0)
 *   <tagged 10+> 0: node_endpoints [node_id: INT32, host: STRING, port: INT32, rack: STRING (nullable, default null)]
 *
 * Versions 0-2 are not served: they predate record batches (magic 2), which
 * is the only format Chronik stores. Records stay a view into the request
 * frame so an append copies them once, into the segment. The v10 tagged
 * fields let a NOT_LEADER_OR_FOLLOWER answer name the new leader and where to
 * reach it, sparing the client a Metadata round trip (KIP-951).
 */
import { defineApi } from "../api.ts";
import { array, field, int16, int32, int64, records, string, struct } from "../schema.ts";

export const produceApi = defineApi({
  key: 0,
  name: "Produce",
  versionMin: 3,
  versionMax: 11,
  flexibleMin: 9,
  request: struct({
    transactionalId: field(string, { v: "3+", nullable: "3+", default: null }),
    acks: field(int16),
    timeoutMs: field(int32),
    topicData: field(
      array(
        struct({
          name: field(string),
          partitionData: field(
            array(
              struct({
                index: field(int32),
                records: field(records, { nullable: "0+" }),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
  response: struct({
    responses: field(
      array(
        struct({
          name: field(string),
          partitionResponses: field(
            array(
              struct({
                index: field(int32),
                errorCode: field(int16),
                baseOffset: field(int64),
                logAppendTimeMs: field(int64, { v: "2+", default: -1n }),
                logStartOffset: field(int64, { v: "5+", default: -1n }),
                recordErrors: field(
                  array(
                    struct({
                      batchIndex: field(int32, { v: "8+" }),
                      batchIndexErrorMessage: field(string, { v: "8+", nullable: "8+", default: null }),
                    }),
                  ),
                  { v: "8+" },
                ),
                errorMessage: field(string, { v: "8+", nullable: "8+", default: null }),
                currentLeader: field(
                  struct({
                    leaderId: field(int32, { v: "10+", default: -1 }),
                    leaderEpoch: field(int32, { v: "10+", default: -1 }),
                  }),
                  { v: "10+", tag: 0, tagged: "10+" },
                ),
              }),
            ),
          ),
        }),
      ),
    ),
    throttleTimeMs: field(int32, { v: "1+", default: 0 }),
    nodeEndpoints: field(
      array(
        struct({
          nodeId: field(int32, { v: "10+" }),
          host: field(string, { v: "10+" }),
          port: field(int32, { v: "10+" }),
          rack: field(string, { v: "10+", nullable: "10+", default: null }),
        }),
      ),
      { v: "10+", tag: 0, tagged: "10+" },
    ),
  }),
});
