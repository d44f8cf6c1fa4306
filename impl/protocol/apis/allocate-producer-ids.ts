/**
 * AllocateProducerIds (key 67), version 0; flexible from 0.
 *
 * AllocateProducerIdsRequest =>
 *   broker_id: INT32
 *   broker_epoch: INT64 (default -1)
 *
 * AllocateProducerIdsResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   producer_id_start: INT64
 *   producer_id_len: INT32
 *
 * A node asks the controller for the next block of producer ids, which it
 * then hands out to InitProducerId alone. The controller commits a
 * ProducerIdsRecord before it answers, so no block is given twice, across
 * restarts and controller failovers alike. The sender names the broker epoch
 * of its registration: an older incarnation gets STALE_BROKER_EPOCH.
 */
import { defineApi } from "../api.ts";
import { field, int16, int32, int64, struct } from "../schema.ts";

export const allocateProducerIdsApi = defineApi({
  key: 67,
  name: "AllocateProducerIds",
  versionMin: 0,
  versionMax: 0,
  flexibleMin: 0,
  request: struct({
    brokerId: field(int32),
    brokerEpoch: field(int64, { default: -1n }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    producerIdStart: field(int64),
    producerIdLen: field(int32),
  }),
});
