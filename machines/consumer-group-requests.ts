/**
 * The consumer group's Heartbeat and OffsetCommit checks.
 * Part of the rules that consumer-group-rules.ts gathers.
 */
import {
  assert,
  type Context,
  GroupErrorCode,
  type GroupState,
  NO_MEMBER_ID,
  type Reaction,
} from "./consumer-group-context.ts";
import { findMember, memberError } from "./consumer-group-reading.ts";
import { restartSession } from "./consumer-group-steps.ts";

// ---------------------------------------------------------------------------
// Heartbeat, OffsetCommit

export interface HeartbeatRequest {
  requestId: number;
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  nowMs: number;
}

/** Kafka's validateClassicGroupHeartbeat, and an empty group's UNKNOWN_MEMBER_ID; NONE when the heartbeat counts. */
export function heartbeatError(context: Context, state: GroupState, heartbeat: HeartbeatRequest): number {
  const error = memberError(context, heartbeat.memberId, heartbeat.groupInstanceId);
  if (error !== GroupErrorCode.NONE) return error;
  if (heartbeat.generationId !== context.generationId) return GroupErrorCode.ILLEGAL_GENERATION;
  if (state === "Empty") return GroupErrorCode.UNKNOWN_MEMBER_ID;
  return GroupErrorCode.NONE;
}

export function refusedHeartbeatAnswer(
  context: Context,
  state: GroupState,
  heartbeat: HeartbeatRequest,
): { requestId: number; errorCode: number } {
  const errorCode = heartbeatError(context, state, heartbeat);
  assert(errorCode !== GroupErrorCode.NONE, `heartbeat ${heartbeat.requestId} is not refused`);
  return { requestId: heartbeat.requestId, errorCode };
}

/** A counted heartbeat, commit or stable sync restarts the member's session. */
export function restartMemberSession(reaction: Reaction, memberId: string): void {
  const member = findMember(reaction.context, memberId);
  if (member !== undefined) restartSession(reaction, member);
}

/** While the group prepares a rebalance the heartbeat's answer tells the member to rejoin. */
export function heartbeatAnswerCode(state: GroupState): number {
  return state === "PreparingRebalance" ? GroupErrorCode.REBALANCE_IN_PROGRESS : GroupErrorCode.NONE;
}

export interface OffsetCommitRequest {
  requestId: number;
  memberId: string;
  generationId: number;
  groupInstanceId: string | null;
  nowMs: number;
}

/**
 * Kafka's validateOffsetCommit for a (non-transactional) OffsetCommit:
 * generation -1 without a member is an admin or simple consumer's commit,
 * taken only while the group is empty; anything else must come from a current
 * member of the current generation, and not while the group completes a
 * rebalance (the member has its generation but not yet its assignment).
 */
export function offsetCommitError(context: Context, state: GroupState, commit: OffsetCommitRequest): number {
  if (commit.generationId < 0 && state === "Empty") return GroupErrorCode.NONE;
  if (commit.generationId >= 0 || commit.memberId !== NO_MEMBER_ID || commit.groupInstanceId !== null) {
    const error = memberError(context, commit.memberId, commit.groupInstanceId);
    if (error !== GroupErrorCode.NONE) return error;
    if (commit.generationId !== context.generationId) return GroupErrorCode.ILLEGAL_GENERATION;
  } else if (state !== "Empty") {
    return GroupErrorCode.UNKNOWN_MEMBER_ID;
  }
  if (state === "CompletingRebalance") return GroupErrorCode.REBALANCE_IN_PROGRESS;
  return GroupErrorCode.NONE;
}

export function refusedOffsetCommitAnswer(
  context: Context,
  state: GroupState,
  commit: OffsetCommitRequest,
): { requestId: number; errorCode: number } {
  const errorCode = offsetCommitError(context, state, commit);
  assert(errorCode !== GroupErrorCode.NONE, `commit ${commit.requestId} is not refused`);
  return { requestId: commit.requestId, errorCode };
}
