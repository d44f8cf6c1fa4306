/**
 * The ISR machine's generated events (the generator of
 * machines/isr.paths.test.ts) driven against one real partition leader:
 * node 1 leads, and the test plays followers 2 and 3 and the controller, the
 * one voter of the metadata quorum, which node 1 observes as a broker
 * (isr-wire.ts says why and how). After every wire step the node's answers,
 * high watermark, log end, ISR and AlterPartition requests must be what the
 * machine's state and effects say.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { formatVoters } from "../../impl/cluster/voters.ts";
import { isrMachine as machine } from "../../machines/isr.ts";
import { serializeSnapshot } from "../../machines/testing/isr-paths.ts";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";
import { runCoveringSuite } from "./covering-suite.ts";
import { IsrRunner } from "./isr-runner.ts";
import {
  controllerId,
  followers,
  isrInput,
  isrStepCost,
  isrWireSteps,
  leaderId,
  replicaLagMsMax,
  whyUnreachableOverTheWire,
} from "./isr-wire.ts";
import { PlayedController } from "./played-controller.ts";
import { PlayedFollower } from "./played-followers.ts";

const suiteTimeoutMs = 600_000;

describe("ISR paths against a real partition leader", () => {
  let controller: PlayedController;
  let node: BrokerProcess | undefined;
  let dataDir: string | undefined;
  const playedFollowers = new Map<number, PlayedFollower>();
  beforeAll(async () => {
    controller = await PlayedController.start(controllerId);
    // The followers are registered brokers the controller knows; they talk only to the leader.
    for (const follower of followers) controller.registerBroker(follower);
    dataDir = await makeDataDir();
    node = await startBroker({
      dataDir,
      args: [
        "--node-id",
        String(leaderId),
        "--voters",
        formatVoters(controller.voters),
        "--replica-lag-time-max-ms",
        String(replicaLagMsMax),
        // Durability is not what these paths check; a sync per produce would only slow the fill.
        "--fsync",
        "never",
      ],
    });
    for (const follower of followers) {
      playedFollowers.set(follower, new PlayedFollower(follower, node.port, controller.clusterId));
    }
  }, 60_000);
  afterAll(async () => {
    for (const follower of playedFollowers.values()) follower.close();
    // Killed: its shutdown is not what these paths check, and its data directory goes with it.
    await node?.kill();
    await controller?.close();
    if (dataDir !== undefined) await removeDataDir(dataDir);
  });

  it(
    "takes every transition, and the leader agrees at every step",
    async () => {
      await runCoveringSuite({
        name: "isr against a node",
        machine,
        input: isrInput,
        steps: isrWireSteps,
        serialize: serializeSnapshot,
        cost: isrStepCost,
        runnerFor: (coverage) => new IsrRunner(node!, controller, playedFollowers, coverage),
        labelOf: (index) => `isr-path-${index}`,
        whyUnreachableOverTheWire,
      });
    },
    suiteTimeoutMs,
  );
});
