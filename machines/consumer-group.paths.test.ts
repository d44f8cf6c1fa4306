/**
 * Generated paths through the consumer group machine. Each model starts from
 * a group (new, or restored from __consumer_offsets) and offers a small,
 * bounded set of clients: "a" a dynamic JoinGroup v5 client (it is given its id
 * with MEMBER_ID_REQUIRED), "b" a dynamic v3 client (it joins at once), "s" a
 * static member (group.instance.id "s", JoinGroup v9), each with one session
 * and rebalance timeout, plus one request of each kind that must be refused.
 * Requests arrive at the machine's current time; the clock only moves to the
 * next deadline (nextDeadlineMs), as the runtime's timer would.
 *
 * Every edge of each bounded graph (every offered event from every reachable
 * state, refusals that change nothing included) is checked against the rules'
 * reference reaction (`react`) and the per-step rules below; every state on
 * every shortest path is checked against the per-state invariants. Together
 * the models reach every state and take every transition.
 */
import { describe, expect, it } from "vitest";
import { type AnyMachineSnapshot, initialTransition, type SnapshotFrom, transition } from "xstate";
import { createTestModel } from "xstate/graph";
import {
  type Context,
  consumerGroupMachine,
  type Event,
  findMember,
  GroupErrorCode,
  type GroupState,
  hasSatisfiedHeartbeat,
  type Input,
  type JoinProtocol,
  nextDeadlineMs,
  react,
  type StoredGroup,
} from "./consumer-group.ts";
import { Coverage, type PathLike } from "./testing/coverage.ts";

type Snapshot = SnapshotFrom<typeof consumerGroupMachine>;

const sessionTimeoutMs = 100;
const rebalanceTimeoutMs = 200;

const limits = {
  groupMinSessionTimeoutMs: 100,
  groupMaxSessionTimeoutMs: 1_000,
  groupMaxSize: 2,
  groupInitialRebalanceDelayMs: 50,
  groupNewMemberJoinTimeoutMs: 300,
  pendingMembersMax: 1,
};

const range: JoinProtocol[] = [{ name: "range", metadata: "topics:t" }];
/** Client a's other subscription: the same protocol with other metadata, which makes a rejoin a change. */
const rangeOther: JoinProtocol[] = [{ name: "range", metadata: "topics:t,u" }];

interface Client {
  name: string;
  groupInstanceId: string | null;
  apiVersion: number;
  /** The ids the runtime hands out to this client, in turn (a static member gets a new one each start). */
  ids: string[];
  /** Request ids of its joins, syncs, heartbeats, leaves and commits: base + 0..9. */
  base: number;
}

const clientA: Client = { name: "a", groupInstanceId: null, apiVersion: 5, ids: ["a1"], base: 10 };
const clientB: Client = { name: "b", groupInstanceId: null, apiVersion: 3, ids: ["b1"], base: 20 };
const clientS: Client = { name: "s", groupInstanceId: "s", apiVersion: 9, ids: ["s1", "s2"], base: 30 };

function storedMember(memberId: string, groupInstanceId: string | null, assignment: string) {
  return {
    memberId,
    groupInstanceId,
    clientId: memberId[0]!,
    clientHost: "/10.0.0.1",
    rebalanceTimeoutMs,
    sessionTimeoutMs,
    subscription: range[0]!.metadata,
    assignment,
  };
}

function inputWith(storedGroup: StoredGroup | null, groupMaxSize = limits.groupMaxSize): Input {
  return { groupId: "orders", nowMs: 1_000, storedGroup, ...limits, groupMaxSize };
}

function memberIdOf(context: Context, client: Client): string | null {
  return client.ids.find((id) => findMember(context, id) !== undefined) ?? null;
}

/** Which of its ids a client joining without one is given: one neither a member nor pending. */
function freshIdOf(context: Context, client: Client): string | null {
  return (
    client.ids.find(
      (id) =>
        findMember(context, id) === undefined &&
        !context.pendingMembers.some((pending) => pending.memberId === id),
    ) ?? null
  );
}

function joinOf(context: Context, client: Client, memberId: string, protocols: JoinProtocol[]): Event {
  const current = memberIdOf(context, client);
  const waiting = current === null ? null : findMember(context, current)!.joinRequestId;
  return {
    type: "group.joinRequested",
    // A second join while one waits is another request: the first is answered when it is replaced.
    requestId: waiting === client.base ? client.base + 1 : client.base,
    memberId,
    groupInstanceId: client.groupInstanceId,
    protocolType: "consumer",
    protocols,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    apiVersion: client.apiVersion,
    newMemberId: freshIdOf(context, client) ?? "unused",
    clientId: client.name,
    clientHost: "/10.0.0.1",
    nowMs: context.nowMs,
  };
}

