/**
 * InitProducerId (key 22), versions 0-5; flexible from 2.
 *
 * InitProducerIdRequest =>
 *   transactional_id: NULLABLE_STRING
 *   transaction_timeout_ms: INT32
 *   producer_id: INT64 (3+, default -1)
 *   producer_epoch: INT16 (3+, default -1)
 *
 * InitProducerIdResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   producer_id: INT64 (default -1)
 *   producer_epoch: INT16
 *
 * A null transactional id asks for an idempotent producer's id, and the
 * timeout is then unused. From v3 a producer sends the id and epoch it holds
 * so that it can keep its id after INVALID_PRODUCER_EPOCH instead of starting
 * over; -1 for both means it holds none. v4 (PRODUCER_FENCED) and v5
 * (TRANSACTION_ABORTABLE) only add error codes an older client would not
 * understand.
 */
import { defineApi } from "../api.ts";
import { field, int16, int32, int64, string, struct } from "../schema.ts";

export const initProducerIdApi = defineApi({
  key: 22,
  name: "InitProducerId",
  versionMin: 0,
  versionMax: 5,
  flexibleMin: 2,
  request: struct({
    transactionalId: field(string, { nullable: "0+" }),
    transactionTimeoutMs: field(int32),
    producerId: field(int64, { v: "3+", default: -1n }),
    producerEpoch: field(int16, { v: "3+", default: -1 }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    producerId: field(int64, { default: -1n }),
    producerEpoch: field(int16),
  }),
});
