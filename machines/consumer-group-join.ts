/**
 * The consumer group's JoinGroup: what Kafka decides for a join and the steps it takes.
 * Part of the rules that consumer-group-rules.ts gathers.
 */
import {
  assert,
  type Context,
  GroupErrorCode,
  type GroupState,
  type JoinAnswer,
  type JoinRequest,
  NO_MEMBER_ID,
  type PersistingStaticJoin,
  type Reaction,
  requiresKnownMemberId,
  supportsSkippingAssignment,
} from "./consumer-group-context.ts";
import {
  awaitingJoinCount,
  currentGenerationAnswer,
  findMember,
  groupRecord,
  isPendingMember,
  joinErrorAnswer,
  memberError,
  protocolsMatch,
  selectProtocol,
  staticMemberId,
  supportsProtocols,
} from "./consumer-group-reading.ts";
import {
  addMember,
  draft,
  maybeCompleteJoinPhase,
  memberOf,
  removeMember,
  removePendingMember,
  replaceStaticMember,
  startRebalance,
  updateMember,
} from "./consumer-group-steps.ts";

// ---------------------------------------------------------------------------
// JoinGroup

export type JoinDecision =
  | { kind: "refuse"; errorCode: number; memberId: string }
  | { kind: "groupFull" }
  | { kind: "requireMemberId" }
  | { kind: "answerAtOnce" }
  | { kind: "replaceStaticMemberInPlace" }
  | { kind: "admit" };

/** Kafka's acceptJoiningMember, plus the cap that bounds a preparing group's members (see Context). */
export function acceptsJoiningMember(context: Context, state: GroupState, memberId: string): boolean {
  const member = findMember(context, memberId);
  switch (state) {
    case "Empty":
      return true;
    case "PreparingRebalance":
      if (member?.joinRequestId != null) return true;
      return (
        awaitingJoinCount(context) < context.groupMaxSize &&
        (member !== undefined || context.members.length < 2 * context.groupMaxSize)
      );
    case "CompletingRebalance":
    case "Stable":
      return member !== undefined || context.members.length < context.groupMaxSize;
  }
}

/** The protocol the group would choose with the static member's new protocols is the current one. */
function replacementKeepsProtocol(context: Context, join: JoinRequest, oldMemberId: string): boolean {
  const members = context.members.map((member) =>
    member.memberId === oldMemberId ? { ...member, protocols: join.protocols } : member,
  );
  return selectProtocol({ ...context, members }) === context.protocolName;
}

/**
 * What Kafka does with a JoinGroup, in Kafka's order of checks:
 * session timeout, group size, protocols, then by who joins and the group's state.
 */
export function joinDecision(context: Context, state: GroupState, join: JoinRequest): JoinDecision {
  const refuse = (errorCode: number, memberId: string): JoinDecision => ({
    kind: "refuse",
    errorCode,
    memberId,
  });
  if (
    join.sessionTimeoutMs < context.groupMinSessionTimeoutMs ||
    join.sessionTimeoutMs > context.groupMaxSessionTimeoutMs
  ) {
    return refuse(GroupErrorCode.INVALID_SESSION_TIMEOUT, join.memberId);
  }
  if (!acceptsJoiningMember(context, state, join.memberId)) return { kind: "groupFull" };
  const names = join.protocols.map((protocol) => protocol.name);
  const isNewMember = join.memberId === NO_MEMBER_ID;
  if (!supportsProtocols(context, state, join.protocolType, names)) {
    return refuse(GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL, join.memberId);
  }
  if (isNewMember) {
    if (join.groupInstanceId !== null) {
      const oldMemberId = staticMemberId(context, join.groupInstanceId);
      // Kafka writes the new id and answers once it is stored. One such write at a time here:
      // a second replacement while one is stored rebalances instead, which is always safe.
      if (
        oldMemberId !== null &&
        state === "Stable" &&
        context.persistingStaticJoin === null &&
        replacementKeepsProtocol(context, join, oldMemberId)
      ) {
        return { kind: "replaceStaticMemberInPlace" };
      }
      return { kind: "admit" };
    }
    if (!requiresKnownMemberId(join.apiVersion)) return { kind: "admit" };
    // Not in Kafka, which keeps pending members only until their session ends: a retriable
    // error, so a client caught in a burst of first joins simply tries again.
    if (context.pendingMembers.length >= context.pendingMembersMax) {
      return refuse(GroupErrorCode.COORDINATOR_LOAD_IN_PROGRESS, NO_MEMBER_ID);
    }
    return { kind: "requireMemberId" };
  }
  if (isPendingMember(context, join.memberId)) {
    // A pending member is always dynamic; Kafka throws IllegalStateException for an instance id here.
    if (join.groupInstanceId !== null) return refuse(GroupErrorCode.UNKNOWN_SERVER_ERROR, join.memberId);
    return { kind: "admit" };
  }
  const error = memberError(context, join.memberId, join.groupInstanceId);
  if (error !== GroupErrorCode.NONE) return refuse(error, join.memberId);
  const member = findMember(context, join.memberId)!;
  switch (state) {
    case "Empty":
      return refuse(GroupErrorCode.UNKNOWN_MEMBER_ID, join.memberId);
    case "PreparingRebalance":
      return { kind: "admit" };
    case "CompletingRebalance":
      // The same metadata: the member probably missed the answer; it gets it again.
      return protocolsMatch(member.protocols, join.protocols) ? { kind: "answerAtOnce" } : { kind: "admit" };
    case "Stable":
      // The leader rejoining always rebalances: it is how it asks for a new assignment.
      return context.leaderId !== join.memberId && protocolsMatch(member.protocols, join.protocols)
        ? { kind: "answerAtOnce" }
        : { kind: "admit" };
  }
}

