/**
 * The ISR machine's generated events (the generator of
 * machines/isr.paths.test.ts) driven against one real partition leader:
 * node 1 leads, and the test plays followers 2 and 3 (isr-wire.ts says why
 * and how). After every wire step the node's answers, high watermark, log end
 * and ISR must be what the machine's state and effects say.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { isrMachine as machine } from "../../machines/isr.ts";
import { serializeSnapshot } from "../../machines/testing/isr-paths.ts";
import { runCoveringSuite } from "./covering-suite.ts";
import { type NodeWithFakes, startNodeWithFakes } from "./fake-brokers.ts";
import { IsrRunner } from "./isr-runner.ts";
import {
  followers,
  isrInput,
  isrStepCost,
  isrWireSteps,
  leaderId,
  replicaLagMsMax,
  whyUnreachableOverTheWire,
} from "./isr-wire.ts";

/** Short enough that a follower whose metadata fetches stall is fenced soon; the fakes fetch every 100 ms or sooner. */
const brokerSessionTimeoutMs = 3_000;
const suiteTimeoutMs = 600_000;

describe("ISR paths against a real partition leader", () => {
  let cluster: NodeWithFakes;
  beforeAll(async () => {
    cluster = await startNodeWithFakes({
      args: [
        "--node-id",
        String(leaderId),
        "--replica-lag-time-max-ms",
        String(replicaLagMsMax),
        "--broker-session-timeout-ms",
        String(brokerSessionTimeoutMs),
      ],
      fakeBrokerIds: followers,
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it(
    "takes every transition a wire step can take, and the leader agrees at every step",
    async () => {
      await runCoveringSuite({
        name: "isr against a node",
        machine,
        input: isrInput,
        steps: isrWireSteps,
        serialize: serializeSnapshot,
        cost: isrStepCost,
        runnerFor: (coverage) => new IsrRunner(cluster.node.port, cluster.fakes, coverage),
        labelOf: (index) => `isr-path-${index}`,
        whyUnreachableOverTheWire,
      });
    },
    suiteTimeoutMs,
  );
});
