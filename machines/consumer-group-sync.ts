/**
 * The consumer group's SyncGroup, and the answers to the writes it and a static
 * member's join start (group.persisted, group.persistFailed).
 * Part of the rules that consumer-group-rules.ts gathers.
 */
import {
  appendErrorToResponseError,
  assert,
  type Context,
  EMPTY_ASSIGNMENT,
  GroupErrorCode,
  type GroupState,
  NO_LEADER,
  NO_MEMBER_ID,
  type Reaction,
  type SyncAnswer,
  type SyncRequest,
} from "./consumer-group-context.ts";
import { groupRecord, joinAnswerMembers, memberError, syncErrorAnswer } from "./consumer-group-reading.ts";
import {
  awaitSync,
  forgetPendingSync,
  memberOf,
  replaceStaticMember,
  restartSession,
} from "./consumer-group-steps.ts";

// ---------------------------------------------------------------------------
// SyncGroup

/** Kafka's validateSyncGroup, then what the state answers at once; NONE when the sync is taken. */
export function syncRequestError(context: Context, state: GroupState, sync: SyncRequest): number {
  // Kafka answers a sync to an empty group UNKNOWN_MEMBER_ID before looking at the request.
  if (state === "Empty") return GroupErrorCode.UNKNOWN_MEMBER_ID;
  const error = memberError(context, sync.memberId, sync.groupInstanceId);
  if (error !== GroupErrorCode.NONE) return error;
  if (sync.generationId !== context.generationId) return GroupErrorCode.ILLEGAL_GENERATION;
  // SyncGroup v5 names the protocol the member thinks the group chose; older versions send none.
  const inconsistent = (sent: string | null, held: string | null) =>
    sent !== null && held !== null && sent !== held;
  if (
    inconsistent(sync.protocolType, context.protocolType) ||
    inconsistent(sync.protocolName, context.protocolName)
  ) {
    return GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  }
  if (state === "PreparingRebalance") return GroupErrorCode.REBALANCE_IN_PROGRESS;
  return GroupErrorCode.NONE;
}

export function refusedSyncAnswer(context: Context, state: GroupState, sync: SyncRequest): SyncAnswer {
  const errorCode = syncRequestError(context, state, sync);
  assert(errorCode !== GroupErrorCode.NONE, `sync ${sync.requestId} is not refused`);
  return syncErrorAnswer(sync.requestId, errorCode);
}

/** The leader's sync that starts the write of its assignment (none is being written for this generation yet). */
export function carriesLeaderAssignment(context: Context, sync: SyncRequest): boolean {
  return context.leaderId === sync.memberId && context.persistingAssignment === null;
}

/** A member's sync in a completing group waits for the leader's assignment to be stored. */
export function awaitAssignment(reaction: Reaction, sync: SyncRequest): void {
  awaitSync(reaction, memberOf(reaction, sync.memberId), sync.requestId);
  forgetPendingSync(reaction, sync.memberId);
}

/**
 * The leader's assignment: every member gets its entry (the last one for an
 * id given twice, an empty one when the leader gave none, entries for other ids
 * are ignored), and the group with it is written before anyone is answered.
 */
export function takeLeaderAssignment(reaction: Reaction, sync: SyncRequest): void {
  const context = reaction.context;
  awaitAssignment(reaction, sync);
  const assignments = context.members.map((member) => ({
    memberId: member.memberId,
    assignment:
      sync.assignments.filter((entry) => entry.memberId === member.memberId).at(-1)?.assignment ??
      EMPTY_ASSIGNMENT,
  }));
  context.persistingAssignment = { generationId: context.generationId, assignments };
  reaction.effects.push({ type: "persistGroup", params: groupRecord(context, assignments) });
}

/** A stable group answers a sync at once with the member's assignment; its session restarts. */
export function answerSyncWithAssignment(reaction: Reaction, sync: SyncRequest): void {
  const context = reaction.context;
  const member = memberOf(reaction, sync.memberId);
  forgetPendingSync(reaction, sync.memberId);
  restartSession(reaction, member);
  reaction.effects.push({
    type: "answerSync",
    params: {
      requestId: sync.requestId,
      errorCode: GroupErrorCode.NONE,
      protocolType: context.protocolType,
      protocolName: context.protocolName,
      assignment: member.assignment,
    },
  });
}

/** The write of the leader's assignment for this generation is the one being answered. */
export function assignmentPersistIsCurrent(context: Context, generationId: number): boolean {
  return context.persistingAssignment?.generationId === generationId && context.generationId === generationId;
}

