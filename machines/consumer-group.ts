/**
 * The consumer group machine: one per group of Kafka's classic group protocol
 * (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), run by the group's
 * coordinator. It decides who is a member, when a rebalance starts and
 * completes, which generation and protocol the group is at, who leads it, what
 * every waiting request is answered, when the leader's assignment is written,
 * and whether an offset commit or a deletion is allowed. The runtime answers
 * the requests, writes the group to __consumer_offsets (persistGroup, answered
 * by group.persisted or group.persistFailed), stores offsets, and sends
 * clock.ticked at nextDeadlineMs.
 *
 * Each branch names the Kafka steps it takes (admitJoiner, startRebalance,
 * completeJoinPhase, ...), which consumer-group-rules.ts implements; its guards
 * ask the same rules where a request leads. `react` in the rules composes the
 * steps the way Kafka's coordinator does, and the path tests check every
 * branch against it.
 */
import { and, enqueueActions, setup } from "xstate";
import * as rules from "./consumer-group-rules.ts";
import {
  assignmentPersistIsCurrent,
  type Context,
  carriesLeaderAssignment,
  draft,
  type Effect,
  type Event,
  type EventOf,
  GroupErrorCode,
  type GroupRecord,
  type GroupState,
  heartbeatAnswerCode,
  heartbeatError,
  type Input,
  initialContext,
  type JoinAnswer,
  joinAnswerAtOnce,
  joinDecision,
  type LeaveAnswer,
  leaveRemovesMember,
  offsetCommitError,
  type Reaction,
  react,
  reactToJoin,
  refusedHeartbeatAnswer,
  refusedJoinAnswer,
  refusedOffsetCommitAnswer,
  refusedSyncAnswer,
  requestTimeMs,
  restoredOverCapacity,
  type StateName,
  type SyncAnswer,
  staticJoinPersistIsCurrent,
  syncRequestError,
} from "./consumer-group-rules.ts";

export * from "./consumer-group-rules.ts";

export const eventDescriptions: Record<Event["type"], string> = {
  "group.joinRequested":
    "JoinGroup: a member, or a client without an id (newMemberId is the id the runtime made for it), joins",
  "group.syncRequested": "SyncGroup: a member asks for its assignment; the leader's carries everyone's",
  "group.heartbeatRequested": "Heartbeat from a member of a generation",
  "group.leaveRequested": "LeaveGroup: one member, or from v3 several, static ones also by instance id alone",
  "offsets.commitRequested":
    "OffsetCommit: may this member of this generation (or an admin, generation -1) commit now?",
  "group.deleteRequested": "DeleteGroups names this group",
  "group.persisted": "The group record written for generationId is stored in __consumer_offsets",
  "group.persistFailed": "Writing the group record for generationId failed with the append's errorCode",
  "clock.ticked": "Time passed; nowMs is the coordinator's clock",
  "coordinator.unloaded":
    "This node no longer coordinates the group: it lost the __consumer_offsets partition",
};

type Args = { context: Context; event: Event };
type From = { from: GroupState };

/** Narrows an event in a guard or action shared between handlers; a mismatch is a wiring bug. */
function eventOf<T extends Event["type"]>(event: Event, type: T): EventOf<T> {
  if (event.type !== type) throw new Error(`consumer-group: expected ${type}, got ${event.type}`);
  return event as EventOf<T>;
}

/** Where the whole reaction to this event leads, for guards that choose the target. */
function outcome({ context, event }: Args, from: GroupState): Reaction {
  return react(from, context, event);
}

function completesRebalance(args: Args, from: GroupState): boolean {
  const result = outcome(args, from);
  return result.state === "CompletingRebalance" && result.context.generationId > args.context.generationId;
}

function joinDecisionIs(kind: rules.JoinDecision["kind"]) {
  return ({ context, event }: Args, { from }: From) =>
    event.type === "group.joinRequested" && joinDecision(context, from, event).kind === kind;
}

type StepName =
  | "requireMemberId"
  | "refuseJoinGroupFull"
  | "admitJoiner"
  | "replaceStaticMemberInPlace"
  | "startRebalance"
  | "completeJoinPhase"
  | "takeLeaderAssignment"
  | "awaitAssignment"
  | "answerSyncWithAssignment"
  | "restartMemberSession"
  | "removeLeavingMembers"
  | "applyPersistedAssignment"
  | "failPersistedAssignment"
  | "answerStaticJoin"
  | "revertStaticJoin"
  | "answerWaitingRequests"
  | "advanceClock";

