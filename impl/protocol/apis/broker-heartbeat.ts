/**
 * BrokerHeartbeat (key 63), versions 0-1; flexible from 0.
 *
 * BrokerHeartbeatRequest =>
 *   broker_id: INT32
 *   broker_epoch: INT64 (default -1)
 *   current_metadata_offset: INT64
 *   want_fence: BOOL
 *   want_shut_down: BOOL
 *   <tagged 1+> 0: offline_log_dirs [UUID]
 *
 * BrokerHeartbeatResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   is_caught_up: BOOL (default false)
 *   is_fenced: BOOL (default true)
 *   should_shut_down: BOOL
 *
 * A registered broker tells the controller what it wants: to be fenced, or
 * to shut down. A broker that wants to shut down while it leads partitions
 * enters controlled shutdown: the controller moves its leaderships away and
 * takes it out of ISRs, and answers should_shut_down once nothing is left
 * for it to lead. (A node's session is kept by its metadata fetches,
 * impl/controller/broker-liveness.ts; this request changes only what the
 * broker asks for.)
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int16, int32, int64, struct, uuid } from "../schema.ts";

export const brokerHeartbeatApi = defineApi({
  key: 63,
  name: "BrokerHeartbeat",
  versionMin: 0,
  versionMax: 1,
  flexibleMin: 0,
  request: struct({
    brokerId: field(int32),
    brokerEpoch: field(int64, { default: -1n }),
    currentMetadataOffset: field(int64),
    wantFence: field(bool),
    wantShutDown: field(bool),
    offlineLogDirs: field(array(uuid), { v: "1+", tag: 0, tagged: "1+", default: [] }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    isCaughtUp: field(bool, { default: false }),
    isFenced: field(bool, { default: true }),
    shouldShutDown: field(bool),
  }),
});
