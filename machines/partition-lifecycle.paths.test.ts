/**
 * Generated paths through the partition lifecycle, from the shared generator
 * (testing/partition-lifecycle-paths.ts, which the conformance suite also
 * drives against a real controller): one partition with replicas [1, 2, 3] on
 * brokers 1-3, its states told apart without their epochs.
 */
import { describe, expect, it } from "vitest";
import { initialTransition, transition } from "xstate";
import { createTestModel } from "xstate/graph";
import {
  partitionLifecycleMachine as machine,
  type PartitionLifecycleContext,
  type PartitionLifecycleEvent,
  type PartitionMetadataRecord,
} from "./partition-lifecycle.ts";
import { Coverage, type PathLike } from "./testing/coverage.ts";
import {
  lifecycleInput as input,
  isLive,
  lifecycleEvents,
  lifecycleOnly,
  rebaseAlterPartition as rebase,
  type Snapshot,
  withoutEpochs,
} from "./testing/partition-lifecycle-paths.ts";

const events = lifecycleEvents();

interface Registration {
  replicas: number[];
  isr: number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

function registrationOf(context: PartitionLifecycleContext): Registration {
  const { replicas, isr, leader, leaderEpoch, partitionEpoch } = context;
  return { replicas, isr, leader, leaderEpoch, partitionEpoch };
}

/** Replays a record as a node's metadata image does, written here apart from the machine's own helper. */
function replay(registration: Registration, record: PartitionMetadataRecord): Registration {
  switch (record.type) {
    case "PartitionRecord": {
      const { replicas, isr, leader, leaderEpoch, partitionEpoch } = record.value;
      return { replicas, isr, leader, leaderEpoch, partitionEpoch };
    }
    case "PartitionChangeRecord": {
      const { isr, leader } = record.value;
      return {
        ...registration,
        isr: isr ?? registration.isr,
        leader: leader === -2 ? registration.leader : leader,
        leaderEpoch: leader === -2 ? registration.leaderEpoch : registration.leaderEpoch + 1,
        partitionEpoch: registration.partitionEpoch + 1,
      };
    }
    case "RemoveTopicRecord":
      return registration;
  }
}

/** Invariants of every state: LeaderInIsr, IsrSubsetOfReplicas, no ineligible leader, offline only when forced. */
function checkState(snapshot: Snapshot): void {
  const context = snapshot.context;
  const where = JSON.stringify([snapshot.value, context]);
  if (snapshot.value === "NonExistent") {
    expect(registrationOf(context), where).toEqual({
      replicas: [],
      isr: [],
      leader: -1,
      leaderEpoch: -1,
      partitionEpoch: -1,
    });
    return;
  }
  expect(context.isr.length, where).toBeGreaterThan(0);
  expect(new Set(context.isr).size, where).toBe(context.isr.length);
  expect(
    context.isr.every((member) => context.replicas.includes(member)),
    where,
  ).toBe(true);
  if (context.leader !== -1) {
    expect(context.isr, where).toContain(context.leader);
    expect(isLive(context, context.leader), where).toBe(true);
  }
  // Only a lone ISR member may be ineligible: the one Kafka keeps so a clean election can find it.
  if (context.isr.length > 1)
    expect(
      context.isr.every((member) => isLive(context, member)),
      where,
    ).toBe(true);
  if (snapshot.value === "Online") expect(context.leader, where).not.toBe(-1);
  if (snapshot.value === "Offline") expect(context.leader, where).toBe(-1);
  if (context.leader === -1 && (snapshot.value === "Offline" || snapshot.value === "New")) {
    const electable = context.replicas.filter(
      (replica) =>
        isLive(context, replica) && (context.isr.includes(replica) || context.uncleanLeaderElectionEnabled),
    );
    expect(electable, `leaderless although a replica could lead: ${where}`).toEqual([]);
  }
}

/** Checks each state as the graph is explored, so a broken variant fails before its (maybe unbounded) graph is built. */
function checkWhileExploring(snapshot: Snapshot): boolean {
  checkState(snapshot);
  return false;
}

/** Kafka's AlterPartition checks in Kafka's order, written here apart from the machine's guards. */
function expectedAlterPartitionError(
  previous: Snapshot,
  request: Extract<PartitionLifecycleEvent, { type: "isr.changeRequested" }>,
): string {
  const context = previous.context;
  const { newIsr } = request;
  if (previous.value !== "Online" && previous.value !== "Offline") return "UNKNOWN_TOPIC_OR_PARTITION";
  if (request.leaderEpoch > context.leaderEpoch || request.partitionEpoch > context.partitionEpoch) {
    return "NOT_CONTROLLER";
  }
  if (request.leaderEpoch < context.leaderEpoch) return "FENCED_LEADER_EPOCH";
  if (request.brokerId !== context.leader) return "INVALID_REQUEST";
  if (request.partitionEpoch < context.partitionEpoch) return "INVALID_UPDATE_VERSION";
  if (new Set(newIsr).size !== newIsr.length || newIsr.some((member) => !context.replicas.includes(member))) {
    return "INVALID_REQUEST";
  }
  if (!newIsr.includes(context.leader)) return "INVALID_REQUEST";
  if (newIsr.some((member) => !isLive(context, member))) return "INELIGIBLE_REPLICA";
  return "NONE";
}

function expectedPreferredElectionError(previous: Snapshot): string {
  const context = previous.context;
  if (previous.value !== "Online" && previous.value !== "Offline") return "UNKNOWN_TOPIC_OR_PARTITION";
  const preferred = context.replicas[0]!;
  if (context.leader === preferred) return "ELECTION_NOT_NEEDED";
  return isLive(context, preferred) && context.isr.includes(preferred)
    ? "NONE"
    : "PREFERRED_LEADER_NOT_AVAILABLE";
}

/** Kafka's UNCLEAN ElectLeaders, written here apart from the machine's guards. */
function expectedUncleanElectionError(previous: Snapshot): string {
  const context = previous.context;
  if (previous.value !== "Online" && previous.value !== "Offline") return "UNKNOWN_TOPIC_OR_PARTITION";
  if (context.leader !== -1) return "ELECTION_NOT_NEEDED";
  return context.replicas.some((replica) => isLive(context, replica))
    ? "NONE"
    : "ELIGIBLE_LEADERS_NOT_AVAILABLE";
}

/**
 * One step: the records it emits replay to its context, epochs never decrease,
 * unclean only when allowed or asked for.
 */
function checkStep(previous: Snapshot, event: PartitionLifecycleEvent): Snapshot {
  const [next, actions] = transition(machine, previous, event);
  const records = actions
    .filter((action) => action.type === "appendMetadataRecord")
    .map((action) => (action.params as { record: PartitionMetadataRecord }).record);
  const where = `${JSON.stringify(event)} from ${JSON.stringify([previous.value, previous.context])}`;
  expect(records.length, where).toBeLessThanOrEqual(1);
  expect(records.reduce(replay, registrationOf(previous.context)), where).toEqual(
    registrationOf(next.context),
  );
  expect(next.context.leaderEpoch, where).toBeGreaterThanOrEqual(previous.context.leaderEpoch);
  expect(next.context.partitionEpoch, where).toBeGreaterThanOrEqual(previous.context.partitionEpoch);
  for (const record of records) {
    if (record.type === "PartitionChangeRecord") {
      expect(record.value.isr !== null || record.value.leader !== -2, `a no-op record: ${where}`).toBe(true);
    }
  }
  const answers = (type: string) =>
    actions
      .filter((action) => action.type === type)
      .map((action) => (action.params as { errorName: string }).errorName);
  if (event.type === "isr.changeRequested") {
    const error = expectedAlterPartitionError(previous, event);
    expect(answers("answerAlterPartition"), where).toEqual([error]);
    const changesIsr =
      error === "NONE" && JSON.stringify(event.newIsr) !== JSON.stringify(previous.context.isr);
    expect(records.length, where).toBe(changesIsr ? 1 : 0);
  }
  if (event.type === "leader.preferredElectionRequested") {
    expect(answers("answerLeaderElection"), where).toEqual([expectedPreferredElectionError(previous)]);
  }
  if (event.type === "leader.uncleanElectionRequested") {
    const error = expectedUncleanElectionError(previous);
    expect(answers("answerLeaderElection"), where).toEqual([error]);
    expect(records.length, where).toBe(error === "NONE" ? 1 : 0);
    if (error === "NONE") {
      // A live ISR replica first; else the first live replica, alone in the ISR.
      const context = previous.context;
      const fromIsr = context.replicas.find(
        (replica) => context.isr.includes(replica) && isLive(context, replica),
      );
      const chosen = fromIsr ?? context.replicas.find((replica) => isLive(context, replica));
      expect([next.context.leader, next.context.isr], where).toEqual([
        chosen,
        fromIsr === undefined ? [chosen] : context.isr,
      ]);
      expect(next.context.leaderEpoch, where).toBe(context.leaderEpoch + 1);
    }
  }
  // Kafka keeps a leader that may still lead; only a preferred-leader election moves it.
  const formerLeader = previous.context.leader;
  const formerLeaderMayLead =
    formerLeader !== -1 && isLive(next.context, formerLeader) && next.context.isr.includes(formerLeader);
  if (formerLeaderMayLead && event.type !== "leader.preferredElectionRequested") {
    expect(next.context.leader, `a leader that may lead was replaced: ${where}`).toBe(formerLeader);
  }
  const newLeader = next.context.leader;
  // An unclean election ElectLeaders asks for ignores the topic's setting, as Kafka's does.
  if (
    previous.value !== "NonExistent" &&
    newLeader !== -1 &&
    !previous.context.isr.includes(newLeader) &&
    event.type !== "leader.uncleanElectionRequested"
  ) {
    expect(next.context.uncleanLeaderElectionEnabled, `unclean election not allowed: ${where}`).toBe(true);
  }
  checkState(next);
  return next;
}

type Adjacency = ReturnType<ReturnType<typeof createTestModel<typeof machine>>["getAdjacencyMap"]>;

/**
 * Replays a path's events from the initial state and checks every step. The
 * graph stores one state per key, so a path's own states may carry another
 * path's epochs; the replay is the run the events really make.
 */
function replayPath(
  adjacency: Adjacency,
  serialize: (snapshot: Snapshot) => string,
  path: PathLike,
  coverages: Coverage[],
): Snapshot {
  let [state] = initialTransition(machine, input);
  checkState(state);
  // Coverage cannot build this machine's initial state itself (its context needs input), so record it.
  for (const coverage of coverages)
    coverage.record(state, { steps: [{ event: { type: "xstate.init" }, state }] });
  for (const step of path.steps.slice(1)) {
    const representative = adjacency[serialize(state) as keyof typeof adjacency]?.state ?? state;
    const event = rebase(step.event as PartitionLifecycleEvent, representative, state);
    const next = checkStep(state, event);
    for (const coverage of coverages) coverage.record(state, { steps: [{ event, state: next }] });
    state = next;
  }
  return state;
}

describe("partition lifecycle paths", () => {
  /** All three path sets together; each also reports its own share. */
  const coverage = new Coverage(machine);
  const summary = (name: string, own: Coverage) => own.report(name).split("\n")[0];
  const exact = createTestModel(machine, {
    input,
    events,
    serializeState: withoutEpochs,
    stopWhen: checkWhileExploring,
  });
  const exactAdjacency = exact.getAdjacencyMap();

  it("checks every shortest path to each state (epochs left out)", () => {
    const paths = exact.getShortestPaths();
    const own = new Coverage(machine);
    for (const path of paths) {
      const reached = replayPath(exactAdjacency, withoutEpochs, path, [coverage, own]);
      expect(withoutEpochs(reached)).toBe(withoutEpochs(path.state));
    }
    console.log(summary("shortest paths", own));
    expect(paths.length).toBe(285);
    const values = new Set(paths.flatMap((path) => path.steps.map((step) => String(step.state.value))));
    expect([...values].sort()).toEqual(["Deleted", "Deleting", "New", "NonExistent", "Offline", "Online"]);
  });

  it("checks every event from every reachable state: each shortest path extended by one step", () => {
    const states = Object.values(exactAdjacency);
    const own = new Coverage(machine);
    let edges = 0;
    for (const { state, transitions } of states) {
      for (const { event, state: next } of Object.values(transitions) as Array<{
        event: PartitionLifecycleEvent;
        state: Snapshot;
      }>) {
        const checked = checkStep(state, event);
        expect([checked.value, checked.context]).toEqual([next.value, next.context]);
        for (const each of [coverage, own]) each.record(state, { steps: [{ event, state: next }] });
        edges++;
      }
    }
    console.log(summary("shortest paths extended by one event", own));
    expect(states.length).toBe(777);
    expect(edges).toBe(10694);
  });

  it("checks every simple path through the lifecycle (state, leaderless or not, ISR size)", () => {
    const model = createTestModel(machine, {
      input,
      events,
      serializeState: lifecycleOnly,
      stopWhen: checkWhileExploring,
    });
    const paths = model.getSimplePaths();
    const adjacency = model.getAdjacencyMap();
    // The coarse key merges states that differ in liveness, so a replay may end in another
    // key than the path did; it is still a run the machine really makes, and checked as one.
    const own = new Coverage(machine);
    for (const path of paths) replayPath(adjacency, lifecycleOnly, path, [coverage, own]);
    console.log(summary("simple paths", own));
    expect(paths.length).toBe(456);
  });

  it("reaches every state and takes every transition", () => {
    console.log(coverage.report("partition lifecycle"));
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions()).toEqual([]);
  });
});