/** What each step does to a draft of the group (see consumer-group-rules.ts). */
const steps: Record<Exclude<StepName, "advanceClock">, (reaction: Reaction, event: Event) => void> = {
  requireMemberId: (reaction, event) =>
    rules.requireMemberId(reaction, eventOf(event, "group.joinRequested")),
  refuseJoinGroupFull: (reaction, event) =>
    rules.refuseJoinGroupFull(reaction, eventOf(event, "group.joinRequested")),
  admitJoiner: (reaction, event) => rules.admitJoiner(reaction, eventOf(event, "group.joinRequested")),
  replaceStaticMemberInPlace: (reaction, event) =>
    rules.replaceStaticMemberInPlace(reaction, eventOf(event, "group.joinRequested")),
  startRebalance: (reaction) => rules.startRebalance(reaction),
  completeJoinPhase: (reaction) => rules.completeJoinPhase(reaction),
  takeLeaderAssignment: (reaction, event) =>
    rules.takeLeaderAssignment(reaction, eventOf(event, "group.syncRequested")),
  awaitAssignment: (reaction, event) =>
    rules.awaitAssignment(reaction, eventOf(event, "group.syncRequested")),
  answerSyncWithAssignment: (reaction, event) =>
    rules.answerSyncWithAssignment(reaction, eventOf(event, "group.syncRequested")),
  restartMemberSession: (reaction, event) => {
    if (!("memberId" in event)) throw new Error(`consumer-group: ${event.type} names no member`);
    rules.restartMemberSession(reaction, event.memberId);
  },
  removeLeavingMembers: (reaction, event) => {
    rules.removeLeavingMembers(reaction, eventOf(event, "group.leaveRequested"));
  },
  applyPersistedAssignment: (reaction) => rules.applyPersistedAssignment(reaction),
  failPersistedAssignment: (reaction, event) =>
    rules.failPersistedAssignment(reaction, eventOf(event, "group.persistFailed").errorCode),
  answerStaticJoin: (reaction) => rules.answerStaticJoin(reaction),
  revertStaticJoin: (reaction, event) =>
    rules.revertStaticJoin(reaction, eventOf(event, "group.persistFailed").errorCode),
  answerWaitingRequests: (reaction) => rules.answerWaitingRequests(reaction, GroupErrorCode.NOT_COORDINATOR),
};

/** A step as the machine runs it: on a draft of the context, its effects enqueued in order, then the new context. */
function runStep(
  { context, event }: Args,
  from: GroupState,
  apply: (reaction: Reaction) => void,
): { effects: Effect[]; context: Context; state: StateName } {
  const reaction = draft(from, context, requestTimeMs(event) ?? context.nowMs);
  apply(reaction);
  return reaction;
}

/** The enqueue function of an action in this machine, as much of it as a step uses. */
interface Enqueue {
  (action: Effect): void;
  assign: (context: Context) => void;
}

/** A step as its named action runs it: on a draft, its effects enqueued in order, then the new context. */
function perform(
  enqueue: Enqueue,
  args: Args,
  from: GroupState,
  apply: (reaction: Reaction, event: Event) => void,
) {
  const result = runStep(args, from, (reaction) => apply(reaction, args.event));
  for (const effect of result.effects) enqueue(effect);
  enqueue.assign(result.context);
}

const E = "Empty" as const;
const P = "PreparingRebalance" as const;
const C = "CompletingRebalance" as const;
const S = "Stable" as const;

function step<T extends Exclude<StepName, "advanceClock">>(type: T, from: GroupState) {
  return { type, params: { from } } as const;
}

function guard<T extends string>(type: T, from: GroupState) {
  return { type, params: { from } } as const;
}

const refuseJoin = (from: GroupState) =>
  ({
    type: "answerJoin",
    params: ({ context, event }: Args) =>
      refusedJoinAnswer(context, from, eventOf(event, "group.joinRequested")),
  }) as const;

