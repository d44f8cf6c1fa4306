/**
 * The steps on a draft of the consumer group that the request handlers share:
 * removing and adding members, starting a rebalance and completing its join phase.
 * Part of the rules that consumer-group-rules.ts gathers.
 */
import {
  assert,
  type Context,
  EMPTY_ASSIGNMENT,
  GroupErrorCode,
  type GroupState,
  type JoinRequest,
  type Member,
  NO_MEMBER_ID,
  type Reaction,
} from "./consumer-group-context.ts";
import {
  allMembersJoined,
  currentGenerationAnswer,
  findMember,
  groupRebalanceTimeoutMs,
  groupRecord,
  joinErrorAnswer,
  selectProtocol,
  staticMemberId,
  syncErrorAnswer,
} from "./consumer-group-reading.ts";

// ---------------------------------------------------------------------------
// Steps on a draft

/** A draft of the group to apply steps to; the context is copied, so the caller's is untouched. */
export function draft(state: GroupState, context: Context, nowMs = context.nowMs): Reaction {
  const copy = structuredClone(context);
  copy.nowMs = Math.max(copy.nowMs, nowMs);
  return { state, context: copy, effects: [] };
}

export function memberOf(reaction: Reaction, memberId: string): Member {
  const member = findMember(reaction.context, memberId);
  assert(member !== undefined, `no member ${memberId}`);
  return member;
}

export function restartSession(reaction: Reaction, member: Member): void {
  member.sessionDeadlineMs = reaction.context.nowMs + member.sessionTimeoutMs;
}

export function forgetPendingSync(reaction: Reaction, memberId: string): void {
  const context = reaction.context;
  context.pendingSyncMemberIds = context.pendingSyncMemberIds.filter((id) => id !== memberId);
  if (context.pendingSyncMemberIds.length === 0) context.syncDeadlineMs = null;
}

/**
 * Removes a member, answering what it waits for: a join UNKNOWN_MEMBER_ID, as
 * Kafka does so a live client joins again; a sync the same (Kafka leaves such
 * a sync unanswered; here every waiting request is answered). A new leader is
 * the first member left.
 */
export function removeMember(reaction: Reaction, memberId: string): void {
  const context = reaction.context;
  const member = memberOf(reaction, memberId);
  if (member.joinRequestId !== null) {
    reaction.effects.push({
      type: "answerJoin",
      params: joinErrorAnswer(member.joinRequestId, GroupErrorCode.UNKNOWN_MEMBER_ID, NO_MEMBER_ID),
    });
  }
  if (member.syncRequestId !== null) {
    reaction.effects.push({
      type: "answerSync",
      params: syncErrorAnswer(member.syncRequestId, GroupErrorCode.UNKNOWN_MEMBER_ID),
    });
  }
  context.members = context.members.filter((candidate) => candidate.memberId !== memberId);
  if (context.leaderId === memberId) context.leaderId = context.members[0]?.memberId ?? null;
  forgetPendingSync(reaction, memberId);
  if (context.persistingStaticJoin?.memberId === memberId) context.persistingStaticJoin = null;
}

export function removePendingMember(reaction: Reaction, memberId: string): void {
  reaction.context.pendingMembers = reaction.context.pendingMembers.filter(
    (pending) => pending.memberId !== memberId,
  );
}

/** A member's second waiting join or sync replaces the first, which is answered so no request is left hanging. */
function awaitJoin(reaction: Reaction, member: Member, requestId: number): void {
  if (member.joinRequestId !== null && member.joinRequestId !== requestId) {
    reaction.effects.push({
      type: "answerJoin",
      params: joinErrorAnswer(member.joinRequestId, GroupErrorCode.REBALANCE_IN_PROGRESS, member.memberId),
    });
  }
  member.joinRequestId = requestId;
}

export function awaitSync(reaction: Reaction, member: Member, requestId: number): void {
  if (member.syncRequestId !== null && member.syncRequestId !== requestId) {
    reaction.effects.push({
      type: "answerSync",
      params: syncErrorAnswer(member.syncRequestId, GroupErrorCode.REBALANCE_IN_PROGRESS),
    });
  }
  member.syncRequestId = requestId;
}