/** The answer to a refused join. */
export function refusedJoinAnswer(context: Context, state: GroupState, join: JoinRequest): JoinAnswer {
  const decision = joinDecision(context, state, join);
  assert(decision.kind === "refuse", `join ${join.requestId} is not refused`);
  return joinErrorAnswer(join.requestId, decision.errorCode, decision.memberId);
}

/**
 * GROUP_MAX_SIZE_REACHED; the joiner, if it is a member or a pending one, is
 * dropped (Kafka removes it). A preparing group may then have everyone it waits
 * for: it completes, as GroupCoordinator.scala checks after every join (the
 * Java coordinator waits for the rebalance timeout instead).
 */
export function refuseJoinGroupFull(reaction: Reaction, join: JoinRequest): void {
  if (findMember(reaction.context, join.memberId) !== undefined) removeMember(reaction, join.memberId);
  removePendingMember(reaction, join.memberId);
  reaction.effects.push({
    type: "answerJoin",
    params: joinErrorAnswer(join.requestId, GroupErrorCode.GROUP_MAX_SIZE_REACHED, NO_MEMBER_ID),
  });
}

/** MEMBER_ID_REQUIRED with an id the member must join with before its session timeout passes. */
export function requireMemberId(reaction: Reaction, join: JoinRequest): void {
  const context = reaction.context;
  assert(
    findMember(context, join.newMemberId) === undefined && !isPendingMember(context, join.newMemberId),
    `member id ${join.newMemberId} is already taken`,
  );
  context.pendingMembers.push({
    memberId: join.newMemberId,
    deadlineMs: context.nowMs + join.sessionTimeoutMs,
  });
  reaction.effects.push({
    type: "answerJoin",
    params: joinErrorAnswer(join.requestId, GroupErrorCode.MEMBER_ID_REQUIRED, join.newMemberId),
  });
}

/** A known member rejoining without a change is told the current generation (the leader, if completing, everyone). */
export function joinAnswerAtOnce(context: Context, state: GroupState, join: JoinRequest): JoinAnswer {
  return currentGenerationAnswer(
    context,
    join.requestId,
    join.memberId,
    state === "CompletingRebalance" && context.leaderId === join.memberId,
  );
}

/**
 * The joiner takes part in the next rebalance: a static member starting again
 * replaces its old member id, a pending member and a new one are added, a
 * known one updated; each waits in this join.
 */
export function admitJoiner(reaction: Reaction, join: JoinRequest): void {
  if (join.memberId === NO_MEMBER_ID && join.groupInstanceId !== null) {
    const oldMemberId = staticMemberId(reaction.context, join.groupInstanceId);
    if (oldMemberId !== null) {
      replaceStaticMember(reaction, oldMemberId, join.newMemberId);
      updateMember(reaction, join.newMemberId, join);
      return;
    }
  }
  const memberId = join.memberId === NO_MEMBER_ID ? join.newMemberId : join.memberId;
  if (findMember(reaction.context, memberId) !== undefined) updateMember(reaction, memberId, join);
  else addMember(reaction, memberId, join);
}

/**
 * A static member starting again in a stable group without changing its
 * protocol: it replaces its old id at once, the group is written, and the
 * member is answered once that is stored (group.persisted).
 */
export function replaceStaticMemberInPlace(reaction: Reaction, join: JoinRequest): void {
  const context = reaction.context;
  assert(join.groupInstanceId !== null, "only a static member is replaced in place");
  const oldMemberId = staticMemberId(context, join.groupInstanceId);
  assert(oldMemberId !== null, `instance ${join.groupInstanceId} has no member`);
  const old = memberOf(reaction, oldMemberId);
  const persisting: PersistingStaticJoin = {
    generationId: context.generationId,
    requestId: join.requestId,
    groupInstanceId: join.groupInstanceId,
    memberId: join.newMemberId,
    previousMemberId: oldMemberId,
    previousProtocols: old.protocols.map((protocol) => ({ ...protocol })),
    previousRebalanceTimeoutMs: old.rebalanceTimeoutMs,
    previousSessionTimeoutMs: old.sessionTimeoutMs,
    previousLeaderId: context.leaderId,
    skipAssignmentSupported: supportsSkippingAssignment(join.apiVersion),
  };
  replaceStaticMember(reaction, oldMemberId, join.newMemberId);
  updateMember(reaction, join.newMemberId, join);
  context.persistingStaticJoin = persisting;
  reaction.effects.push({ type: "persistGroup", params: groupRecord(context) });
}

/**
 * Kafka's whole reaction to a JoinGroup: the reference the machine's branches
 * are checked against. An answer that changes nothing leaves the context as it was.
 */
export function reactToJoin(state: GroupState, context: Context, join: JoinRequest): Reaction {
  const reaction = draft(state, context, join.nowMs);
  const decision = joinDecision(reaction.context, state, join);
  switch (decision.kind) {
    case "refuse":
      return {
        state,
        context,
        effects: [{ type: "answerJoin", params: refusedJoinAnswer(context, state, join) }],
      };
    case "answerAtOnce":
      return {
        state,
        context,
        effects: [{ type: "answerJoin", params: joinAnswerAtOnce(context, state, join) }],
      };
    case "groupFull":
      refuseJoinGroupFull(reaction, join);
      maybeCompleteJoinPhase(reaction);
      break;
    case "requireMemberId":
      requireMemberId(reaction, join);
      break;
    case "replaceStaticMemberInPlace":
      replaceStaticMemberInPlace(reaction, join);
      break;
    case "admit":
      admitJoiner(reaction, join);
      // Kafka's maybePrepareRebalanceOrCompleteJoin.
      if (state !== "PreparingRebalance") startRebalance(reaction);
      maybeCompleteJoinPhase(reaction);
      break;
  }
  return reaction;
}
