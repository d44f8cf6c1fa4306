/**
 * BrokerRegistration (key 62), versions 0-4; flexible from 0.
 *
 * BrokerRegistrationRequest =>
 *   broker_id: INT32
 *   cluster_id: STRING
 *   incarnation_id: UUID
 *   listeners: [name: STRING, host: STRING, port: UINT16, security_protocol: INT16]
 *   features: [name: STRING, min_supported_version: INT16, max_supported_version: INT16]
 *   rack: STRING (nullable)
 *   is_migrating_zk_broker: BOOL (1+, default false)
 *   log_dirs: [UUID] (2+)
 *   previous_broker_epoch: INT64 (3+, default -1)
 *
 * BrokerRegistrationResponse =>
 *   throttle_time_ms: INT32
 *   error_code: INT16
 *   broker_epoch: INT64 (default -1)
 *
 * A node tells the controller where clients reach it; the controller commits
 * a RegisterBrokerRecord and answers with the broker epoch it gave this
 * incarnation. v4 only widens what the controller may answer (KIP-1006).
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int16, int32, int64, string, struct, uint16, uuid } from "../schema.ts";

export const brokerRegistrationApi = defineApi({
  key: 62,
  name: "BrokerRegistration",
  versionMin: 0,
  versionMax: 4,
  flexibleMin: 0,
  request: struct({
    brokerId: field(int32),
    clusterId: field(string),
    incarnationId: field(uuid),
    listeners: field(
      array(
        struct({
          name: field(string),
          host: field(string),
          port: field(uint16),
          securityProtocol: field(int16),
        }),
      ),
    ),
    features: field(
      array(
        struct({
          name: field(string),
          minSupportedVersion: field(int16),
          maxSupportedVersion: field(int16),
        }),
      ),
    ),
    rack: field(string, { nullable: "0+" }),
    isMigratingZkBroker: field(bool, { v: "1+", default: false }),
    logDirs: field(array(uuid), { v: "2+" }),
    previousBrokerEpoch: field(int64, { v: "3+", default: -1n }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    brokerEpoch: field(int64, { default: -1n }),
  }),
});
