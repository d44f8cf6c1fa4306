/**
 * Generated paths through the consumer group machine, from the shared
 * generator (testing/consumer-group-paths.ts, which the conformance suite
 * also drives against a real broker).
 *
 * Every edge of each bounded graph (every offered event from every reachable
 * state, refusals that change nothing included) is checked against the rules'
 * reference reaction (`react`) and the per-step rules below; every state on
 * every shortest path is checked against the per-state invariants. Together
 * the models reach every state and take every transition.
 */
import { describe, expect, it } from "vitest";
import { type AnyMachineSnapshot, initialTransition, transition } from "xstate";
import {
  type Context,
  consumerGroupMachine,
  type Event,
  type GroupState,
  nextDeadlineMs,
  react,
} from "./consumer-group.ts";
import { models, type Snapshot, testModelOf } from "./testing/consumer-group-paths.ts";
import { Coverage, type PathLike } from "./testing/coverage.ts";

function stateOf(snapshot: AnyMachineSnapshot): GroupState | "Dead" {
  return snapshot.value as GroupState | "Dead";
}

function waitingRequests(context: Context): number[] {
  return context.members.flatMap((member) =>
    [member.joinRequestId, member.syncRequestId].filter((id): id is number => id !== null),
  );
}

/** The invariants of every state of the group, checked in every state on every path. */
function checkState(snapshot: Snapshot): void {
  if (snapshot.status === "done") return;
  const state = stateOf(snapshot);
  const context = snapshot.context;
  const where = `${state} ${JSON.stringify(context)}`;
  const ids = context.members.map((member) => member.memberId);
  expect(new Set(ids).size, where).toBe(ids.length);
  const instances = context.members.flatMap((member) =>
    member.groupInstanceId === null ? [] : [member.groupInstanceId],
  );
  expect(new Set(instances).size, where).toBe(instances.length);
  // The bounds of the context's lists (a model restores up to 3 members, above its groupMaxSize of 2).
  expect(context.members.length, where).toBeLessThanOrEqual(Math.max(2 * context.groupMaxSize, 3));
  expect(context.pendingMembers.length, where).toBeLessThanOrEqual(context.pendingMembersMax);
  for (const pending of context.pendingMembers) expect(ids, where).not.toContain(pending.memberId);
  for (const id of context.pendingSyncMemberIds) expect(ids, where).toContain(id);
  expect(context.syncDeadlineMs === null, where).toBe(context.pendingSyncMemberIds.length === 0);
  // The leader is a member, and there is one whenever there are members.
  expect(context.leaderId === null, where).toBe(context.members.length === 0);
  if (context.leaderId !== null) expect(ids, where).toContain(context.leaderId);
  if (context.members.length > 0) expect(context.protocolType, where).not.toBeNull();
  // Time: every deadline before now has been handled (one at now, when a zero timeout set it, is due at once).
  const next = nextDeadlineMs(context);
  if (next !== null) expect(next, where).toBeGreaterThanOrEqual(context.nowMs);
  const waitingJoins = context.members.filter((member) => member.joinRequestId !== null);
  const waitingSyncs = context.members.filter((member) => member.syncRequestId !== null);
  switch (state) {
    case "Empty":
      expect(context.members, where).toEqual([]);
      expect(context.protocolName, where).toBeNull();
      expect([context.rebalanceDeadlineMs, context.initialRebalance, context.syncDeadlineMs], where).toEqual([
        null,
        null,
        null,
      ]);
      break;
    case "PreparingRebalance":
      // Exactly one of the two ways the join phase ends is armed.
      expect((context.rebalanceDeadlineMs === null) !== (context.initialRebalance === null), where).toBe(
        true,
      );
      expect(waitingSyncs, where).toEqual([]);
      expect(context.pendingSyncMemberIds, where).toEqual([]);
      expect([context.persistingAssignment, context.persistingStaticJoin], where).toEqual([null, null]);
      break;
    case "CompletingRebalance":
    case "Stable":
      expect(context.members.length, where).toBeGreaterThan(0);
      expect(context.protocolName, where).not.toBeNull();
      // Every member supports the protocol the group chose.
      for (const member of context.members) {
        expect(
          member.protocols.map((protocol) => protocol.name),
          where,
        ).toContain(context.protocolName);
        expect(member.isNew, where).toBe(false);
      }
      expect([context.rebalanceDeadlineMs, context.initialRebalance], where).toEqual([null, null]);
      if (state === "CompletingRebalance") {
        expect(waitingJoins, where).toEqual([]);
        expect(context.persistingStaticJoin, where).toBeNull();
      } else {
        // Only a static member whose new id is being written waits in a join.
        expect(
          waitingJoins.map((member) => member.memberId),
          where,
        ).toEqual(context.persistingStaticJoin === null ? [] : [context.persistingStaticJoin.memberId]);
        expect(waitingSyncs, where).toEqual([]);
        expect(context.persistingAssignment, where).toBeNull();
      }
      break;
  }
}

