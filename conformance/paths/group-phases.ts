/**
 * Running the chosen consumer group paths, phase by phase.
 *
 * One node, restarted on the same data between phases: a restored model's
 * group is stored with real requests in the phase before its own and loaded
 * by the restart, as a new coordinator loads it; its paths start from the
 * moment of the load, all at once. New groups' paths run at the same time.
 *
 * A cluster, started for its phase alone: its paths run one after another
 * (a paused node would hold every path's writes), and a restored model's
 * start is made by requests on it (group-restoring.ts).
 */
import type { BrokerProcess } from "../support/broker-process.ts";
import { brokerArgs, groupLoadedAtMs, startGroupBroker } from "./group-broker.ts";
import { startGroupCluster } from "./group-cluster.ts";
import { MemberIds } from "./group-member-ids.ts";
import { type PathOutcome, runPath } from "./group-path-runner.ts";
import type { GroupPath, Phase } from "./group-path-selection.ts";
import { type StoredGroupOnBroker, storeGroup } from "./group-restoring.ts";

/** A path too slow to tell anything (group-path-clock.ts) runs again, with a fresh group, where it can. */
const attemptsMax = 3;

export interface Ran {
  path: GroupPath;
  outcome: PathOutcome;
}

function groupIdOf(path: GroupPath, attempt: number): string {
  return `${path.name.replace(/\W+/g, "-")}-${attempt}`;
}

function restoredIn(paths: readonly GroupPath[], phase: Phase | undefined): GroupPath[] {
  return paths.filter((path) => path.phase === phase && path.model.input.storedGroup !== null);
}

/** Each restored path's group, stored by a running broker. */
async function storeGroups(
  port: number,
  paths: readonly GroupPath[],
  groupIdOfPath: (path: GroupPath) => string,
  scale: number,
): Promise<Map<GroupPath, StoredGroupOnBroker>> {
  const stored = await Promise.all(
    paths.map((path) => storeGroup(port, groupIdOfPath(path), path.model.input.storedGroup!, scale)),
  );
  return new Map(paths.map((path, index) => [path, stored[index]!]));
}

/**
 * The single-node phases in order, on one data directory. `preparation`
 * stores the first phase's restored groups: it must allow every stored member
 * and store its writes.
 */
export async function runSingleNodePhases(
  dataDir: string,
  preparation: Pick<Phase, "scale" | "groupMaxSize" | "groupWritesFail">,
  phases: readonly Phase[],
  paths: readonly GroupPath[],
): Promise<Ran[]> {
  let broker = await startGroupBroker(dataDir, brokerArgs(preparation), true);
  try {
    const store = (phase: Phase | undefined) =>
      storeGroups(broker.port, restoredIn(paths, phase), (path) => groupIdOf(path, 0), phase?.scale ?? 1);
    let stored = await store(phases[0]);
    const ran: Ran[] = [];
    for (const [index, phase] of phases.entries()) {
      await broker.stop();
      for (const group of stored.values()) group.release();
      broker = await startGroupBroker(dataDir, brokerArgs(phase), false);
      ran.push(...(await runLoaded(broker, phase, paths, stored)));
      stored = await store(phases[index + 1]);
    }
    return ran;
  } finally {
    await broker.stop();
  }
}

/** The phase's paths, all at once: the restored ones from the moment the broker loaded their groups. */
async function runLoaded(
  broker: BrokerProcess,
  phase: Phase,
  paths: readonly GroupPath[],
  stored: Map<GroupPath, StoredGroupOnBroker>,
): Promise<Ran[]> {
  const run = async (path: GroupPath): Promise<Ran> => {
    const restored = stored.get(path);
    for (let attempt = 0; ; attempt++) {
      const groupId = restored?.groupId ?? groupIdOf(path, attempt);
      const outcome = await runPath(path, {
        port: broker.port,
        groupId,
        scale: phase.scale,
        ids: new MemberIds(restored?.ids.entries()),
        ...(restored === undefined ? {} : { startedRealMs: groupLoadedAtMs(broker, groupId) }),
        describeInitially: restored !== undefined,
      });
      // A restored group is loaded only once.
      if (outcome.kind !== "inconclusive" || restored !== undefined || attempt + 1 >= attemptsMax) {
        return { path, outcome };
      }
    }
  };
  return Promise.all(paths.filter((path) => path.phase === phase).map(run));
}

/**
 * A cluster phase's paths, on clusters started for them: one after another
 * on one cluster (a paused node would hold every path's writes), except that
 * a path moving the coordinator leaves its cluster changed and has one of its
 * own. A path too slow to tell anything runs again on a fresh cluster.
 */
export async function runClusterPhase(
  phase: Phase,
  brokerSessionTimeoutMs: number,
  paths: readonly GroupPath[],
): Promise<Ran[]> {
  const phasePaths = paths.filter((path) => path.phase === phase);
  const batches = phase.cluster === "moves the coordinator" ? phasePaths.map((path) => [path]) : [phasePaths];
  const ran: Ran[] = [];
  for (const batch of batches) {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const outcomes = await runOnCluster(phase, brokerSessionTimeoutMs, pending, attempt);
      const settled = outcomes.filter(
        ({ outcome }) => outcome.kind !== "inconclusive" || attempt + 1 >= attemptsMax,
      );
      ran.push(...settled);
      pending = pending.filter((path) => !settled.some((done) => done.path === path));
    }
  }
  return ran;
}

async function runOnCluster(
  phase: Phase,
  brokerSessionTimeoutMs: number,
  paths: readonly GroupPath[],
  attempt: number,
): Promise<Ran[]> {
  const cluster = await startGroupCluster(phase, brokerSessionTimeoutMs);
  const groupIdOfPath = (path: GroupPath) => cluster.groupIdFor(groupIdOf(path, attempt));
  const stored = new Map<GroupPath, StoredGroupOnBroker>();
  try {
    const port = cluster.coordinatorPort;
    for (const [path, group] of await storeGroups(
      port,
      restoredIn(paths, phase),
      groupIdOfPath,
      phase.scale,
    )) {
      stored.set(path, group);
    }
    const ran: Ran[] = [];
    for (const path of paths) {
      const restored = stored.get(path);
      const outcome = await runPath(path, {
        port,
        groupId: groupIdOfPath(path),
        scale: phase.scale,
        ids: new MemberIds(restored?.ids.entries()),
        ...(restored === undefined ? {} : { startedRealMs: await restored.startSessions() }),
        describeInitially: restored !== undefined,
        cluster: cluster.control,
      });
      ran.push({ path, outcome });
    }
    return ran;
  } finally {
    for (const group of stored.values()) group.release();
    await cluster.destroy();
  }
}
