/**
 * Reading the consumer group's context without changing it, and the error
 * answers every request type shares.
 * Part of the rules that consumer-group-rules.ts gathers.
 */
import {
  assert,
  type Context,
  EMPTY_ASSIGNMENT,
  GroupErrorCode,
  type GroupRecord,
  type GroupState,
  type JoinAnswer,
  type JoinAnswerMember,
  type JoinProtocol,
  type Member,
  type MemberAssignment,
  NO_GENERATION,
  NO_LEADER,
  type SyncAnswer,
} from "./consumer-group-context.ts";

// ---------------------------------------------------------------------------
// Reading the group

export function findMember(context: Context, memberId: string): Member | undefined {
  return context.members.find((member) => member.memberId === memberId);
}

export function staticMemberId(context: Context, groupInstanceId: string): string | null {
  return context.members.find((member) => member.groupInstanceId === groupInstanceId)?.memberId ?? null;
}

export function isPendingMember(context: Context, memberId: string): boolean {
  return context.pendingMembers.some((pending) => pending.memberId === memberId);
}

/** Kafka's validateMember: the instance id, when given, must map to this member id, and the member must exist. */
export function memberError(context: Context, memberId: string, groupInstanceId: string | null): number {
  if (groupInstanceId !== null) {
    const current = staticMemberId(context, groupInstanceId);
    if (current === null) return GroupErrorCode.UNKNOWN_MEMBER_ID;
    if (current !== memberId) return GroupErrorCode.FENCED_INSTANCE_ID;
  }
  return findMember(context, memberId) === undefined ? GroupErrorCode.UNKNOWN_MEMBER_ID : GroupErrorCode.NONE;
}

export function awaitingJoinCount(context: Context): number {
  return context.members.filter((member) => member.joinRequestId !== null).length;
}

/** Kafka's hasAllMembersJoined: every member waits in a join and no member given an id is still to come. */
export function allMembersJoined(context: Context): boolean {
  return (
    context.pendingMembers.length === 0 && context.members.every((member) => member.joinRequestId !== null)
  );
}

/** A member waiting for an answer is not expired at its deadline, unless it joined since the last join phase. */
export function hasSatisfiedHeartbeat(member: Member): boolean {
  return !member.isNew && (member.joinRequestId !== null || member.syncRequestId !== null);
}

/** The group's rebalance timeout: the largest of its members'. */
export function groupRebalanceTimeoutMs(context: Context): number {
  return context.members.reduce((largest, member) => Math.max(largest, member.rebalanceTimeoutMs), 0);
}

/**
 * Kafka's supportsProtocols: an empty group takes any non-empty protocol type
 * and list; otherwise the type must be the group's and one of the protocols
 * must be supported by every member.
 */
export function supportsProtocols(
  context: Context,
  state: GroupState,
  protocolType: string,
  protocolNames: readonly string[],
): boolean {
  if (state === "Empty") return protocolType !== "" && protocolNames.length > 0;
  return (
    context.protocolType === protocolType &&
    protocolNames.some((name) =>
      context.members.every((member) => member.protocols.some((protocol) => protocol.name === name)),
    )
  );
}

/** A rejoin that changes nothing: the same protocols with the same metadata in the same order. */
export function protocolsMatch(a: readonly JoinProtocol[], b: readonly JoinProtocol[]): boolean {
  return (
    a.length === b.length &&
    a.every((protocol, index) => protocol.name === b[index]?.name && protocol.metadata === b[index]?.metadata)
  );
}

/**
 * Kafka's selectProtocol: the candidates are the protocols every member
 * supports; each member votes for the first candidate in its own order of
 * preference; the most votes win. Kafka breaks a tie by hash order; here the
 * leader's preference breaks it, so the choice is deterministic.
 */
export function selectProtocol(context: Context): string {
  const [first] = context.members;
  assert(first !== undefined, "cannot select a protocol for a group without members");
  const candidates = first.protocols
    .map((protocol) => protocol.name)
    .filter((name) =>
      context.members.every((member) => member.protocols.some((protocol) => protocol.name === name)),
    );
  assert(candidates.length > 0, "the members support no common protocol");
  const votes = new Map<string, number>();
  for (const member of context.members) {
    const vote = member.protocols.find((protocol) => candidates.includes(protocol.name))!.name;
    votes.set(vote, (votes.get(vote) ?? 0) + 1);
  }
  const leader = (context.leaderId !== null && findMember(context, context.leaderId)) || first;
  const byLeaderPreference = leader.protocols
    .map((protocol) => protocol.name)
    .filter((name) => votes.has(name));
  let chosen = byLeaderPreference[0]!;
  for (const name of byLeaderPreference) if (votes.get(name)! > votes.get(chosen)!) chosen = name;
  return chosen;
}

/** The members as the leader's JoinGroup answer lists them: metadata for the group's protocol. */
export function joinAnswerMembers(context: Context): JoinAnswerMember[] {
  return context.members.map((member) => ({
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId,
    metadata: member.protocols.find((protocol) => protocol.name === context.protocolName)?.metadata ?? "",
  }));
}

/** The group as persistGroup writes it, each member with the given assignment (its current one by default). */
export function groupRecord(context: Context, assignments?: readonly MemberAssignment[]): GroupRecord {
  return {
    groupId: context.groupId,
    generationId: context.generationId,
    protocolType: context.protocolType,
    protocolName: context.protocolName,
    leaderId: context.leaderId,
    members: context.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
      subscription:
        member.protocols.find((protocol) => protocol.name === context.protocolName)?.metadata ?? "",
      assignment:
        assignments?.find((entry) => entry.memberId === member.memberId)?.assignment ?? member.assignment,
    })),
  };
}

/**
 * The next time the group has something to do without a request: a member's
 * or a pending member's session, the end of the sync wait, the initial delay,
 * the rebalance timeout. The runtime sends clock.ticked at that time (or
 * later); null when nothing is due.
 */
export function nextDeadlineMs(context: Context): number | null {
  const deadlines: number[] = [
    ...context.pendingMembers.map((pending) => pending.deadlineMs),
    ...context.members.filter((member) => !hasSatisfiedHeartbeat(member)).map((m) => m.sessionDeadlineMs),
  ];
  if (context.syncDeadlineMs !== null) deadlines.push(context.syncDeadlineMs);
  if (context.rebalanceDeadlineMs !== null) deadlines.push(context.rebalanceDeadlineMs);
  if (context.initialRebalance !== null) deadlines.push(context.initialRebalance.deadlineMs);
  return deadlines.length === 0 ? null : Math.min(...deadlines);
}

// ---------------------------------------------------------------------------
// Answers

export function joinErrorAnswer(requestId: number, errorCode: number, memberId: string): JoinAnswer {
  return {
    requestId,
    errorCode,
    memberId,
    generationId: NO_GENERATION,
    protocolType: null,
    protocolName: null,
    leaderId: NO_LEADER,
    skipAssignment: false,
    members: [],
  };
}

export function syncErrorAnswer(requestId: number, errorCode: number): SyncAnswer {
  return { requestId, errorCode, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT };
}

/** The answer to a member joining the current generation; the leader's carries every member. */
export function currentGenerationAnswer(
  context: Context,
  requestId: number,
  memberId: string,
  withMembers: boolean,
): JoinAnswer {
  return {
    requestId,
    errorCode: GroupErrorCode.NONE,
    memberId,
    generationId: context.generationId,
    protocolType: context.protocolType,
    protocolName: context.protocolName,
    leaderId: context.leaderId ?? NO_LEADER,
    skipAssignment: false,
    members: withMembers ? joinAnswerMembers(context) : [],
  };
}