/** The leader's assignment is stored: each member gets its own, the waiting syncs are answered, the group is stable. */
export function applyPersistedAssignment(reaction: Reaction): void {
  const context = reaction.context;
  const persisting = context.persistingAssignment;
  assert(persisting !== null, "no assignment is being written");
  for (const member of context.members) {
    member.assignment =
      persisting.assignments.find((entry) => entry.memberId === member.memberId)?.assignment ??
      EMPTY_ASSIGNMENT;
    if (member.syncRequestId !== null) {
      reaction.effects.push({
        type: "answerSync",
        params: {
          requestId: member.syncRequestId,
          errorCode: GroupErrorCode.NONE,
          protocolType: context.protocolType,
          protocolName: context.protocolName,
          assignment: member.assignment,
        },
      });
      member.syncRequestId = null;
      restartSession(reaction, member);
    }
  }
  context.persistingAssignment = null;
  reaction.state = "Stable";
}

/**
 * The assignment could not be stored: the waiting syncs get the write's error
 * (as Kafka maps it), assignments are reset, and a rebalance follows
 * (startRebalance, as the machine lists it next).
 */
export function failPersistedAssignment(reaction: Reaction, appendErrorCode: number): void {
  const context = reaction.context;
  const errorCode = appendErrorToResponseError(appendErrorCode);
  for (const member of context.members) {
    member.assignment = EMPTY_ASSIGNMENT;
    if (member.syncRequestId !== null) {
      reaction.effects.push({ type: "answerSync", params: syncErrorAnswer(member.syncRequestId, errorCode) });
      member.syncRequestId = null;
      restartSession(reaction, member);
    }
  }
  context.persistingAssignment = null;
}

// ---------------------------------------------------------------------------
// A static member's new id, written in a stable group

export function staticJoinPersistIsCurrent(context: Context, generationId: number): boolean {
  return context.persistingStaticJoin?.generationId === generationId && context.generationId === generationId;
}

/**
 * The new id is stored: the static member is told the current generation. From
 * JoinGroup v9 a leader learns it leads and skips the assignment; an older
 * client is told the previous leader, so a leader that came back does not
 * compute an assignment the stable group would ignore.
 */
export function answerStaticJoin(reaction: Reaction): void {
  const context = reaction.context;
  const persisting = context.persistingStaticJoin;
  assert(persisting !== null, "no static member's id is being written");
  const member = memberOf(reaction, persisting.memberId);
  const isLeader = context.leaderId === member.memberId;
  reaction.effects.push({
    type: "answerJoin",
    params: {
      requestId: persisting.requestId,
      errorCode: GroupErrorCode.NONE,
      memberId: member.memberId,
      generationId: context.generationId,
      protocolType: context.protocolType,
      protocolName: context.protocolName,
      leaderId:
        (persisting.skipAssignmentSupported ? context.leaderId : persisting.previousLeaderId) ?? NO_LEADER,
      skipAssignment: persisting.skipAssignmentSupported && isLeader,
      members: persisting.skipAssignmentSupported && isLeader ? joinAnswerMembers(context) : [],
    },
  });
  member.joinRequestId = null;
  // Kafka's session timer may have fired, ignored, while the member waited; it restarts here instead.
  restartSession(reaction, member);
  context.persistingStaticJoin = null;
}

/** The new id could not be stored: the old member id, protocols and timeouts come back and the join gets the error. */
export function revertStaticJoin(reaction: Reaction, appendErrorCode: number): void {
  const context = reaction.context;
  const persisting = context.persistingStaticJoin;
  assert(persisting !== null, "no static member's id is being written");
  const member = memberOf(reaction, persisting.memberId);
  member.protocols = persisting.previousProtocols.map((protocol) => ({ ...protocol }));
  member.rebalanceTimeoutMs = persisting.previousRebalanceTimeoutMs;
  member.sessionTimeoutMs = persisting.previousSessionTimeoutMs;
  member.joinRequestId = null;
  context.persistingStaticJoin = null;
  replaceStaticMember(reaction, persisting.memberId, persisting.previousMemberId);
  reaction.effects.push({
    type: "answerJoin",
    params: {
      requestId: persisting.requestId,
      errorCode: appendErrorToResponseError(appendErrorCode),
      memberId: NO_MEMBER_ID,
      generationId: context.generationId,
      protocolType: context.protocolType,
      protocolName: context.protocolName,
      leaderId: persisting.previousLeaderId ?? NO_LEADER,
      skipAssignment: false,
      members: [],
    },
  });
}
