/**
 * ApiVersions (key 18), versions 0-4; flexible from 3.
 *
 * ApiVersionsRequest =>
 *   client_software_name: COMPACT_STRING (3+)
 *   client_software_version: COMPACT_STRING (3+)
 *
 * ApiVersionsResponse =>
 *   error_code: INT16
 *   api_keys: [api_key: INT16, min_version: INT16, max_version: INT16]
 *   throttle_time_ms: INT32 (1+)
 *   <tagged 3+> 0: supported_features [name, min_version, max_version]
 *               1: finalized_features_epoch INT64 (default -1)
 *               2: finalized_features [name, max_version_level, min_version_level]
 *               3: zk_migration_ready BOOL
 *
 * The response header is always v0 (no tagged fields), even in flexible
 * versions, so a client that sent a version the broker does not know can
 * still read the UNSUPPORTED_VERSION answer in the v0 layout.
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int16, int32, int64, string, struct } from "../schema.ts";

export const apiVersionsApi = defineApi({
  key: 18,
  name: "ApiVersions",
  versionMin: 0,
  versionMax: 4,
  flexibleMin: 3,
  request: struct({
    clientSoftwareName: field(string, { v: "3+" }),
    clientSoftwareVersion: field(string, { v: "3+" }),
  }),
  response: struct({
    errorCode: field(int16),
    apiKeys: field(
      array(
        struct({
          apiKey: field(int16),
          minVersion: field(int16),
          maxVersion: field(int16),
        }),
      ),
    ),
    throttleTimeMs: field(int32, { v: "1+" }),
    supportedFeatures: field(
      array(struct({ name: field(string), minVersion: field(int16), maxVersion: field(int16) })),
      { v: "3+", tag: 0, tagged: "3+" },
    ),
    finalizedFeaturesEpoch: field(int64, { v: "3+", tag: 1, tagged: "3+", default: -1n }),
    finalizedFeatures: field(
      array(struct({ name: field(string), maxVersionLevel: field(int16), minVersionLevel: field(int16) })),
      { v: "3+", tag: 2, tagged: "3+" },
    ),
    zkMigrationReady: field(bool, { v: "3+", tag: 3, tagged: "3+", default: false }),
  }),
});