const answerJoinAtOnce = (from: GroupState) =>
  ({
    type: "answerJoin",
    params: ({ context, event }: Args) =>
      joinAnswerAtOnce(context, from, eventOf(event, "group.joinRequested")),
  }) as const;

const refuseSync = (from: GroupState) =>
  ({
    type: "answerSync",
    params: ({ context, event }: Args) =>
      refusedSyncAnswer(context, from, eventOf(event, "group.syncRequested")),
  }) as const;

const refuseHeartbeat = (from: GroupState) =>
  ({
    type: "answerHeartbeat",
    params: ({ context, event }: Args) =>
      refusedHeartbeatAnswer(context, from, eventOf(event, "group.heartbeatRequested")),
  }) as const;

const answerHeartbeat = (from: GroupState) =>
  ({
    type: "answerHeartbeat",
    params: ({ event }: Args) => ({
      requestId: eventOf(event, "group.heartbeatRequested").requestId,
      errorCode: heartbeatAnswerCode(from),
    }),
  }) as const;

const refuseOffsetCommit = (from: GroupState) =>
  ({
    type: "refuseOffsetCommit",
    params: ({ context, event }: Args) =>
      refusedOffsetCommitAnswer(context, from, eventOf(event, "offsets.commitRequested")),
  }) as const;

const acceptOffsetCommit = {
  type: "acceptOffsetCommit",
  params: ({ event }: Args) => ({ requestId: eventOf(event, "offsets.commitRequested").requestId }),
} as const;

/** JoinGroup in a state: refusals first, in Kafka's order, then what the join does to the group. */
function joinTransitions(from: GroupState) {
  const refusals = [
    {
      guard: guard("joinRefused", from),
      actions: [refuseJoin(from)],
      description:
        "Refused, nothing changes: INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID",
    },
    {
      guard: guard("joinNeedsMemberId", from),
      actions: [step("requireMemberId", from)],
      description: "A v4+ dynamic member without an id: MEMBER_ID_REQUIRED with its new id, kept as pending",
    },
  ];
  switch (from) {
    case "Empty":
      return [
        ...refusals,
        {
          target: P,
          actions: [step("admitJoiner", from), step("startRebalance", from)],
          description: "The first member: the initial rebalance waits groupInitialRebalanceDelayMs for more",
        },
      ];
    case "PreparingRebalance":
      return [
        ...refusals,
        {
          guard: and([guard("joinGroupFull", from), guard("joinCompletesRebalance", from)]),
          target: C,
          actions: [step("refuseJoinGroupFull", from), step("completeJoinPhase", P)],
          description:
            "GROUP_MAX_SIZE_REACHED drops the joiner, and everyone left has joined: the phase completes",
        },
        {
          guard: guard("joinGroupFull", from),
          actions: [step("refuseJoinGroupFull", from)],
          description: "groupMaxSize members already wait: GROUP_MAX_SIZE_REACHED, the joiner is dropped",
        },
        {
          guard: guard("joinCompletesRebalance", from),
          target: C,
          actions: [step("admitJoiner", from), step("completeJoinPhase", P)],
          description: "The last member the phase waits for joins: the next generation starts",
        },
        {
          actions: [step("admitJoiner", from)],
          description: "The member waits in its join until the phase completes",
        },
      ];
    case "CompletingRebalance":
    case "Stable":
      return [
        ...refusals,
        {
          guard: guard("joinGroupFull", from),
          actions: [step("refuseJoinGroupFull", from)],
          description: "A new member while groupMaxSize are members: GROUP_MAX_SIZE_REACHED",
        },
        {
          guard: guard("joinAnsweredAtOnce", from),
          actions: [answerJoinAtOnce(from)],
          description:
            from === C
              ? "A member rejoins with the same metadata: it gets the current generation again"
              : "A follower rejoins with the same metadata: it gets the current generation, no rebalance",
        },
        ...(from === S
          ? [
              {
                guard: guard("joinReplacesStaticMemberInPlace", from),
                actions: [step("replaceStaticMemberInPlace", from)],
                description:
                  "A static member starts again with the same protocol: its new id is written, then it is answered",
              },
            ]
          : []),
        {
          guard: guard("joinCompletesRebalance", from),
          target: C,
          actions: [step("admitJoiner", from), step("startRebalance", from), step("completeJoinPhase", P)],
          description: "Every member now waits in a join: the rebalance starts and completes at once",
        },
        {
          target: P,
          actions: [step("admitJoiner", from), step("startRebalance", from)],
          description: "A new member, changed metadata or the leader rejoining: a rebalance starts",
        },
      ];
  }
}

