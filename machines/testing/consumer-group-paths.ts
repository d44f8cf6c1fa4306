/**
 * The one generator of consumer group paths, shared by the machine's own path
 * test (machines/consumer-group.paths.test.ts) and the conformance suite that
 * drives the same paths against a real broker (conformance/paths/).
 *
 * Each model starts from a group (new, or restored from __consumer_offsets)
 * and offers a small, bounded set of clients: "a" a dynamic JoinGroup v5
 * client (it is given its id with MEMBER_ID_REQUIRED), "b" a dynamic v3 client
 * (it joins at once), "s" a static member (group.instance.id "s", JoinGroup
 * v9), each with one session and rebalance timeout, plus one request of each
 * kind that must be refused. Requests arrive at the machine's current time;
 * the clock only moves to the next deadline (nextDeadlineMs), as the runtime's
 * timer would, or in model 2 also by half a session.
 */
import type { SnapshotFrom } from "xstate";
import { createTestModel } from "xstate/graph";
import {
  type Context,
  consumerGroupMachine,
  type Event,
  findMember,
  GroupErrorCode,
  hasSatisfiedHeartbeat,
  type Input,
  type JoinProtocol,
  nextDeadlineMs,
  type StoredGroup,
  type StoredMember,
} from "../consumer-group.ts";

export type Snapshot = SnapshotFrom<typeof consumerGroupMachine>;

export const sessionTimeoutMs = 100;
export const rebalanceTimeoutMs = 200;

/** The models' limits; a model may set its own groupMaxSize. */
export const limits = {
  groupMinSessionTimeoutMs: 100,
  groupMaxSessionTimeoutMs: 1_000,
  groupMaxSize: 2,
  groupInitialRebalanceDelayMs: 50,
  groupNewMemberJoinTimeoutMs: 300,
  pendingMembersMax: 1,
};

/** The machine's clock when a model starts. */
export const startMs = 1_000;

const range: JoinProtocol[] = [{ name: "range", metadata: "topics:t" }];
/** Client a's other subscription: the same protocol with other metadata, which makes a rejoin a change. */
const rangeOther: JoinProtocol[] = [{ name: "range", metadata: "topics:t,u" }];

export interface Client {
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
const clientS: Client = {
  name: "s",
  groupInstanceId: "s",
  apiVersion: 9,
  ids: ["s1", "s2"],
  base: 30,
};
export const clients = [clientA, clientB, clientS];

/** Request ids of the delete (the refusals, made from client b's join, are 91-97) and the admin's commit. */
const deleteRequestId = 98;
export const adminCommitRequestId = 99;

/** The client whose request this is, by its request id; null for the refusals, the delete and the admin's commit. */
export function clientOfRequest(requestId: number): Client | null {
  return clients.find((client) => requestId >= client.base && requestId < client.base + 10) ?? null;
}

function storedMember(memberId: string, groupInstanceId: string | null, assignment: string): StoredMember {
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
  return { groupId: "orders", nowMs: startMs, storedGroup, ...limits, groupMaxSize };
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

export interface Offer {
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
      requestId: adminCommitRequestId,
      memberId: "",
      generationId: -1,
      groupInstanceId: null,
      nowMs,
    });
    const persisting = context.persistingAssignment ?? context.persistingStaticJoin;
    if (persisting !== null) {
      events.push({ type: "group.persisted", generationId: persisting.generationId, nowMs });
      // The failure a single node gives when __consumer_offsets has fewer in-sync replicas than
      // min.insync.replicas: one a real broker can be made to give (conformance/paths/).
      events.push({
        type: "group.persistFailed",
        generationId: persisting.generationId,
        errorCode: GroupErrorCode.NOT_ENOUGH_REPLICAS,
        nowMs,
      });
    }
    // The clock moves to the next deadline, or half a session when that comes first, so sessions drift apart.
    const next = nextDeadlineMs(context);
    if (next !== null) events.push({ type: "clock.ticked", nowMs: next });
    if (offer.halfSessionTicks && (next === null || next > nowMs + sessionTimeoutMs / 2)) {
      events.push({ type: "clock.ticked", nowMs: nowMs + sessionTimeoutMs / 2 });
    }
    events.push({ type: "group.deleteRequested", requestId: deleteRequestId });
    events.push({ type: "coordinator.unloaded" });
    const only = offer.only;
    return only === undefined ? events : events.filter((event) => only.includes(event.type));
  };
}

/**
 * The group as far as its future depends on it, so that groups that behave
 * alike merge into one vertex: times relative to the machine's clock; no
 * session deadline for a member waiting for an answer (it is not expired while
 * it waits, and its session restarts when it is answered); whether a request
 * waits, not its id.
 */
export function relativeKey(snapshot: Snapshot): string {
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

export interface Model {
  name: string;
  input: Input;
  offer: Offer;
  /** Generations beyond this are not explored. */
  generationMax: number;
  /** Edges and shortest paths of the bounded graph, asserted so a change to the machine or the model shows up. */
  expected: { edges: number; paths: number };
}

export const newGroupModel: Model = {
  name: "two dynamic clients from a new group",
  input: inputWith(null),
  offer: { clients: [clientA, clientB], changeMetadata: true, refusals: true, halfSessionTicks: false },
  generationMax: 1,
  expected: { edges: 20719, paths: 425 },
};

export const restoredStableModel: Model = {
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
};

export const restoredOverCapacityModel: Model = {
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
};

export const models: Model[] = [newGroupModel, restoredStableModel, restoredOverCapacityModel];

function wellFormed(_snapshot: Snapshot, event: Event): boolean {
  return event.type === "coordinator.unloaded" || Object.keys(event).length > 1;
}

/** The bounded graph of a model: its vertices merge groups that behave alike (relativeKey). */
export function testModelOf(model: Model) {
  return createTestModel(consumerGroupMachine, {
    input: model.input,
    events: eventsFor(model.offer),
    filterEvents: wellFormed,
    serializeState: relativeKey as never,
    stopWhen: (snapshot: Snapshot) => snapshot.context.generationId > model.generationMax,
  });
}