/** Kafka's updateMember: new protocols and timeouts, and the member waits in this join. */
export function updateMember(reaction: Reaction, memberId: string, join: JoinRequest): void {
  const member = memberOf(reaction, memberId);
  member.protocols = join.protocols.map((protocol) => ({ ...protocol }));
  member.rebalanceTimeoutMs = join.rebalanceTimeoutMs;
  member.sessionTimeoutMs = join.sessionTimeoutMs;
  awaitJoin(reaction, member, join.requestId);
}

/** Kafka's add: a new member, waiting in this join, with the new-member join timeout as its deadline. */
export function addMember(reaction: Reaction, memberId: string, join: JoinRequest): void {
  const context = reaction.context;
  assert(findMember(context, memberId) === undefined, `member ${memberId} already exists`);
  assert(
    join.groupInstanceId === null || staticMemberId(context, join.groupInstanceId) === null,
    `instance ${join.groupInstanceId} already has a member`,
  );
  if (context.members.length === 0) context.protocolType = join.protocolType;
  context.members.push({
    memberId,
    groupInstanceId: join.groupInstanceId,
    clientId: join.clientId,
    clientHost: join.clientHost,
    rebalanceTimeoutMs: join.rebalanceTimeoutMs,
    sessionTimeoutMs: join.sessionTimeoutMs,
    protocols: join.protocols.map((protocol) => ({ ...protocol })),
    assignment: EMPTY_ASSIGNMENT,
    sessionDeadlineMs: context.nowMs + context.groupNewMemberJoinTimeoutMs,
    isNew: true,
    joinRequestId: join.requestId,
    syncRequestId: null,
  });
  if (context.leaderId === null) context.leaderId = memberId;
  removePendingMember(reaction, memberId);
  if (context.initialRebalance !== null) context.initialRebalance.newMemberAdded = true;
}

/**
 * Kafka's replaceStaticMember: the instance's old member id is fenced (what
 * it waits for is answered FENCED_INSTANCE_ID) and a member with the new id
 * takes its place, its assignment, its leadership and a fresh session.
 */
export function replaceStaticMember(reaction: Reaction, oldMemberId: string, newMemberId: string): void {
  const context = reaction.context;
  assert(findMember(context, newMemberId) === undefined, `member ${newMemberId} already exists`);
  const old = memberOf(reaction, oldMemberId);
  if (old.joinRequestId !== null) {
    reaction.effects.push({
      type: "answerJoin",
      params: joinErrorAnswer(old.joinRequestId, GroupErrorCode.FENCED_INSTANCE_ID, oldMemberId),
    });
  }
  if (old.syncRequestId !== null) {
    reaction.effects.push({
      type: "answerSync",
      params: syncErrorAnswer(old.syncRequestId, GroupErrorCode.FENCED_INSTANCE_ID),
    });
  }
  const replacement: Member = {
    ...old,
    memberId: newMemberId,
    protocols: old.protocols.map((protocol) => ({ ...protocol })),
    isNew: false,
    joinRequestId: null,
    syncRequestId: null,
    sessionDeadlineMs: context.nowMs + old.sessionTimeoutMs,
  };
  context.members = context.members.map((member) => (member.memberId === oldMemberId ? replacement : member));
  if (context.leaderId === oldMemberId) context.leaderId = newMemberId;
  context.pendingSyncMemberIds = context.pendingSyncMemberIds.map((id) =>
    id === oldMemberId ? newMemberId : id,
  );
  if (context.persistingStaticJoin?.memberId === oldMemberId) context.persistingStaticJoin = null;
}

/**
 * Kafka's prepareRebalance: waiting syncs of a completing group are answered
 * REBALANCE_IN_PROGRESS and its assignments reset, the sync wait ends, and
 * the group prepares a rebalance: an empty group's first one waits
 * groupInitialRebalanceDelayMs, any other one at most the group's rebalance
 * timeout.
 */
