/**
 * DescribeConfigs (key 32), versions 0-4; flexible from 4.
 *
 * DescribeConfigsRequest =>
 *   resources: [
 *     resource_type: INT8
 *     resource_name: STRING
 *     configuration_keys: NULLABLE [STRING]   (null: every key)
 *   ]
 *   include_synonyms: BOOL (1+)
 *   include_documentation: BOOL (3+)
 *
 * DescribeConfigsResponse =>
 *   throttle_time_ms: INT32
 *   results: [
 *     error_code: INT16
 *     error_message: NULLABLE_STRING
 *     resource_type: INT8
 *     resource_name: STRING
 *     configs: [
 *       name: STRING
 *       value: NULLABLE_STRING
 *       read_only: BOOL
 *       is_default: BOOL (0 only)
 *       config_source: INT8 (1+, default -1)
 *       is_sensitive: BOOL
 *       synonyms: [name: STRING, value: NULLABLE_STRING, source: INT8] (1+)
 *       config_type: INT8 (3+, default 0)
 *       documentation: NULLABLE_STRING (3+)
 *     ]
 *   ]
 *
 * Version 1 replaced is_default with the richer config_source, so a handler
 * fills both and the grammar sends whichever the version has.
 */
import { defineApi } from "../api.ts";
import { array, bool, field, int8, int16, int32, string, struct } from "../schema.ts";

export const describeConfigsApi = defineApi({
  key: 32,
  name: "DescribeConfigs",
  versionMin: 0,
  versionMax: 4,
  flexibleMin: 4,
  request: struct({
    resources: field(
      array(
        struct({
          resourceType: field(int8),
          resourceName: field(string),
          configurationKeys: field(array(string), { nullable: "0+" }),
        }),
      ),
    ),
    includeSynonyms: field(bool, { v: "1+", default: false }),
    includeDocumentation: field(bool, { v: "3+", default: false }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    results: field(
      array(
        struct({
          errorCode: field(int16),
          errorMessage: field(string, { nullable: "0+" }),
          resourceType: field(int8),
          resourceName: field(string),
          configs: field(
            array(
              struct({
                name: field(string),
                value: field(string, { nullable: "0+" }),
                readOnly: field(bool),
                isDefault: field(bool, { v: "0" }),
                configSource: field(int8, { v: "1+", default: -1 }),
                isSensitive: field(bool),
                synonyms: field(
                  array(
                    struct({
                      name: field(string),
                      value: field(string, { nullable: "0+" }),
                      source: field(int8),
                    }),
                  ),
                  { v: "1+" },
                ),
                configType: field(int8, { v: "3+", default: 0 }),
                documentation: field(string, { v: "3+", nullable: "0+" }),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
});
