import { describe, expect, it } from "vitest";
import { type SnapshotFrom, transition } from "xstate";
import { createTestModel } from "xstate/graph";
import {
  type Context,
  type Event,
  endOffsetOf,
  type Input,
  IsrErrorCode,
  isrMachine,
  maximalIsr,
} from "./isr.ts";
import { Coverage, type PathLike } from "./testing/coverage.ts";

type Snapshot = SnapshotFrom<typeof isrMachine>;

/**
 * Leader 1 of replicas 1, 2, 3, newly elected at offset 1 with a high watermark
 * still at 0: follower 2 is in the ISR, follower 3 has not fetched yet, so the
 * epoch start offset and the high watermark disagree, as after a failover.
 */
const input: Input = {
  leaderId: 1,
  leaderEpoch: 1,
  partitionEpoch: 1,
  replicas: [1, 2, 3],
  isr: [1, 2],
  leaderEndOffset: 1,
  leaderEpochStartOffset: 1,
  highWatermark: 0,
  minInsyncReplicas: 2,
  replicaLagMsMax: 100,
  nowMs: 0,
  waitingProducesMax: 1,
};

interface Bounds {
  offsetMax: number;
  /** Clock values in order; one tick past replica.lag.time.max.ms makes a stalled follower out of sync. */
  times: number[];
  produces: boolean;
}

/** Events a leader can see next, kept finite: offsets only grow, up to offsetMax, and time takes the listed values. */
function boundedEvents(bounds: Bounds) {
  return (snapshot: Snapshot): Event[] => {
    if (snapshot.status !== "active") return [];
    const context = snapshot.context;
    const events: Event[] = [];
    for (const follower of context.followers) {
      for (let offset = Math.max(follower.endOffset + 1, 0); offset <= context.leaderEndOffset; offset++) {
        events.push({
          type: "replica.fetched",
          replicaId: follower.replicaId,
          fetchOffset: offset,
          nowMs: context.nowMs,
        });
      }
    }
    const later = bounds.times.find((time) => time > context.nowMs);
    if (later !== undefined) events.push({ type: "clock.ticked", nowMs: later });
    if (context.leaderEndOffset < bounds.offsetMax) {
      events.push({ type: "leader.appended", endOffset: context.leaderEndOffset + 1 });
      if (bounds.produces) {
        // A one-record batch at the leader's end offset; the request id names the offset.
        const offset = context.leaderEndOffset;
        events.push({ type: "produce.requested", requestId: 100 + offset, acks: -1, lastOffset: offset });
        events.push({ type: "produce.requested", requestId: 200 + offset, acks: 1, lastOffset: offset });
      }
    }
    const pending = context.pendingIsrChange;
    if (pending !== null) {
      events.push({
        type: "isr.committed",
        leaderEpoch: context.leaderEpoch,
        partitionEpoch: context.partitionEpoch + 1,
        isr: pending.isr,
      });
      for (const errorCode of [
        IsrErrorCode.INELIGIBLE_REPLICA,
        IsrErrorCode.FENCED_LEADER_EPOCH,
        IsrErrorCode.REQUEST_TIMED_OUT,
      ]) {
        events.push({ type: "isr.rejected", errorCode });
      }
    }
    events.push({ type: "leader.resigned" });
    return events;
  };
}

/**
 * xstate/graph adds a payload-less event for every type the state accepts but
 * the events function did not offer (leader.appended once offsetMax is reached);
 * those are not events a runtime can send, so they are dropped.
 */
function wellFormed(_snapshot: Snapshot, event: Event): boolean {
  return event.type === "leader.resigned" || Object.keys(event).length > 1;
}

/** Every resigned leader is the same end: one vertex. */
function serializeSnapshot(snapshot: Snapshot): string {
  return snapshot.status === "done"
    ? "Resigned"
    : JSON.stringify({ value: snapshot.value, context: snapshot.context });
}

/**
 * A transition that changes nothing (a refused produce, an acks=1 append, a
 * resent AlterPartition) returns the same snapshot, so a graph of snapshots has
 * no edge for it and no path would take it. Naming the vertex after the event
 * that looped gives each such transition its own path.
 */
function serializeWithSelfLoops(snapshot: Snapshot, event: Event | undefined, previous?: Snapshot): string {
  const key = serializeSnapshot(snapshot);
  return previous === snapshot && event !== undefined ? `${key} after ${JSON.stringify(event)}` : key;
}

function stateName(snapshot: Snapshot): string {
  return typeof snapshot.value === "string" ? snapshot.value : String(snapshot.value.Leading);
}