export function startRebalance(reaction: Reaction): void {
  const context = reaction.context;
  if (reaction.state === "CompletingRebalance") {
    for (const member of context.members) {
      member.assignment = EMPTY_ASSIGNMENT;
      if (member.syncRequestId !== null) {
        reaction.effects.push({
          type: "answerSync",
          params: syncErrorAnswer(member.syncRequestId, GroupErrorCode.REBALANCE_IN_PROGRESS),
        });
        member.syncRequestId = null;
        restartSession(reaction, member);
      }
    }
  }
  context.pendingSyncMemberIds = [];
  context.syncDeadlineMs = null;
  // Answers to writes made for the old generation change nothing any more (Kafka checks the state).
  context.persistingAssignment = null;
  context.persistingStaticJoin = null;
  if (reaction.state === "Empty") {
    const delayMs = context.groupInitialRebalanceDelayMs;
    context.initialRebalance = {
      deadlineMs: context.nowMs + delayMs,
      delayMs,
      remainingMs: Math.max(groupRebalanceTimeoutMs(context) - delayMs, 0),
      newMemberAdded: false,
    };
    context.rebalanceDeadlineMs = null;
  } else {
    context.initialRebalance = null;
    context.rebalanceDeadlineMs = context.nowMs + groupRebalanceTimeoutMs(context);
  }
  reaction.state = "PreparingRebalance";
}

/** Kafka's maybeElectNewJoinedLeader: keep the leader if it rejoined, else the first member that did. */
function electJoinedLeader(context: Context): boolean {
  if (context.leaderId === null) return false;
  if (findMember(context, context.leaderId)?.joinRequestId != null) return true;
  const joined = context.members.find((member) => member.joinRequestId !== null);
  if (joined === undefined) return false;
  context.leaderId = joined.memberId;
  return true;
}

/**
 * Kafka's completeClassicGroupJoin: dynamic members that did not rejoin are
 * removed (static ones keep their place); with no member rejoined the phase
 * waits another rebalance timeout; otherwise the generation goes up by one,
 * the protocol is chosen and every waiting join is answered, the leader's
 * with every member, and each member must sync within the rebalance timeout.
 * A group left without members becomes empty, and that is written.
 */
export function completeJoinPhase(reaction: Reaction): void {
  const context = reaction.context;
  assert(reaction.state === "PreparingRebalance", "only a preparing group completes a join phase");
  for (const member of [...context.members]) {
    if (member.joinRequestId === null && member.groupInstanceId === null)
      removeMember(reaction, member.memberId);
  }
  context.initialRebalance = null;
  if (!electJoinedLeader(context) && context.members.length > 0) {
    // At least a millisecond on, so a zero rebalance timeout cannot stall the clock.
    context.rebalanceDeadlineMs = context.nowMs + Math.max(groupRebalanceTimeoutMs(context), 1);
    return;
  }
  context.rebalanceDeadlineMs = null;
  context.generationId += 1;
  context.pendingSyncMemberIds = [];
  context.syncDeadlineMs = null;
  if (context.members.length === 0) {
    context.protocolName = null;
    context.leaderId = null;
    reaction.state = "Empty";
    reaction.effects.push({ type: "persistGroup", params: groupRecord(context) });
    return;
  }
  context.protocolName = selectProtocol(context);
  reaction.state = "CompletingRebalance";
  for (const member of context.members) {
    if (member.joinRequestId !== null) {
      reaction.effects.push({
        type: "answerJoin",
        params: currentGenerationAnswer(
          context,
          member.joinRequestId,
          member.memberId,
          member.memberId === context.leaderId,
        ),
      });
      member.joinRequestId = null;
    }
    member.isNew = false;
    restartSession(reaction, member);
  }
  context.pendingSyncMemberIds = context.members.map((member) => member.memberId);
  context.syncDeadlineMs = context.nowMs + groupRebalanceTimeoutMs(context);
}

/** A preparing group that is not in its initial delay completes once everyone has joined (maybeCompleteJoinPhase). */
export function maybeCompleteJoinPhase(reaction: Reaction): void {
  if (
    reaction.state === "PreparingRebalance" &&
    reaction.context.initialRebalance === null &&
    allMembersJoined(reaction.context)
  ) {
    completeJoinPhase(reaction);
  }
}

/** What a member's removal does to the group: a stable or completing group rebalances, a preparing one may complete. */
export function afterMemberRemoved(reaction: Reaction): void {
  if (reaction.state === "Stable" || reaction.state === "CompletingRebalance") {
    startRebalance(reaction);
  }
  maybeCompleteJoinPhase(reaction);
}
