/**
 * DescribeConfigs for topics (resource type 2) and this broker (type 4), with
 * Kafka's config names, where each value comes from (ConfigSource), its
 * synonyms and, when asked, its documentation.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { effectiveTopicConfig, topicConfigDefinitions } from "../../broker/topic-configs.ts";
import { configResourceBroker, configResourceTopic } from "../../metadata/image.ts";
import { internalTopicNames } from "../../metadata/internal-topics.ts";
import type { describeConfigsApi } from "../../protocol/apis/describe-configs.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { brokerConfigEntries } from "./broker-configs.ts";
import { configSourceDefault, configSourceDynamicTopic, configSourceStaticBroker } from "./create-topics.ts";

type Request = ReturnType<typeof describeConfigsApi.request.read>;
type Response = InferInput<typeof describeConfigsApi.response>;
type Result = Response["results"][number];
type Entry = Result["configs"][number];

/** DescribeConfigs' ConfigType values. */
const configTypeCodes = { boolean: 1, string: 2, int: 3, short: 4, long: 5, double: 6, list: 7 } as const;

function wanted(keys: string[] | null, name: string): boolean {
  return keys === null || keys.length === 0 || keys.includes(name);
}

function topicEntries(
  services: BrokerServices,
  overrides: ReadonlyMap<string, string>,
  request: Request,
  keys: string[] | null,
): Entry[] {
  return topicConfigDefinitions
    .filter((definition) => wanted(keys, definition.name))
    .map((definition) => {
      const overridden = overrides.has(definition.name);
      const brokerValue = definition.defaultValue(services.config);
      const synonyms = [
        ...(overridden
          ? [
              {
                name: definition.name,
                value: overrides.get(definition.name)!,
                source: configSourceDynamicTopic,
              },
            ]
          : []),
        { name: definition.brokerSynonym, value: brokerValue, source: configSourceDefault },
      ];
      return {
        name: definition.name,
        value: effectiveTopicConfig(overrides, services.config, definition.name),
        readOnly: false,
        isDefault: !overridden,
        configSource: overridden ? configSourceDynamicTopic : configSourceDefault,
        isSensitive: false,
        synonyms: request.includeSynonyms ? synonyms : [],
        configType: configTypeCodes[definition.type],
        documentation: request.includeDocumentation ? definition.documentation : null,
      };
    });
}

export function describeConfigsHandler(services: BrokerServices): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    const results = request.resources.map((resource): Result => {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      if (resource.resourceType === configResourceTopic) {
        const topic = services.image.topicsByName.get(resource.resourceName);
        if (!topic || internalTopicNames.has(topic.name)) {
          return {
            ...base,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `Topic ${resource.resourceName} does not exist.`,
            configs: [],
          };
        }
        return {
          ...base,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          configs: topicEntries(services, topic.configs, request, resource.configurationKeys),
        };
      }
      if (resource.resourceType === configResourceBroker) {
        if (resource.resourceName !== "" && resource.resourceName !== String(services.config.nodeId)) {
          return {
            ...base,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Broker ${resource.resourceName} is not this broker (${services.config.nodeId}).`,
            configs: [],
          };
        }
        const configs = brokerConfigEntries(services.config)
          .filter((entry) => wanted(resource.configurationKeys, entry.name))
          .map((entry) => ({
            name: entry.name,
            value: entry.value,
            readOnly: true,
            isDefault: false,
            configSource: configSourceStaticBroker,
            isSensitive: false,
            synonyms: request.includeSynonyms
              ? [{ name: entry.name, value: entry.value, source: configSourceStaticBroker }]
              : [],
            configType: configTypeCodes[entry.type],
            documentation: request.includeDocumentation ? entry.documentation : null,
          }));
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      }
      return {
        ...base,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Unsupported resource type ${resource.resourceType}.`,
        configs: [],
      };
    });
    return { throttleTimeMs: 0, results };
  };
}
