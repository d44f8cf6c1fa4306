/**
 * The consumer group machine's generated paths (machines/testing/
 * consumer-group-paths.ts, the generator its own path test uses), driven
 * against a real broker over the Kafka wire. A covering few of the paths are
 * chosen (group-path-selection.ts); each runs with a fresh group id, its
 * requests from one simulated client each, its ticks as real waits past the
 * broker's deadlines, and after every step the broker's answers and
 * DescribeGroups must be the machine's (group-path-runner.ts).
 *
 * One node runs every path it can, in phases (group-phases.ts):
 * - new groups, and groups restored above group.max.size 2 (stored by a
 *   broker that allowed 3 members, then restarted);
 * - restored stable groups, group.max.size 3;
 * - restored stable groups and new groups with every group write failing
 *   (min.insync.replicas 2 on one node: the model's group.persistFailed).
 * Three transitions need what one node cannot do, and run on a three-node
 * cluster (group-cluster.ts): a static member's new id still being written
 * when another member leaves or its session ends (the follower of the
 * group's partition paused, so the write waits), and coordinator.unloaded (the
 * coordinator paused until another node leads the group's partition).
 */
import { afterAll, describe, expect, it } from "vitest";
import { consumerGroupMachine } from "../../machines/consumer-group.ts";
import {
  models,
  newGroupModel,
  restoredOverCapacityModel,
  restoredStableModel,
} from "../../machines/testing/consumer-group-paths.ts";
import { allStateIds, allTransitionKeys, Coverage } from "../../machines/testing/coverage.ts";
import { makeDataDir, removeDataDir } from "../support/broker-process.ts";
import { choosePaths, type Phase } from "./group-path-selection.ts";
import { type Ran, runClusterPhase, runSingleNodePhases } from "./group-phases.ts";

/**
 * Real milliseconds per model millisecond: the models' deadlines are at least
 * 50 ms apart, so 3 s apart on one node, far more than a loaded CPU delays a
 * step. A moved coordinator must be fenced within the 50 ms a waiting join
 * has left: 15 s on its cluster (the path does not wait them out).
 */
const singleNodeScale = 60;
const singleNode = { scale: singleNodeScale, groupWritesFail: false, cluster: null };
const singleNodePhases: Phase[] = [
  {
    ...singleNode,
    name: "new groups, restored above size",
    groupMaxSize: 2,
    models: [newGroupModel, restoredOverCapacityModel],
  },
  { ...singleNode, name: "restored stable", groupMaxSize: 3, models: [restoredStableModel] },
  {
    ...singleNode,
    name: "writes failing",
    groupMaxSize: 3,
    groupWritesFail: true,
    models: [restoredStableModel, newGroupModel],
  },
];
/** Stores the first phase's restored groups: room for every stored member, writes that succeed. */
const preparation = { scale: singleNodeScale, groupMaxSize: 3, groupWritesFail: false };

const heldWrites: Phase = {
  name: "a cluster holding writes",
  scale: 60,
  groupMaxSize: 3,
  groupWritesFail: false,
  cluster: "holds writes",
  models: [restoredStableModel, newGroupModel],
};
const movedCoordinator: Phase = {
  ...heldWrites,
  name: "a cluster moving the coordinator",
  scale: 300,
  cluster: "moves the coordinator",
  models: [newGroupModel],
};
/** A paused follower must stay in the ISR while a write is held; a paused coordinator must be fenced soon. */
const heldWritesSessionTimeoutMs = 60_000;
const movedCoordinatorSessionTimeoutMs = 2_000;

describe("consumer group paths against the broker", () => {
  let dataDir: string | undefined;

  afterAll(async () => {
    if (dataDir !== undefined) await removeDataDir(dataDir);
  });

  it("every chosen path agrees with the machine, together taking every transition", async () => {
    const startedAt = Date.now();
    const { paths, untaken } = choosePaths(models, [singleNodePhases, [heldWrites, movedCoordinator]]);
    console.log(`chose ${paths.length} paths in ${Date.now() - startedAt} ms`);

    dataDir = await makeDataDir();
    const ran: Ran[] = [
      ...(await runSingleNodePhases(dataDir, preparation, singleNodePhases, paths)),
      ...(await runClusterPhase(heldWrites, heldWritesSessionTimeoutMs, paths)),
      ...(await runClusterPhase(movedCoordinator, movedCoordinatorSessionTimeoutMs, paths)),
    ];

    const coverage = new Coverage(consumerGroupMachine, newGroupModel.input);
    for (const { path, outcome } of ran) {
      if (outcome.kind === "agreed") coverage.record(path.initial, path);
    }
    const agreed = ran.filter(({ outcome }) => outcome.kind === "agreed");
    const onCluster = agreed.filter(({ path }) => path.phase.cluster !== null).length;
    const states = allStateIds(consumerGroupMachine).length;
    const transitions = allTransitionKeys(consumerGroupMachine).length;
    console.log(
      `consumer-group against the broker: ${agreed.length} paths (${onCluster} on a cluster), ` +
        `${states - coverage.missingStates().length}/${states} states, ` +
        `${transitions - coverage.missingTransitions().length}/${transitions} transitions, ` +
        `${Math.round((Date.now() - startedAt) / 1000)} s`,
    );
    const problems = ran.filter(({ outcome }) => outcome.kind !== "agreed");
    for (const { outcome } of problems)
      console.log(`${outcome.kind}: ${"message" in outcome ? outcome.message : ""}`);
    expect(problems.map(({ path, outcome }) => `${path.name}: ${outcome.kind}`)).toEqual([]);
    expect(untaken).toEqual([]);
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions()).toEqual([]);
  });
});