interface Offer {
  clients: Client[];
  /** Client a may rejoin with other metadata. */
  changeMetadata: boolean;
  refusals: boolean;
  halfSessionTicks: boolean;
  /** When set, only these kinds of event are offered. */
  only?: ReadonlyArray<Event["type"]>;
}

/** The events a runtime could deliver next, bounded: the clients' requests, refusals, answers to writes, the clock. */
function eventsFor(offer: Offer) {
  return (snapshot: Snapshot): Event[] => {
    if (snapshot.status !== "active") return [];
    const context = snapshot.context;
    const nowMs = context.nowMs;
    const generationId = context.generationId;
    const events: Event[] = [];
    for (const client of offer.clients) {
      const memberId = memberIdOf(context, client);
      const fresh = freshIdOf(context, client);
      const pending = client.ids.find((id) => context.pendingMembers.some((entry) => entry.memberId === id));
      if (fresh !== null && (memberId === null || client.groupInstanceId !== null)) {
        events.push(joinOf(context, client, "", range));
      }
      if (pending !== undefined) events.push(joinOf(context, client, pending, range));
      if (memberId === null) continue;
      const member = findMember(context, memberId)!;
      events.push(joinOf(context, client, memberId, member.protocols));
      if (offer.changeMetadata && client === clientA) {
        events.push(
          joinOf(
            context,
            client,
            memberId,
            member.protocols[0]?.metadata === range[0]!.metadata ? rangeOther : range,
          ),
        );
      }
      const identity = { memberId, groupInstanceId: client.groupInstanceId };
      events.push({
        type: "group.syncRequested",
        requestId: member.syncRequestId === client.base + 2 ? client.base + 3 : client.base + 2,
        ...identity,
        generationId,
        protocolType: context.protocolType,
        protocolName: context.protocolName,
        assignments:
          context.leaderId === memberId
            ? context.members.map((other) => ({
                memberId: other.memberId,
                assignment: `to-${other.memberId}`,
              }))
            : [],
        nowMs,
      });
      events.push({
        type: "group.heartbeatRequested",
        requestId: client.base + 4,
        ...identity,
        generationId,
        nowMs,
      });
      events.push({ type: "group.leaveRequested", requestId: client.base + 5, members: [identity], nowMs });
      events.push({
        type: "offsets.commitRequested",
        requestId: client.base + 6,
        ...identity,
        generationId,
        nowMs,
      });
    }
    if (offer.refusals) {
      const join = joinOf(context, clientB, "", range) as Extract<Event, { type: "group.joinRequested" }>;
      events.push({ ...join, requestId: 91, sessionTimeoutMs: 50 });
      events.push({ ...join, requestId: 92, protocols: [] });
      events.push({ ...join, requestId: 93, memberId: "gone" });
      const stranger = { memberId: "gone", groupInstanceId: null };
      events.push({
        type: "group.syncRequested",
        requestId: 94,
        ...stranger,
        generationId,
        protocolType: null,
        protocolName: null,
        assignments: [],
        nowMs,
      });
      events.push({ type: "group.heartbeatRequested", requestId: 95, ...stranger, generationId, nowMs });
      events.push({ type: "group.leaveRequested", requestId: 96, members: [stranger], nowMs });
      events.push({ type: "offsets.commitRequested", requestId: 97, ...stranger, generationId, nowMs });
    }
    // An admin's commit: taken only by an empty group.
    events.push({
      type: "offsets.commitRequested",
      requestId: 99,
      memberId: "",
      generationId: -1,
      groupInstanceId: null,
      nowMs,
    });
    const persisting = context.persistingAssignment ?? context.persistingStaticJoin;
    if (persisting !== null) {
      events.push({ type: "group.persisted", generationId: persisting.generationId, nowMs });
      events.push({
        type: "group.persistFailed",
        generationId: persisting.generationId,
        errorCode: GroupErrorCode.NOT_LEADER_OR_FOLLOWER,
        nowMs,
      });
    }
    // The clock moves to the next deadline, or half a session when that comes first, so sessions drift apart.
    const next = nextDeadlineMs(context);
    if (next !== null) events.push({ type: "clock.ticked", nowMs: next });
    if (offer.halfSessionTicks && (next === null || next > nowMs + sessionTimeoutMs / 2)) {
      events.push({ type: "clock.ticked", nowMs: nowMs + sessionTimeoutMs / 2 });
    }
    events.push({ type: "group.deleteRequested", requestId: 98 });
    events.push({ type: "coordinator.unloaded" });
    const only = offer.only;
    return only === undefined ? events : events.filter((event) => only.includes(event.type));
  };
}

