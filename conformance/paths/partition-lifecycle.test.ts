/**
 * The partition lifecycle machine's generated paths (the generator of
 * machines/partition-lifecycle.paths.test.ts) driven against one real node:
 * node 0 is the controller, and the test plays brokers 1, 2 and 3, the
 * partition's replicas (partition-lifecycle-wire.ts says why and how). After
 * every machine event the node's answers and Metadata must be what the
 * machine's state and actions say.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { partitionLifecycleMachine as machine } from "../../machines/partition-lifecycle.ts";
import { lifecycleInput, withoutEpochs } from "../../machines/testing/partition-lifecycle-paths.ts";
import { runCoveringSuite } from "./covering-suite.ts";
import { type NodeWithFakes, startNodeWithFakes } from "./fake-brokers.ts";
import { createAnchorTopics, LifecycleRunner } from "./partition-lifecycle-runner.ts";
import {
  lifecycleStepCost,
  lifecycleWireSteps,
  whyUnreachableOverTheWire,
} from "./partition-lifecycle-wire.ts";

/** Short enough that a fake whose fetches stall is fenced soon; the fakes fetch every 100 ms or sooner. */
const brokerSessionTimeoutMs = 3_000;
const suiteTimeoutMs = 600_000;

describe("partition lifecycle paths against a real controller", () => {
  let cluster: NodeWithFakes;
  beforeAll(async () => {
    cluster = await startNodeWithFakes({
      args: ["--node-id", "0", "--broker-session-timeout-ms", String(brokerSessionTimeoutMs)],
      fakeBrokerIds: [1, 2, 3],
    });
    await createAnchorTopics(cluster.node.port);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it(
    "takes every transition a wire step can take, and the node agrees at every step",
    async () => {
      await runCoveringSuite({
        name: "partition lifecycle against a node",
        machine,
        input: lifecycleInput,
        steps: lifecycleWireSteps,
        serialize: withoutEpochs,
        cost: lifecycleStepCost,
        runnerFor: (coverage) => new LifecycleRunner(cluster.node.port, cluster.fakes, coverage),
        labelOf: (index) => `lifecycle-path-${index}`,
        whyUnreachableOverTheWire,
      });
    },
    suiteTimeoutMs,
  );
});
