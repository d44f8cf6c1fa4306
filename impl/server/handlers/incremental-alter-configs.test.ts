import { describe, expect, it } from "vitest";
import { defaultBrokerConfig } from "../../broker/config.ts";
import type { BrokerServices } from "../../broker/services.ts";
import {
  type ControllerFixture,
  controllerFixture,
  createTopic,
  leaderlessTopicWithLiveFollower,
  partitionState,
} from "../../controller/controller-test-support.ts";
import { silentLogger } from "../../log.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../../protocol/api.ts";
import { incrementalAlterConfigsApi } from "../../protocol/apis/incremental-alter-configs.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { Reader } from "../../protocol/reader.ts";
import { incrementalAlterConfigsHandler } from "./incremental-alter-configs.ts";
import { handlerContext, responseOf } from "./quorum-test-support.ts";

const set = 0;
const remove = 1;
const append = 2;
const topicResource = 2;
const brokerResource = 4;

function controllerServices(fixture: ControllerFixture): BrokerServices {
  return {
    lifecycles: fixture.lifecycles,
    controllerLink: { isLocal: () => true },
    logger: silentLogger(),
    config: defaultBrokerConfig,
  } as unknown as BrokerServices;
}

type Config = { name: string; configOperation: number; value: string | null };

/** IncrementalAlterConfigs over the wire both ways as v1; the error code and message per resource. */
async function alter(
  fixture: ControllerFixture,
  resources: Array<{ resourceType?: number; resourceName: string; configs: Config[] }>,
  validateOnly = false,
) {
  const version = 1;
  const bytes = encodeRequest(incrementalAlterConfigsApi, version, {
    resources: resources.map((resource) => ({ resourceType: topicResource, ...resource })),
    validateOnly,
  });
  const request = decodeRequest(incrementalAlterConfigsApi, version, new Reader(bytes.toBuffer()));
  const handler = incrementalAlterConfigsHandler(controllerServices(fixture));
  const answer = await responseOf(handler(request, handlerContext(incrementalAlterConfigsApi.key, version)));
  const response = decodeResponse(
    incrementalAlterConfigsApi,
    version,
    encodeResponse(incrementalAlterConfigsApi, version, answer).toBuffer(),
  );
  return response.responses.map(({ errorCode, errorMessage }) => ({ errorCode, errorMessage }));
}

const configsOf = (fixture: ControllerFixture, name: string) =>
  Object.fromEntries(fixture.image.topicsByName.get(name)!.configs);

describe("IncrementalAlterConfigs handler", () => {
  it("sets and deletes topic configs as ConfigRecords, committed before the answer", async () => {
    const fixture = controllerFixture([1]);
    await createTopic(fixture, "orders", [[1]], new Map([["retention.ms", "1000"]]));
    const answers = await alter(fixture, [
      {
        resourceName: "orders",
        configs: [
          { name: "min.insync.replicas", configOperation: set, value: "2" },
          { name: "retention.ms", configOperation: remove, value: null },
          { name: "segment.bytes", configOperation: set, value: "1048576" },
        ],
      },
    ]);
    expect(answers).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(configsOf(fixture, "orders")).toEqual({ "min.insync.replicas": "2", "segment.bytes": "1048576" });
    expect(fixture.log.batches.at(-1)!.map((record) => [record.type, record.value])).toEqual([
      ["ConfigRecord", { resourceType: 2, resourceName: "orders", name: "min.insync.replicas", value: "2" }],
      ["ConfigRecord", { resourceType: 2, resourceName: "orders", name: "retention.ms", value: null }],
      ["ConfigRecord", { resourceType: 2, resourceName: "orders", name: "segment.bytes", value: "1048576" }],
    ]);

    // The same value again changes nothing, so nothing is written.
    const batches = fixture.log.batches.length;
    await alter(fixture, [
      {
        resourceName: "orders",
        configs: [{ name: "min.insync.replicas", configOperation: set, value: "2" }],
      },
    ]);
    expect(fixture.log.batches.slice(batches).flat()).toEqual([]);
  });

  it("refuses what Kafka refuses, per resource, and changes nothing under validate_only", async () => {
    const fixture = controllerFixture([1]);
    await createTopic(fixture, "orders", [[1]]);
    const answers = await alter(fixture, [
      { resourceName: "orders", configs: [{ name: "no.such.config", configOperation: set, value: "1" }] },
      { resourceName: "missing", configs: [{ name: "retention.ms", configOperation: set, value: "1" }] },
      { resourceType: brokerResource, resourceName: "1", configs: [] },
      { resourceType: 8, resourceName: "1", configs: [] },
    ]);
    expect(answers.map(({ errorCode }) => errorCode)).toEqual([
      ErrorCode.INVALID_CONFIG,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
    ]);
    expect(answers[2]!.errorMessage).toMatch(/static/);

    const refusals = await Promise.all(
      [
        [{ name: "min.insync.replicas", configOperation: set, value: "0" }],
        [{ name: "unclean.leader.election.enable", configOperation: set, value: "yes" }],
        [{ name: "retention.ms", configOperation: append, value: "5" }],
        [{ name: "retention.ms", configOperation: set, value: null }],
        [{ name: "retention.ms", configOperation: 9, value: "5" }],
        [
          { name: "retention.ms", configOperation: set, value: "5" },
          { name: "retention.ms", configOperation: set, value: "6" },
        ],
      ].map((configs) => alter(fixture, [{ resourceName: "orders", configs }])),
    );
    expect(refusals.map(([answer]) => answer!.errorCode)).toEqual([
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
    ]);

    const validated = await alter(
      fixture,
      [{ resourceName: "orders", configs: [{ name: "retention.ms", configOperation: set, value: "5" }] }],
      true,
    );
    expect(validated).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(configsOf(fixture, "orders")).toEqual({});
  });

  it("lets a leaderless partition elect a replica outside the ISR once unclean.leader.election.enable is set", async () => {
    const fixture = controllerFixture([1, 2]);
    const topicId = await leaderlessTopicWithLiveFollower(fixture, "orders");
    expect(partitionState(fixture, topicId, 0)).toMatchObject({ leader: -1, isr: [1] });

    const enable = (value: string) => [
      {
        resourceName: "orders",
        configs: [{ name: "unclean.leader.election.enable", configOperation: set, value }],
      },
    ];
    // Validated only: no record, no election.
    await alter(fixture, enable("true"), true);
    expect(partitionState(fixture, topicId, 0).leader).toBe(-1);

    expect(await alter(fixture, enable("true"))).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(fixture.log.batches.at(-1)!.map((record) => record.type)).toEqual([
      "ConfigRecord",
      "PartitionChangeRecord",
    ]);
    expect(partitionState(fixture, topicId, 0)).toMatchObject({ leader: 2, isr: [2] });
    expect(fixture.lifecycles.stateOf(topicId, 0)?.context.uncleanLeaderElectionEnabled).toBe(true);

    // Switched off again: the machines note it, and nothing leaves a leader it has.
    await alter(fixture, [
      {
        resourceName: "orders",
        configs: [{ name: "unclean.leader.election.enable", configOperation: remove, value: null }],
      },
    ]);
    expect(fixture.log.batches.at(-1)!.map((record) => record.type)).toEqual(["ConfigRecord"]);
    expect(fixture.lifecycles.stateOf(topicId, 0)?.context.uncleanLeaderElectionEnabled).toBe(false);
    expect(partitionState(fixture, topicId, 0)).toMatchObject({ leader: 2, isr: [2] });
  });
});