function heartbeatTransitions(from: GroupState) {
  return [
    {
      guard: guard("heartbeatRefused", from),
      actions: [refuseHeartbeat(from)],
      description: "Not a member (UNKNOWN_MEMBER_ID), fenced (FENCED_INSTANCE_ID) or ILLEGAL_GENERATION",
    },
    {
      actions: [step("restartMemberSession", from), answerHeartbeat(from)],
      description:
        from === P
          ? "The session restarts; REBALANCE_IN_PROGRESS tells the member to rejoin"
          : "The session restarts",
    },
  ];
}

function offsetCommitTransitions(from: GroupState) {
  return [
    {
      guard: guard("offsetCommitRefused", from),
      actions: [refuseOffsetCommit(from)],
      description:
        from === E
          ? "Generation -1 is taken by an empty group; otherwise there is no such member"
          : "Not a current member of this generation: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION",
    },
    {
      actions: [step("restartMemberSession", from), acceptOffsetCommit],
      description:
        from === E
          ? "An admin or simple consumer's commit (generation -1) to an empty group"
          : "A member of the current generation commits; its session restarts",
    },
  ];
}

type TickTarget = Exclude<GroupState, "Stable">;

const tickGuards: Record<
  TickTarget,
  "clockEmptiesGroup" | "clockStartsRebalance" | "clockCompletesRebalance"
> = {
  Empty: "clockEmptiesGroup",
  PreparingRebalance: "clockStartsRebalance",
  CompletingRebalance: "clockCompletesRebalance",
};

function tickDescription(from: GroupState, target: TickTarget): string {
  if (target === E) {
    return "Every member's session (or sync wait) ended and the rebalance completed without members";
  }
  if (target === P) return "A member's session ended, or members did not sync in time: a rebalance starts";
  return from === P
    ? "The join phase's deadline (or the initial delay) passed with members joined: the next generation"
    : "A member's session ended and everyone left waits in a join: the rebalance completes at once";
}

/**
 * The tick's branches, by where the deadlines on the way leave the group (a
 * tick never makes a group stable: only a stored assignment does); staying
 * comes last. advanceClock checks that the branch's target is where it ends.
 */
function clockTransitions(from: GroupState, targets: TickTarget[]) {
  return [
    ...targets.map((target) => ({
      guard: guard(tickGuards[target], from),
      target,
      actions: [{ type: "advanceClock", params: { from, to: target } } as const],
      description: tickDescription(from, target),
    })),
    {
      actions: [{ type: "advanceClock", params: { from, to: from } } as const],
      description:
        from === P
          ? "Pending members expire, the initial delay is extended, or the phase waits another rebalance timeout"
          : "Nothing changes the state: pending members whose session ended are forgotten",
    },
  ];
}

