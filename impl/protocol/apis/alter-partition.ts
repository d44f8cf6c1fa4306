/**
 * AlterPartition (key 56), versions 0-3; flexible from 0.
 *
 * AlterPartitionRequest =>
 *   broker_id: INT32
 *   broker_epoch: INT64 (default -1)
 *   topics: [
 *     topic_name: STRING (0-1)
 *     topic_id: UUID (2+)
 *     partitions: [
 *       partition_index: INT32
 *       leader_epoch: INT32
 *       new_isr: [INT32] (0-2)
 *       new_isr_with_epochs: [broker_id: INT32, broker_epoch: INT64 (default -1)] (3+)
 *       leader_recovery_state: INT8 (1+, default 0)   (1: recovering from an unclean election)
 *       partition_epoch: INT32
 *     ]
 *   ]
 *
 * AlterPartitionResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   topics: [
 *     topic_name: STRING (0-1)
 *     topic_id: UUID (2+)
 *     partitions: [
 *       partition_index: INT32
 *       error_code: INT16
 *       leader_id: INT32
 *       leader_epoch: INT32
 *       isr: [INT32]
 *       leader_recovery_state: INT8 (1+, default 0)
 *       partition_epoch: INT32
 *     ]
 *   ]
 *
 * A partition leader proposes a new ISR to the controller, which commits it
 * as a metadata record only if the leader and partition epochs still match
 * (INVALID_UPDATE_VERSION, FENCED_LEADER_EPOCH otherwise) and answers with
 * the state it committed. v2 (KIP-841) names topics by id instead of name and
 * may refuse with INELIGIBLE_REPLICA or NEW_LEADER_ELECTED; v3 (KIP-903) sends
 * each ISR member with its broker epoch, so a replica that has restarted
 * since it caught up (perhaps with an empty disk) is not let back in on its
 * old standing.
 * The response of v3 is that of v2.
 */
import { defineApi } from "../api.ts";
import { array, field, int8, int16, int32, int64, string, struct, uuid } from "../schema.ts";

export const alterPartitionApi = defineApi({
  key: 56,
  name: "AlterPartition",
  versionMin: 0,
  versionMax: 3,
  flexibleMin: 0,
  request: struct({
    brokerId: field(int32),
    brokerEpoch: field(int64, { default: -1n }),
    topics: field(
      array(
        struct({
          topicName: field(string, { v: "0-1" }),
          topicId: field(uuid, { v: "2+" }),
          partitions: field(
            array(
              struct({
                partitionIndex: field(int32),
                leaderEpoch: field(int32),
                newIsr: field(array(int32), { v: "0-2" }),
                newIsrWithEpochs: field(
                  array(struct({ brokerId: field(int32), brokerEpoch: field(int64, { default: -1n }) })),
                  { v: "3+" },
                ),
                leaderRecoveryState: field(int8, { v: "1+", default: 0 }),
                partitionEpoch: field(int32),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    topics: field(
      array(
        struct({
          topicName: field(string, { v: "0-1" }),
          topicId: field(uuid, { v: "2+" }),
          partitions: field(
            array(
              struct({
                partitionIndex: field(int32),
                errorCode: field(int16),
                leaderId: field(int32),
                leaderEpoch: field(int32),
                isr: field(array(int32)),
                leaderRecoveryState: field(int8, { v: "1+", default: 0 }),
                partitionEpoch: field(int32),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
});