interface Effect {
  type: string;
  params: unknown;
}

const answerTypes = new Set(["answerJoin", "answerSync"]);

/** What one step may do: exactly the rules' reaction, and requests answered once, only ever after a write. */
function checkStep(before: Snapshot, event: Event, after: Snapshot): void {
  const [, actions] = transition(consumerGroupMachine, before, event);
  const effects: Effect[] = actions.map((action) => ({ type: action.type, params: action.params }));
  const where = `${stateOf(before)} --${JSON.stringify(event)}--> ${stateOf(after)}`;
  const reference = react(stateOf(before) as GroupState, before.context, event);
  expect(stateOf(after), where).toBe(reference.state);
  expect(effects, where).toEqual(reference.effects);
  expect(after.context, where).toEqual(reference.context);
  expect(after.context.generationId, where).toBeGreaterThanOrEqual(before.context.generationId);

  // Every join or sync answered was waiting, or is this event's own request; none is answered twice.
  const own = "requestId" in event ? [event.requestId] : [];
  const answered = effects
    .filter((effect) => answerTypes.has(effect.type))
    .map((effect) => (effect.params as { requestId: number }).requestId);
  expect(new Set(answered).size, where).toBe(answered.length);
  for (const requestId of answered)
    expect([...waitingRequests(before.context), ...own], where).toContain(requestId);
  if (after.status === "active") {
    for (const requestId of answered) expect(waitingRequests(after.context), where).not.toContain(requestId);
  }
  // A request is answered or waits; a Dead group leaves nothing waiting.
  if (event.type === "group.joinRequested" || event.type === "group.syncRequested") {
    const waitsNow = after.status === "active" && waitingRequests(after.context).includes(event.requestId);
    expect(answered.includes(event.requestId) !== waitsNow, where).toBe(true);
  }
  // The leader's assignment reaches no member before group.persisted says it is stored.
  const persistIndex = effects.findIndex((effect) => effect.type === "persistGroup");
  if (persistIndex >= 0 && event.type === "group.syncRequested") {
    expect(
      effects.filter(
        (effect) => effect.type === "answerSync" && (effect.params as { errorCode: number }).errorCode === 0,
      ),
      where,
    ).toEqual([]);
  }
  if (event.type === "group.deleteRequested" && stateOf(after) === "Dead") {
    expect(
      effects.map((effect) => effect.type),
      where,
    ).toEqual(["writeGroupTombstone", "answerDelete"]);
  }
}

function checkPath(path: PathLike): void {
  const steps = path.steps as ReadonlyArray<{ event: Event; state: Snapshot }>;
  for (const step of steps) checkState(step.state);
}

describe("consumer group paths", () => {
  const coverage = new Coverage(consumerGroupMachine, models[0]!.input);

  for (const model of models) {
    it(`${model.name}: every edge follows the rules, every state on every path keeps the invariants`, () => {
      const [initial] = initialTransition(consumerGroupMachine, model.input);
      checkState(initial);
      const testModel = testModelOf(model);
      let edges = 0;
      for (const { state, transitions } of Object.values(testModel.getAdjacencyMap())) {
        for (const { event, state: next } of Object.values(transitions) as Array<{
          event: Event;
          state: Snapshot;
        }>) {
          checkStep(state as Snapshot, event, next);
          coverage.record(state, { steps: [{ event, state: next }] });
          edges++;
        }
      }
      const paths = testModel.getShortestPaths();
      for (const path of paths) {
        checkPath(path);
        coverage.record(initial, path);
      }
      console.log(`${model.name}: ${edges} edges, ${paths.length} shortest paths`);
      expect({ edges, paths: paths.length }).toEqual(model.expected);
    });
  }

  it("reaches every state and takes every transition", () => {
    console.log(coverage.report("consumer-group"));
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions()).toEqual([]);
  });
});