function stateOf(snapshot: AnyMachineSnapshot): GroupState | "Dead" {
  return snapshot.value as GroupState | "Dead";
}

/**
 * The group as far as its future depends on it, so that groups that behave
 * alike merge into one vertex: times relative to the machine's clock; no
 * session deadline for a member waiting for an answer (it is not expired while
 * it waits, and its session restarts when it is answered, which checkState's
 * deadline check confirms); whether a request waits, not its id.
 */
function relativeKey(snapshot: Snapshot): string {
  if (snapshot.status === "done") return "Dead";
  const { nowMs, ...context } = snapshot.context;
  const since = (time: number | null) => (time === null ? null : time - nowMs);
  return JSON.stringify([
    snapshot.value,
    {
      ...context,
      members: context.members.map((member) => ({
        ...member,
        sessionDeadlineMs: hasSatisfiedHeartbeat(member) ? null : since(member.sessionDeadlineMs),
        joinRequestId: member.joinRequestId !== null,
        syncRequestId: member.syncRequestId !== null,
      })),
      pendingMembers: context.pendingMembers.map((pending) => ({
        ...pending,
        deadlineMs: since(pending.deadlineMs),
      })),
      syncDeadlineMs: since(context.syncDeadlineMs),
      rebalanceDeadlineMs: since(context.rebalanceDeadlineMs),
      initialRebalance: context.initialRebalance && {
        ...context.initialRebalance,
        deadlineMs: since(context.initialRebalance.deadlineMs),
      },
    },
  ]);
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

interface Model {
  name: string;
  input: Input;
  offer: Offer;
  /** Generations beyond this are not explored. */
  generationMax: number;
  /** Edges and shortest paths of the bounded graph, asserted so a change to the machine or the model shows up. */
  expected: { edges: number; paths: number };
}

const models: Model[] = [
  {
    name: "two dynamic clients from a new group",
    input: inputWith(null),
    offer: { clients: [clientA, clientB], changeMetadata: true, refusals: true, halfSessionTicks: false },
    generationMax: 1,
    expected: { edges: 20719, paths: 425 },
  },
  {
    name: "a static member and a dynamic one, restored stable",
    input: inputWith(
      {
        generationId: 4,
        protocolType: "consumer",
        protocolName: "range",
        leaderId: "s1",
        members: [storedMember("s1", "s", "to-s1"), storedMember("a1", null, "to-a1")],
        // Room for one more: a static member starting again with no id counts as new (Kafka's acceptJoiningMember).
      },
      3,
    ),
    offer: { clients: [clientS, clientA], changeMetadata: false, refusals: true, halfSessionTicks: true },
    generationMax: 4,
    expected: { edges: 5376, paths: 104 },
  },
  {
    name: "a group restored above groupMaxSize",
    input: inputWith({
      generationId: 7,
      protocolType: "consumer",
      protocolName: "range",
      leaderId: "a1",
      members: [
        storedMember("a1", null, "to-a1"),
        storedMember("b1", null, "to-b1"),
        storedMember("s1", "s", "to-s1"),
      ],
    }),
    // Only what moves the group through its rebalances: the other requests are the first two models' subject.
    offer: {
      clients: [clientA, clientB, clientS],
      changeMetadata: false,
      refusals: false,
      halfSessionTicks: false,
      only: ["group.joinRequested", "group.syncRequested", "group.persisted", "clock.ticked"],
    },
    generationMax: 8,
    expected: { edges: 1744, paths: 137 },
  },
];

function wellFormed(_snapshot: Snapshot, event: Event): boolean {
  return event.type === "coordinator.unloaded" || Object.keys(event).length > 1;
}

describe("consumer group paths", () => {
  const coverage = new Coverage(consumerGroupMachine, models[0]!.input);

  for (const model of models) {
    it(`${model.name}: every edge follows the rules, every state on every path keeps the invariants`, () => {
      const [initial] = initialTransition(consumerGroupMachine, model.input);
      checkState(initial);
      const testModel = createTestModel(consumerGroupMachine, {
        input: model.input,
        events: eventsFor(model.offer),
        filterEvents: wellFormed,
        serializeState: relativeKey as never,
        stopWhen: (snapshot: Snapshot) => snapshot.context.generationId > model.generationMax,
      });
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
