/**
 * The consumer group machine's data and its rules as pure functions over plain
 * data, so the machine's guards and actions, the runtime and the spec decide
 * the same way. The reference is Kafka's classic group coordinator:
 * `GroupMetadataManager` (classicGroupJoin, classicGroupSync,
 * classicGroupHeartbeat, classicGroupLeave) and `ClassicGroup` from Kafka 3.7
 * on, `GroupCoordinator.scala` and `GroupMetadata.scala` before; where the two
 * differ, the comment at the rule says which one is followed and why.
 *
 * The rules that change the group are written as steps on a draft
 * (`Reaction`: the state the group ends in, its context and the effects to
 * perform, in order), one step per thing Kafka does: admit a joining member,
 * start a rebalance, complete the join phase, remove a member, ... The machine
 * names the same steps as its actions, and its guards ask these functions
 * where a request leads before it is taken.
 */
import {
  type Context,
  type Effect,
  GroupErrorCode,
  type GroupState,
  type JoinRequest,
  type Reaction,
  type SyncRequest,
} from "./consumer-group-context.ts";
import { reactToJoin } from "./consumer-group-join.ts";
import {
  advanceClock,
  answerWaitingRequests,
  type LeaveRequest,
  removeLeavingMembers,
} from "./consumer-group-leave-and-clock.ts";
import {
  type HeartbeatRequest,
  heartbeatAnswerCode,
  heartbeatError,
  type OffsetCommitRequest,
  offsetCommitError,
  refusedHeartbeatAnswer,
  refusedOffsetCommitAnswer,
  restartMemberSession,
} from "./consumer-group-requests.ts";
import { draft, maybeCompleteJoinPhase, startRebalance } from "./consumer-group-steps.ts";
import {
  answerStaticJoin,
  answerSyncWithAssignment,
  applyPersistedAssignment,
  assignmentPersistIsCurrent,
  awaitAssignment,
  carriesLeaderAssignment,
  failPersistedAssignment,
  refusedSyncAnswer,
  revertStaticJoin,
  staticJoinPersistIsCurrent,
  syncRequestError,
  takeLeaderAssignment,
} from "./consumer-group-sync.ts";

export * from "./consumer-group-context.ts";
export * from "./consumer-group-join.ts";
export * from "./consumer-group-leave-and-clock.ts";
export * from "./consumer-group-reading.ts";
export * from "./consumer-group-requests.ts";
export * from "./consumer-group-steps.ts";
export * from "./consumer-group-sync.ts";

// ---------------------------------------------------------------------------
// Every event

export type Event =
  | ({ type: "group.joinRequested" } & JoinRequest)
  | ({ type: "group.syncRequested" } & SyncRequest)
  | ({ type: "group.heartbeatRequested" } & HeartbeatRequest)
  | ({ type: "group.leaveRequested" } & LeaveRequest)
  | ({ type: "offsets.commitRequested" } & OffsetCommitRequest)
  | { type: "group.deleteRequested"; requestId: number }
  | { type: "group.persisted"; generationId: number; nowMs: number }
  | { type: "group.persistFailed"; generationId: number; errorCode: number; nowMs: number }
  | { type: "clock.ticked"; nowMs: number }
  | { type: "coordinator.unloaded" };

export type EventOf<T extends Event["type"]> = Extract<Event, { type: T }>;

/**
 * When a request (or a write's answer) happened, the "now" its steps use. A
 * tick has none: advanceClock moves time itself, deadline by deadline.
 */
export function requestTimeMs(event: Event): number | null {
  return "nowMs" in event && event.type !== "clock.ticked" ? event.nowMs : null;
}

/**
 * Kafka's whole reaction to any event in any state, step by step: the
 * reference the machine's branches are checked against (the machine runs the
 * same steps, chosen by its guards). An event the state ignores leaves the
 * context as it was.
 */
export function react(state: GroupState, context: Context, event: Event): Reaction {
  const unchanged: Reaction = { state, context, effects: [] };
  const answered = (effect: Effect): Reaction => ({ state, context, effects: [effect] });
  const reaction = draft(state, context, requestTimeMs(event) ?? context.nowMs);
  switch (event.type) {
    case "group.joinRequested":
      return reactToJoin(state, context, event);
    case "group.syncRequested":
      if (syncRequestError(context, state, event) !== GroupErrorCode.NONE) {
        return answered({ type: "answerSync", params: refusedSyncAnswer(context, state, event) });
      }
      if (state === "Stable") {
        answerSyncWithAssignment(reaction, event);
      } else if (carriesLeaderAssignment(reaction.context, event)) {
        takeLeaderAssignment(reaction, event);
      } else {
        awaitAssignment(reaction, event);
      }
      return reaction;
    case "group.heartbeatRequested":
      if (heartbeatError(context, state, event) !== GroupErrorCode.NONE) {
        return answered({ type: "answerHeartbeat", params: refusedHeartbeatAnswer(context, state, event) });
      }
      restartMemberSession(reaction, event.memberId);
      reaction.effects.push({
        type: "answerHeartbeat",
        params: { requestId: event.requestId, errorCode: heartbeatAnswerCode(state) },
      });
      return reaction;
    case "group.leaveRequested": {
      const removedMember = removeLeavingMembers(reaction, event);
      if (removedMember && (state === "Stable" || state === "CompletingRebalance")) startRebalance(reaction);
      maybeCompleteJoinPhase(reaction);
      return reaction;
    }
    case "offsets.commitRequested":
      if (offsetCommitError(context, state, event) !== GroupErrorCode.NONE) {
        return answered({
          type: "refuseOffsetCommit",
          params: refusedOffsetCommitAnswer(context, state, event),
        });
      }
      restartMemberSession(reaction, event.memberId);
      reaction.effects.push({ type: "acceptOffsetCommit", params: { requestId: event.requestId } });
      return reaction;
    case "group.deleteRequested":
      if (state !== "Empty") {
        return answered({
          type: "answerDelete",
          params: { requestId: event.requestId, errorCode: GroupErrorCode.NON_EMPTY_GROUP },
        });
      }
      reaction.effects.push({ type: "writeGroupTombstone", params: { groupId: context.groupId } });
      reaction.effects.push({
        type: "answerDelete",
        params: { requestId: event.requestId, errorCode: GroupErrorCode.NONE },
      });
      reaction.state = "Dead";
      return reaction;
    case "group.persisted":
      if (state === "CompletingRebalance" && assignmentPersistIsCurrent(context, event.generationId)) {
        applyPersistedAssignment(reaction);
        return reaction;
      }
      if (state === "Stable" && staticJoinPersistIsCurrent(context, event.generationId)) {
        answerStaticJoin(reaction);
        return reaction;
      }
      return unchanged;
    case "group.persistFailed":
      if (state === "CompletingRebalance" && assignmentPersistIsCurrent(context, event.generationId)) {
        failPersistedAssignment(reaction, event.errorCode);
        startRebalance(reaction);
        return reaction;
      }
      if (state === "Stable" && staticJoinPersistIsCurrent(context, event.generationId)) {
        revertStaticJoin(reaction, event.errorCode);
        return reaction;
      }
      return unchanged;
    case "clock.ticked":
      advanceClock(reaction, event.nowMs);
      return reaction;
    case "coordinator.unloaded":
      answerWaitingRequests(reaction, GroupErrorCode.NOT_COORDINATOR);
      reaction.state = "Dead";
      return reaction;
  }
}

/** Kafka's onLoaded: a restored group above groupMaxSize rebalances at once, so members over the limit drop out. */
export function restoredOverCapacity(context: Context): boolean {
  return context.members.length > context.groupMaxSize;
}