/** The ISR and high-watermark invariants, checked in every state of every path. */
function checkState(context: Context, state: string): void {
  const expectedPending = { Committed: null, PendingExpand: "expand", PendingShrink: "shrink" }[state];
  if (state !== "Resigned") expect(context.pendingIsrChange?.kind ?? null).toBe(expectedPending);
  for (const isr of [context.isr, context.pendingIsrChange?.isr ?? context.isr]) {
    expect(isr).toContain(context.leaderId);
    for (const replicaId of isr) expect(context.replicas).toContain(replicaId);
  }
  for (const replicaId of maximalIsr(context)) {
    expect(context.highWatermark).toBeLessThanOrEqual(endOffsetOf(context, replicaId));
  }
  const pending = context.pendingIsrChange;
  if (pending?.kind === "expand") {
    // One follower joins, and it holds the leader's epoch from its start.
    const joining = pending.isr.filter((replicaId) => !context.isr.includes(replicaId));
    expect(joining).toHaveLength(1);
    expect(pending.isr).toEqual(expect.arrayContaining(context.isr));
    expect(endOffsetOf(context, joining[0]!)).toBeGreaterThanOrEqual(context.leaderEpochStartOffset);
  }
  if (pending?.kind === "shrink") {
    // The removed followers are still in the committed ISR until the change commits.
    expect(pending.isr.length).toBeLessThan(context.isr.length);
    expect(context.isr).toEqual(expect.arrayContaining(pending.isr));
  }
  expect(context.waitingProduces.length).toBeLessThanOrEqual(context.waitingProducesMax);
  for (const produce of context.waitingProduces) {
    expect(produce.lastOffset).toBeGreaterThanOrEqual(context.highWatermark);
  }
}

/** What one step may do: the high watermark and epochs only grow, and the effects agree with the rules. */
function checkStep(before: Snapshot, event: Event, after: Snapshot): void {
  expect(after.context.highWatermark).toBeGreaterThanOrEqual(before.context.highWatermark);
  expect(after.context.partitionEpoch).toBeGreaterThanOrEqual(before.context.partitionEpoch);
  const [, actions] = transition(isrMachine, before, event);
  // Only the controller's commit changes the ISR.
  if (event.type !== "isr.committed") expect(after.context.isr).toEqual(before.context.isr);
  const sent = actions.filter((action) => action.type === "sendAlterPartition");
  expect(sent.length).toBeLessThanOrEqual(1);
  if (sent.length === 1) {
    expect(after.context.pendingIsrChange).not.toBeNull();
    // A new AlterPartition only when none is in flight; after a refusal, the same one again.
    if (event.type !== "isr.rejected") expect(before.context.pendingIsrChange).toBeNull();
  }
  const belowMinInsync = before.context.isr.length < before.context.minInsyncReplicas;
  if (event.type === "produce.requested" && event.acks === -1 && belowMinInsync) {
    expect(actions.map((action) => action.type)).toEqual(["refuseProduce"]);
  }
  for (const action of actions) {
    const params = action.params as { requestId: number; errorCode: number };
    if (action.type === "completeProduce") {
      const produce = before.context.waitingProduces.find(
        (waiting) => waiting.requestId === params.requestId,
      );
      expect(produce!.lastOffset).toBeLessThan(after.context.highWatermark);
    }
    if (action.type === "refuseProduce" && params.errorCode === IsrErrorCode.NOT_ENOUGH_REPLICAS) {
      expect(belowMinInsync).toBe(true);
    }
  }
}

function checkPath(path: PathLike): void {
  const steps = path.steps as ReadonlyArray<{ event: Event; state: Snapshot }>;
  checkState(steps[0]!.state.context, stateName(steps[0]!.state));
  for (let index = 1; index < steps.length; index++) {
    const before = steps[index - 1]!.state;
    const { event, state } = steps[index]!;
    checkStep(before, event, state);
    checkState(state.context, stateName(state));
  }
}

function coverageOf(paths: PathLike[]): Coverage {
  const coverage = new Coverage(isrMachine);
  for (const path of paths) coverage.record(path.steps[0]!.state, path);
  return coverage;
}

describe("ISR machine paths", () => {
  it("shortest paths over offsets 0-2, two clock values and produces reach every state and transition", () => {
    const model = createTestModel(isrMachine, {
      input,
      events: boundedEvents({ offsetMax: 2, times: [0, 150], produces: true }),
      filterEvents: wellFormed,
      serializeState: serializeWithSelfLoops as never,
    });
    const paths = model.getShortestPaths();
    for (const path of paths) checkPath(path);
    const coverage = coverageOf(paths);
    console.log(`${paths.length} shortest paths\n${coverage.report("isr (shortest paths)")}`);
    expect(paths.length).toBe(951);
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions()).toEqual([]);
  });

  it("simple paths through ISR changes at a fixed leader end offset keep every invariant", () => {
    // Offsets stay at the leader's end offset 1 and no produce arrives: the graph is
    // the orderings of fetches, one lag expiry and the controller's answers.
    const model = createTestModel(isrMachine, {
      input,
      events: boundedEvents({ offsetMax: 1, times: [0, 150], produces: false }),
      filterEvents: wellFormed,
      serializeState: serializeSnapshot as never,
    });
    const paths = model.getSimplePaths();
    for (const path of paths) checkPath(path);
    const coverage = coverageOf(paths);
    console.log(`${paths.length} simple paths\n${coverage.report("isr (simple paths)")}`);
    expect(paths.length).toBe(396);
    expect(coverage.missingStates()).toEqual([]);
  });
});