export const consumerGroupMachine = setup({
  types: {
    context: {} as Context,
    events: {} as Event,
    input: {} as Input,
  },
  actions: {
    // Effects: placeholders the runtime provides, performed in the order listed (a write before an answer).
    answerJoin: (_, _params: JoinAnswer) => {},
    answerSync: (_, _params: SyncAnswer) => {},
    answerHeartbeat: (_, _params: { requestId: number; errorCode: number }) => {},
    answerLeave: (_, _params: LeaveAnswer) => {},
    acceptOffsetCommit: (_, _params: { requestId: number }) => {},
    refuseOffsetCommit: (_, _params: { requestId: number; errorCode: number }) => {},
    persistGroup: (_, _params: GroupRecord) => {},
    writeGroupTombstone: (_, _params: { groupId: string }) => {},
    answerDelete: (_, _params: { requestId: number; errorCode: number }) => {},
  },
  guards: {
    restoredWithMembers: ({ context }) => context.members.length > 0,
    restoredOverCapacity: ({ context }) => restoredOverCapacity(context),
    joinRefused: joinDecisionIs("refuse"),
    joinNeedsMemberId: joinDecisionIs("requireMemberId"),
    joinGroupFull: joinDecisionIs("groupFull"),
    joinAnsweredAtOnce: joinDecisionIs("answerAtOnce"),
    joinReplacesStaticMemberInPlace: joinDecisionIs("replaceStaticMemberInPlace"),
    joinCompletesRebalance: ({ context, event }, { from }: From) =>
      event.type === "group.joinRequested" &&
      reactToJoin(from, context, event).context.generationId > context.generationId,
    syncRefused: ({ context, event }, { from }: From) =>
      event.type === "group.syncRequested" && syncRequestError(context, from, event) !== GroupErrorCode.NONE,
    syncCarriesLeaderAssignment: ({ context, event }) =>
      event.type === "group.syncRequested" && carriesLeaderAssignment(context, event),
    heartbeatRefused: ({ context, event }, { from }: From) =>
      event.type === "group.heartbeatRequested" &&
      heartbeatError(context, from, event) !== GroupErrorCode.NONE,
    offsetCommitRefused: ({ context, event }, { from }: From) =>
      event.type === "offsets.commitRequested" &&
      offsetCommitError(context, from, event) !== GroupErrorCode.NONE,
    leaveRemovesMember: ({ context, event }, { from }: From) =>
      event.type === "group.leaveRequested" && leaveRemovesMember(context, from, event),
    leaveEmptiesGroup: (args, { from }: From) =>
      args.event.type === "group.leaveRequested" && outcome(args, from).state === "Empty",
    leaveCompletesRebalance: (args, { from }: From) =>
      args.event.type === "group.leaveRequested" && completesRebalance(args, from),
    clockEmptiesGroup: (args, { from }: From) =>
      args.event.type === "clock.ticked" && outcome(args, from).state === "Empty",
    clockStartsRebalance: (args, { from }: From) =>
      args.event.type === "clock.ticked" && outcome(args, from).state === "PreparingRebalance",
    clockCompletesRebalance: (args, { from }: From) =>
      args.event.type === "clock.ticked" && completesRebalance(args, from),
    assignmentPersistIsCurrent: ({ context, event }) =>
      (event.type === "group.persisted" || event.type === "group.persistFailed") &&
      assignmentPersistIsCurrent(context, event.generationId),
    staticJoinPersistIsCurrent: ({ context, event }) =>
      (event.type === "group.persisted" || event.type === "group.persistFailed") &&
      staticJoinPersistIsCurrent(context, event.generationId),
  },
})
  // Steps that change the group: each runs the rule of the same name and enqueues the effects it produced.
  .extend<{ [Name in StepName]: Name extends "advanceClock" ? { from: GroupState; to: GroupState } : From }>({
    actions: {
      requireMemberId: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.requireMemberId),
      ),
      refuseJoinGroupFull: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.refuseJoinGroupFull),
      ),
      admitJoiner: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.admitJoiner),
      ),
      replaceStaticMemberInPlace: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.replaceStaticMemberInPlace),
      ),
      startRebalance: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.startRebalance),
      ),
      completeJoinPhase: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.completeJoinPhase),
      ),
      takeLeaderAssignment: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.takeLeaderAssignment),
      ),
      awaitAssignment: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.awaitAssignment),
      ),
      answerSyncWithAssignment: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.answerSyncWithAssignment),
      ),
      restartMemberSession: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.restartMemberSession),
      ),
      removeLeavingMembers: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.removeLeavingMembers),
      ),
      applyPersistedAssignment: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.applyPersistedAssignment),
      ),
      failPersistedAssignment: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.failPersistedAssignment),
      ),
      answerStaticJoin: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.answerStaticJoin),
      ),
      revertStaticJoin: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.revertStaticJoin),
      ),
      answerWaitingRequests: enqueueActions(({ context, event, enqueue }, { from }: From) =>
        perform(enqueue, { context, event }, from, steps.answerWaitingRequests),
      ),
      /** Time passes to nowMs; the branch's target must be where the deadlines on the way leave the group. */
      advanceClock: enqueueActions(
        ({ context, event, enqueue }, { from, to }: { from: GroupState; to: GroupState }) => {
          const result = runStep({ context, event }, from, (reaction) =>
            rules.advanceClock(reaction, eventOf(event, "clock.ticked").nowMs),
          );
          if (result.state !== to)
            throw new Error(`consumer-group: the tick leads to ${result.state}, not ${to}`);
          for (const effect of result.effects) enqueue(effect);
          enqueue.assign(result.context);
        },
      ),
    },
  })
  .createMachine({
    id: "consumerGroup",
    description: "One consumer group of the classic protocol, on its coordinator",
    context: ({ input }) => initialContext(input),
    initial: "Empty",
    on: {
      "group.deleteRequested": {
        actions: [
          {
            type: "answerDelete",
            params: ({ event }) => ({
              requestId: event.requestId,
              errorCode: GroupErrorCode.NON_EMPTY_GROUP,
            }),
          },
        ],
        description: "Only an empty group can be deleted: NON_EMPTY_GROUP",
      },
      "coordinator.unloaded": {
        target: ".Dead",
        actions: [step("answerWaitingRequests", S)],
        description: "Another node coordinates the group now: waiting joins and syncs get NOT_COORDINATOR",
      },
    },
    states: {
      Empty: {
        description: "No members; the generation, the protocol type and the offsets remain",
        always: [
          {
            guard: "restoredOverCapacity",
            target: P,
            actions: [step("startRebalance", S)],
            description:
              "Restored with more than groupMaxSize members: it rebalances at once (Kafka's onLoaded)",
          },
          {
            guard: "restoredWithMembers",
            target: S,
            description: "Restored with members after a failover: stable, each member with a full session",
          },
        ],
        on: {
          "group.joinRequested": joinTransitions(E),
          "group.syncRequested": {
            actions: [refuseSync(E)],
            description: "No members: UNKNOWN_MEMBER_ID",
          },
          "group.heartbeatRequested": {
            actions: [refuseHeartbeat(E)],
            description: "No members: UNKNOWN_MEMBER_ID (or FENCED_INSTANCE_ID, ILLEGAL_GENERATION)",
          },
          "group.leaveRequested": {
            actions: [step("removeLeavingMembers", E)],
            description: "Only pending members can leave; everyone else is UNKNOWN_MEMBER_ID",
          },
          "offsets.commitRequested": offsetCommitTransitions(E),
          "group.deleteRequested": {
            target: "Dead",
            actions: [
              { type: "writeGroupTombstone", params: ({ context }) => ({ groupId: context.groupId }) },
              {
                type: "answerDelete",
                params: ({ event }) => ({ requestId: event.requestId, errorCode: GroupErrorCode.NONE }),
              },
            ],
            description: "The group's tombstone is written, then the deletion is answered",
          },
          "clock.ticked": clockTransitions(E, []),
        },
      },
      PreparingRebalance: {
        description:
          "A rebalance: joins wait until every member has rejoined, or the initial delay or rebalance timeout ends",
        on: {
          "group.joinRequested": joinTransitions(P),
          "group.syncRequested": {
            actions: [refuseSync(P)],
            description: "REBALANCE_IN_PROGRESS (or the member's or generation's error)",
          },
          "group.heartbeatRequested": heartbeatTransitions(P),
          "group.leaveRequested": [
            {
              guard: guard("leaveEmptiesGroup", P),
              target: E,
              actions: [step("removeLeavingMembers", P), step("completeJoinPhase", P)],
              description:
                "The last members leave: the phase completes empty, the next generation is written",
            },
            {
              guard: guard("leaveCompletesRebalance", P),
              target: C,
              actions: [step("removeLeavingMembers", P), step("completeJoinPhase", P)],
              description:
                "The members the phase waited for leave: the others have joined, the phase completes",
            },
            {
              actions: [step("removeLeavingMembers", P)],
              description: "Members leave; their waiting joins get UNKNOWN_MEMBER_ID; the phase goes on",
            },
          ],
          "offsets.commitRequested": offsetCommitTransitions(P),
          "clock.ticked": clockTransitions(P, [E, C]),
        },
      },
      CompletingRebalance: {
        description: "The generation is set; the members wait for the leader's assignment to be written",
        on: {
          "group.joinRequested": joinTransitions(C),
          "group.syncRequested": [
            {
              guard: guard("syncRefused", C),
              actions: [refuseSync(C)],
              description:
                "UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION or INCONSISTENT_GROUP_PROTOCOL",
            },
            {
              guard: "syncCarriesLeaderAssignment",
              actions: [step("takeLeaderAssignment", C)],
              description: "The leader's assignment: the group with it is written; the leader's sync waits",
            },
            {
              actions: [step("awaitAssignment", C)],
              description: "A member's sync waits for the leader's assignment to be written",
            },
          ],
          "group.heartbeatRequested": heartbeatTransitions(C),
          "group.leaveRequested": [
            {
              guard: guard("leaveEmptiesGroup", C),
              target: E,
              actions: [
                step("removeLeavingMembers", C),
                step("startRebalance", C),
                step("completeJoinPhase", P),
              ],
              description: "Every member leaves: the group is empty at the next generation, which is written",
            },
            {
              guard: guard("leaveRemovesMember", C),
              target: P,
              actions: [step("removeLeavingMembers", C), step("startRebalance", C)],
              description: "A member leaves: waiting syncs get REBALANCE_IN_PROGRESS and a rebalance starts",
            },
            {
              actions: [step("removeLeavingMembers", C)],
              description: "Only pending members or unknown ids: the generation stands",
            },
          ],
          "offsets.commitRequested": {
            actions: [refuseOffsetCommit(C)],
            description:
              "No commits until the assignment is known: REBALANCE_IN_PROGRESS (or the member's error)",
          },
          "group.persisted": {
            guard: "assignmentPersistIsCurrent",
            target: S,
            actions: [step("applyPersistedAssignment", C)],
            description: "The leader's assignment is stored: every waiting sync gets its member's assignment",
          },
          "group.persistFailed": {
            guard: "assignmentPersistIsCurrent",
            target: P,
            actions: [step("failPersistedAssignment", C), step("startRebalance", C)],
            description:
              "The assignment could not be stored: waiting syncs get the error, a rebalance starts",
          },
          "clock.ticked": clockTransitions(C, [E, P]),
        },
      },
      Stable: {
        description: "Every member has the generation's assignment; heartbeats keep their sessions",
        on: {
          "group.joinRequested": joinTransitions(S),
          "group.syncRequested": [
            {
              guard: guard("syncRefused", S),
              actions: [refuseSync(S)],
              description:
                "UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION or INCONSISTENT_GROUP_PROTOCOL",
            },
            {
              actions: [step("answerSyncWithAssignment", S)],
              description: "The member gets its assignment at once; its session restarts",
            },
          ],
          "group.heartbeatRequested": heartbeatTransitions(S),
          "group.leaveRequested": [
            {
              guard: guard("leaveEmptiesGroup", S),
              target: E,
              actions: [
                step("removeLeavingMembers", S),
                step("startRebalance", S),
                step("completeJoinPhase", P),
              ],
              description: "Every member leaves: the group is empty at the next generation, which is written",
            },
            {
              guard: guard("leaveCompletesRebalance", S),
              target: C,
              actions: [
                step("removeLeavingMembers", S),
                step("startRebalance", S),
                step("completeJoinPhase", P),
              ],
              description:
                "A member leaves and the only others wait in a join: the rebalance completes at once",
            },
            {
              guard: guard("leaveRemovesMember", S),
              target: P,
              actions: [step("removeLeavingMembers", S), step("startRebalance", S)],
              description: "A member leaves: a rebalance starts",
            },
            {
              actions: [step("removeLeavingMembers", S)],
              description: "Only pending members or unknown ids: the generation stands",
            },
          ],
          "offsets.commitRequested": offsetCommitTransitions(S),
          "group.persisted": {
            guard: "staticJoinPersistIsCurrent",
            actions: [step("answerStaticJoin", S)],
            description: "The static member's new id is stored: it is told the current generation",
          },
          "group.persistFailed": {
            guard: "staticJoinPersistIsCurrent",
            actions: [step("revertStaticJoin", S)],
            description:
              "The new id could not be stored: the old member id comes back, the join gets the error",
          },
          "clock.ticked": clockTransitions(S, [E, C, P]),
        },
      },
      Dead: {
        type: "final",
        description: "Deleted, or coordinated elsewhere now; the machine is done",
      },
    },
  });
