/**
 * The consumer group's LeaveGroup, its deadlines as time passes (advanceClock),
 * and the answers when the coordinator lets the group go.
 * Part of the rules that consumer-group-rules.ts gathers.
 */
import {
  type Context,
  GroupErrorCode,
  type GroupState,
  type MemberIdentity,
  NO_MEMBER_ID,
  type Reaction,
} from "./consumer-group-context.ts";
import {
  hasSatisfiedHeartbeat,
  isPendingMember,
  joinErrorAnswer,
  memberError,
  staticMemberId,
  syncErrorAnswer,
} from "./consumer-group-reading.ts";
import {
  afterMemberRemoved,
  completeJoinPhase,
  draft,
  maybeCompleteJoinPhase,
  removeMember,
  removePendingMember,
  startRebalance,
} from "./consumer-group-steps.ts";

// ---------------------------------------------------------------------------
// LeaveGroup

export interface LeaveRequest {
  requestId: number;
  /** One identity before LeaveGroup v3, any number from v3 (KIP-345). */
  members: MemberIdentity[];
  nowMs: number;
}

/**
 * Kafka's classicGroupLeave, member by member: an identity with no member id
 * and an instance id removes that static member (an admin's removal); a
 * pending member is forgotten; anyone else must pass validateMember. Returns
 * whether a member of the generation left, which is what makes a stable or
 * completing group rebalance: a pending member leaving does not, as in
 * GroupCoordinator.scala (the Java coordinator rebalances for it too).
 */
export function removeLeavingMembers(reaction: Reaction, leave: LeaveRequest): boolean {
  const context = reaction.context;
  let removedMember = false;
  const results = leave.members.map((identity) => {
    const result = (errorCode: number) => ({ ...identity, errorCode });
    if (identity.memberId === NO_MEMBER_ID) {
      const memberId =
        identity.groupInstanceId === null ? null : staticMemberId(context, identity.groupInstanceId);
      if (memberId === null) return result(GroupErrorCode.UNKNOWN_MEMBER_ID);
      removeMember(reaction, memberId);
      removedMember = true;
      return result(GroupErrorCode.NONE);
    }
    if (isPendingMember(context, identity.memberId)) {
      removePendingMember(reaction, identity.memberId);
      return result(GroupErrorCode.NONE);
    }
    const error = memberError(context, identity.memberId, identity.groupInstanceId);
    if (error !== GroupErrorCode.NONE) return result(error);
    removeMember(reaction, identity.memberId);
    removedMember = true;
    return result(GroupErrorCode.NONE);
  });
  reaction.effects.push({
    type: "answerLeave",
    params: { requestId: leave.requestId, errorCode: GroupErrorCode.NONE, members: results },
  });
  return removedMember;
}

/** Whether the leave takes a member of the generation out of the group. */
export function leaveRemovesMember(context: Context, state: GroupState, leave: LeaveRequest): boolean {
  return removeLeavingMembers(draft(state, context, leave.nowMs), leave);
}

// ---------------------------------------------------------------------------
// Time

type Due =
  | { kind: "pendingMember"; memberId: string; atMs: number }
  | { kind: "session"; memberId: string; atMs: number }
  | { kind: "sync"; atMs: number }
  | { kind: "initialDelay"; atMs: number }
  | { kind: "rebalance"; atMs: number };

/** The earliest deadline at or before nowMs; equal ones in this order: pending members, members, sync, join phase. */
function earliestDue(context: Context, nowMs: number): Due | null {
  const candidates: Due[] = [
    ...context.pendingMembers.map((pending) => ({
      kind: "pendingMember" as const,
      memberId: pending.memberId,
      atMs: pending.deadlineMs,
    })),
    ...context.members
      .filter((member) => !hasSatisfiedHeartbeat(member))
      .map((member) => ({
        kind: "session" as const,
        memberId: member.memberId,
        atMs: member.sessionDeadlineMs,
      })),
  ];
  if (context.syncDeadlineMs !== null) candidates.push({ kind: "sync", atMs: context.syncDeadlineMs });
  if (context.initialRebalance !== null) {
    candidates.push({ kind: "initialDelay", atMs: context.initialRebalance.deadlineMs });
  }
  if (context.rebalanceDeadlineMs !== null)
    candidates.push({ kind: "rebalance", atMs: context.rebalanceDeadlineMs });
  let earliest: Due | null = null;
  for (const candidate of candidates) {
    if (candidate.atMs <= nowMs && (earliest === null || candidate.atMs < earliest.atMs))
      earliest = candidate;
  }
  return earliest;
}

/**
 * Time passes to nowMs: every deadline on the way is handled at its own time,
 * in time order, as Kafka's timers would fire, so one late tick ends where a
 * tick at each deadline would. A pending member expires; a member whose session
 * ended is removed (a stable or completing group rebalances); members that did
 * not sync in time are removed and the group rebalances; the initial delay is
 * extended once per delay in which a member joined, up to the rebalance
 * timeout; the join phase completes at its deadline.
 */
export function advanceClock(reaction: Reaction, nowMs: number): void {
  const context = reaction.context;
  for (let due = earliestDue(context, nowMs); due !== null; due = earliestDue(context, nowMs)) {
    context.nowMs = Math.max(context.nowMs, due.atMs);
    switch (due.kind) {
      case "pendingMember":
        removePendingMember(reaction, due.memberId);
        maybeCompleteJoinPhase(reaction);
        break;
      case "session":
        removeMember(reaction, due.memberId);
        afterMemberRemoved(reaction);
        break;
      case "sync":
        for (const memberId of [...context.pendingSyncMemberIds]) removeMember(reaction, memberId);
        startRebalance(reaction);
        maybeCompleteJoinPhase(reaction);
        break;
      case "initialDelay": {
        const initial = context.initialRebalance!;
        if (initial.newMemberAdded && initial.remainingMs !== 0) {
          const delayMs = Math.min(context.groupInitialRebalanceDelayMs, initial.remainingMs);
          context.initialRebalance = {
            deadlineMs: due.atMs + delayMs,
            delayMs,
            remainingMs: Math.max(initial.remainingMs - initial.delayMs, 0),
            newMemberAdded: false,
          };
        } else {
          completeJoinPhase(reaction);
        }
        break;
      }
      case "rebalance":
        completeJoinPhase(reaction);
        break;
    }
  }
  context.nowMs = Math.max(context.nowMs, nowMs);
}

// ---------------------------------------------------------------------------
// The coordinator lets the group go

/** Every waiting join and sync gets NOT_COORDINATOR: the clients look for the new coordinator. */
export function answerWaitingRequests(reaction: Reaction, errorCode: number): void {
  for (const member of reaction.context.members) {
    if (member.joinRequestId !== null) {
      reaction.effects.push({
        type: "answerJoin",
        params: joinErrorAnswer(member.joinRequestId, errorCode, member.memberId),
      });
      member.joinRequestId = null;
    }
    if (member.syncRequestId !== null) {
      reaction.effects.push({ type: "answerSync", params: syncErrorAnswer(member.syncRequestId, errorCode) });
      member.syncRequestId = null;
    }
  }
}
