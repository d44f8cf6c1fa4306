/**
 * Generated paths through the ISR machine, from the shared generator
 * (testing/isr-paths.ts, which the conformance suite also drives against a
 * real partition leader).
 */
import { describe, expect, it } from "vitest";
import { transition } from "xstate";
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
import {
  boundedEvents,
  type Snapshot,
  serializeSnapshot,
  serializeWithSelfLoops,
  stateName,
  wellFormed,
} from "./testing/isr-paths.ts";

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
  ineligibleReplicas: [],
  replicaLagMsMax: 100,
  nowMs: 0,
  waitingProducesMax: 1,
};

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
function checkStep(before: Snapshot, event: Event): void {
  // Taken again rather than read off the path: every resigned leader is one vertex, whose
  // snapshot may have been reached from another state.
  const [after, actions] = transition(isrMachine, before, event);
  expect(after.context.highWatermark).toBeGreaterThanOrEqual(before.context.highWatermark);
  expect(after.context.partitionEpoch).toBeGreaterThanOrEqual(before.context.partitionEpoch);
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
  // An expansion is proposed only for a follower whose broker the leader knows eligible (KIP-841).
  if (sent.length === 1 && event.type === "replica.fetched") {
    expect(before.context.ineligibleReplicas).not.toContain(event.replicaId);
  }
  // Broker and config changes propose nothing and refuse nothing: only the high watermark may move.
  if (event.type === "replicas.eligibilityChanged" || event.type === "topic.configChanged") {
    expect(after.context.pendingIsrChange).toEqual(before.context.pendingIsrChange);
    expect(actions.map((action) => action.type)).not.toContain("refuseProduce");
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
    checkStep(before, event);
    checkState(state.context, stateName(state));
  }
}

function coverageOf(paths: PathLike[]): Coverage {
  const coverage = new Coverage(isrMachine);
  for (const path of paths) coverage.record(path.steps[0]!.state, path);
  return coverage;
}

describe("ISR machine paths", () => {
  it("shortest paths over offsets 0-2, two clock values, produces and broker or config changes reach every state and transition", () => {
    // Follower 3's broker turning ineligible and back, and min.insync.replicas moving between 2
    // and 3 (above the ISR [1, 2] and back), each in a graph of its own: together they would
    // multiply its states. Eligibility decides only expansions, so its graph needs no produces;
    // min.insync.replicas decides only produces and the high watermark, so its graph needs no lag.
    const paths = [
      { offsetMax: 2, times: [0, 150], produces: true, eligibilityChanging: [], minInsyncReplicasValues: [] },
      {
        offsetMax: 2,
        times: [0, 150],
        produces: false,
        eligibilityChanging: [3],
        minInsyncReplicasValues: [],
      },
      { offsetMax: 2, times: [0], produces: true, eligibilityChanging: [], minInsyncReplicasValues: [2, 3] },
    ].flatMap((each) =>
      createTestModel(isrMachine, {
        input,
        events: boundedEvents(each),
        filterEvents: wellFormed,
        serializeState: serializeWithSelfLoops as never,
      }).getShortestPaths(),
    );
    for (const path of paths) checkPath(path);
    const coverage = coverageOf(paths);
    console.log(`${paths.length} shortest paths\n${coverage.report("isr (shortest paths)")}`);
    expect(paths.length).toBe(2129);
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions()).toEqual([]);
  });

  it("simple paths through ISR changes at a fixed leader end offset keep every invariant", () => {
    // Offsets stay at the leader's end offset 1 and no produce arrives: the graph is
    // the orderings of fetches, one lag expiry and the controller's answers.
    const model = createTestModel(isrMachine, {
      input,
      events: boundedEvents({
        offsetMax: 1,
        times: [0, 150],
        produces: false,
        eligibilityChanging: [],
        minInsyncReplicasValues: [],
      }),
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
