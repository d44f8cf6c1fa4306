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

/** The Kafka error codes the group machine answers with or reads (numbers are the protocol's). */
export const GroupErrorCode = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  KAFKA_STORAGE_ERROR: 56,
  NON_EMPTY_GROUP: 68,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
} as const;

/** The member id of a request from a client that has none yet (Kafka's JoinGroupRequest.UNKNOWN_MEMBER_ID). */
export const NO_MEMBER_ID = "";
/** The generation of a group that never completed a rebalance, and of an error answer. */
export const NO_GENERATION = -1;
/** The leader named in an error answer. */
export const NO_LEADER = "";
/** The assignment of a member the leader gave nothing to, or whose assignment was reset. */
export const EMPTY_ASSIGNMENT = "";

/** JoinGroup v4 and later: a dynamic member without an id is given one and must join again with it (KIP-394). */
export function requiresKnownMemberId(apiVersion: number): boolean {
  return apiVersion >= 4;
}

/** JoinGroup v9 and later: a static leader rejoining a stable group may skip the assignment (KIP-814). */
export function supportsSkippingAssignment(apiVersion: number): boolean {
  return apiVersion >= 9;
}

/**
 * Kafka's appendGroupMetadataErrorToResponseError: the error a failed write of
 * the group to __consumer_offsets is answered with.
 */
export function appendErrorToResponseError(errorCode: number): number {
  switch (errorCode) {
    case GroupErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case GroupErrorCode.NOT_ENOUGH_REPLICAS:
    case GroupErrorCode.REQUEST_TIMED_OUT:
      return GroupErrorCode.COORDINATOR_NOT_AVAILABLE;
    case GroupErrorCode.NOT_LEADER_OR_FOLLOWER:
    case GroupErrorCode.KAFKA_STORAGE_ERROR:
      return GroupErrorCode.NOT_COORDINATOR;
    case GroupErrorCode.MESSAGE_TOO_LARGE:
    case GroupErrorCode.RECORD_LIST_TOO_LARGE:
    case GroupErrorCode.INVALID_FETCH_SIZE:
      return GroupErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return errorCode;
  }
}

/** One protocol a member supports (an assignor, for consumers), with its metadata as the runtime encodes bytes. */
export interface JoinProtocol {
  name: string;
  metadata: string;
}

export interface Member {
  memberId: string;
  /** Set for a static member (KIP-345); at most one member per instance id. */
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** In the member's order of preference. */
  protocols: JoinProtocol[];
  /** What the leader assigned it for the current generation, as the runtime encodes bytes. */
  assignment: string;
  /**
   * When the member is removed unless a heartbeat (or an accepted commit or
   * sync) moves it. A member waiting for a join or sync answer is not removed
   * at it (Kafka's hasSatisfiedHeartbeat), unless the member is new; its session
   * restarts when its answer is sent.
   */
  sessionDeadlineMs: number;
  /** Added since the last completed join phase: its deadline is the new-member join timeout, even while it waits. */
  isNew: boolean;
  /** The JoinGroup waiting for the join phase to complete, at most one per member. */
  joinRequestId: number | null;
  /** The SyncGroup waiting for the leader's assignment to be stored, at most one per member. */
  syncRequestId: number | null;
}

/** A dynamic member that was given an id (MEMBER_ID_REQUIRED) and has not joined with it yet. */
export interface PendingMember {
  memberId: string;
  /** It is forgotten when its session timeout passes before it joins again. */
  deadlineMs: number;
}

/** Kafka's InitialDelayedJoin: the first rebalance of an empty group waits for more members. */
export interface InitialRebalance {
  deadlineMs: number;
  delayMs: number;
  /** What is left of the group's rebalance timeout for further extensions. */
  remainingMs: number;
  /** A new member joined during the current delay, so the delay is extended once more. */
  newMemberAdded: boolean;
}

export interface MemberAssignment {
  memberId: string;
  assignment: string;
}

/** The leader's assignment, being written to __consumer_offsets before any member sees it. */
export interface PersistingAssignment {
  generationId: number;
  assignments: MemberAssignment[];
}

/**
 * A static member that rejoined a stable group with a new member id without
 * changing the protocol: the new id is written before the member is answered,
 * and reverted when the write fails.
 */
export interface PersistingStaticJoin {
  generationId: number;
  requestId: number;
  groupInstanceId: string;
  memberId: string;
  previousMemberId: string;
  previousProtocols: JoinProtocol[];
  previousRebalanceTimeoutMs: number;
  previousSessionTimeoutMs: number;
  /** The leader before the replacement: an old client is told this one, so it does not assign. */
  previousLeaderId: string | null;
  skipAssignmentSupported: boolean;
}

/** The group as written to __consumer_offsets (GroupMetadataValue), and as read back after a failover. */
export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** The member's metadata for the group's protocol. */
  subscription: string;
  assignment: string;
}

export interface StoredGroup {
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  members: StoredMember[];
}

export interface Limits {
  /** group.min.session.timeout.ms and group.max.session.timeout.ms: a join outside them is refused. */
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** group.max.size. */
  groupMaxSize: number;
  /** group.initial.rebalance.delay.ms. */
  groupInitialRebalanceDelayMs: number;
  /** How long a new member may wait in a join phase without completing it (Kafka: 5 minutes). */
  groupNewMemberJoinTimeoutMs: number;
  /**
   * Members given an id that have not joined with it yet. Kafka keeps them
   * only until their session timeout; this also caps their number, so a flood
   * of first joins cannot grow the group's memory.
   */
  pendingMembersMax: number;
}

/*
 * Bounds of the lists in the context, so a group's memory never grows with its traffic:
 * - members: a new member is admitted into a stable or completing group only while it has
 *   fewer than groupMaxSize members, and into a preparing one only while fewer than
 *   groupMaxSize members wait to join (Kafka's acceptJoiningMember) and, Chronik's cap, fewer
 *   than 2 * groupMaxSize are members (those are the waiting ones plus members of the last
 *   generation not back yet, which the join phase drops). So members never exceed
 *   2 * groupMaxSize, or the size of a group restored above the limit, which rebalances at once.
 * - pendingMembers: at most pendingMembersMax; a first join beyond it is refused.
 * - waiting requests: a member holds at most one waiting join and one waiting sync; a second
 *   one replaces the first, which is answered REBALANCE_IN_PROGRESS.
 * - pendingSyncMemberIds, persistingAssignment.assignments: subsets of the members.
 */
export interface Context extends Limits {
  groupId: string;
  generationId: number;
  /** "consumer" for consumers; set by the first member and kept while the group is empty. */
  protocolType: string | null;
  /** The protocol (assignor) the group chose for the current generation; null while empty. */
  protocolName: string | null;
  leaderId: string | null;
  /** In the order they joined; the leader, when it must be replaced, is the first that qualifies. */
  members: Member[];
  pendingMembers: PendingMember[];
  /** Members of the current generation that have not sent SyncGroup yet (Kafka's pendingSyncMembers). */
  pendingSyncMemberIds: string[];
  /** When the members still in pendingSyncMemberIds are removed; set while any is. */
  syncDeadlineMs: number | null;
  /** When a join phase that is not the group's initial one completes anyway; set only while preparing. */
  rebalanceDeadlineMs: number | null;
  /** Set only while preparing the initial rebalance of an empty group. */
  initialRebalance: InitialRebalance | null;
  persistingAssignment: PersistingAssignment | null;
  persistingStaticJoin: PersistingStaticJoin | null;
  /** The latest time any event has told the machine. */
  nowMs: number;
}

export interface Input extends Limits {
  groupId: string;
  nowMs: number;
  /** The group as last written to __consumer_offsets, when this coordinator takes it over. */
  storedGroup: StoredGroup | null;
}

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable";

export interface JoinRequest {
  requestId: number;
  /** NO_MEMBER_ID for a client that joins for the first time (or a static member starting again). */
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: JoinProtocol[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  apiVersion: number;
  /** The id this join gets if it needs one; the runtime makes it unique (clientId or instance id, "-", a UUID). */
  newMemberId: string;
  clientId: string;
  clientHost: string;
  nowMs: number;
}

export interface SyncRequest {
  requestId: number;
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  /** Sent from SyncGroup v5 on; null before. */
  protocolType: string | null;
  protocolName: string | null;
  /** Only the leader's carries any. */
  assignments: MemberAssignment[];
  nowMs: number;
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface JoinAnswerMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: string;
}

export interface JoinAnswer {
  requestId: number;
  errorCode: number;
  memberId: string;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  skipAssignment: boolean;
  /** Every member's metadata, for the leader only. */
  members: JoinAnswerMember[];
}

export interface SyncAnswer {
  requestId: number;
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: string;
}

export interface LeaveAnswer {
  requestId: number;
  errorCode: number;
  members: Array<MemberIdentity & { errorCode: number }>;
}

/** A group record for persistGroup: the stored group under its id. */
export interface GroupRecord extends StoredGroup {
  groupId: string;
}

/** The effects a step produces, in the order the runtime must perform them. */
export type Effect =
  | { type: "answerJoin"; params: JoinAnswer }
  | { type: "answerSync"; params: SyncAnswer }
  | { type: "answerHeartbeat"; params: { requestId: number; errorCode: number } }
  | { type: "answerLeave"; params: LeaveAnswer }
  | { type: "acceptOffsetCommit"; params: { requestId: number } }
  | { type: "refuseOffsetCommit"; params: { requestId: number; errorCode: number } }
  | { type: "persistGroup"; params: GroupRecord }
  | { type: "writeGroupTombstone"; params: { groupId: string } }
  | { type: "answerDelete"; params: { requestId: number; errorCode: number } };

export type StateName = GroupState | "Dead";

/** Where a step leaves the group: its state, its context and what the runtime must do. */
export interface Reaction {
  state: StateName;
  context: Context;
  effects: Effect[];
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`consumer-group: ${message}`);
}

export function initialContext(input: Input): Context {
  assert(
    input.groupMinSessionTimeoutMs <= input.groupMaxSessionTimeoutMs,
    "the minimum session timeout exceeds the maximum",
  );
  assert(input.groupMaxSize >= 1, "groupMaxSize must be at least 1");
  assert(input.pendingMembersMax >= 0, "pendingMembersMax must not be negative");
  const stored = input.storedGroup;
  const members = (stored?.members ?? []).map((member): Member => {
    assert(stored?.protocolName != null, "a stored group with members has a protocol");
    return {
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      // Old records carry no rebalance timeout (-1): Kafka uses the session timeout.
      rebalanceTimeoutMs:
        member.rebalanceTimeoutMs === -1 ? member.sessionTimeoutMs : member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
      protocols: [{ name: stored.protocolName, metadata: member.subscription }],
      assignment: member.assignment,
      // As Kafka on loading: every member gets a full session from now.
      sessionDeadlineMs: input.nowMs + member.sessionTimeoutMs,
      isNew: false,
      joinRequestId: null,
      syncRequestId: null,
    };
  });
  const leaderId = members.some((member) => member.memberId === stored?.leaderId)
    ? (stored?.leaderId ?? null)
    : (members[0]?.memberId ?? null);
  return {
    groupId: input.groupId,
    generationId: stored?.generationId ?? 0,
    protocolType: stored?.protocolType || null,
    protocolName: members.length > 0 ? (stored?.protocolName ?? null) : null,
    leaderId,
    members,
    pendingMembers: [],
    pendingSyncMemberIds: [],
    syncDeadlineMs: null,
    rebalanceDeadlineMs: null,
    initialRebalance: null,
    persistingAssignment: null,
    persistingStaticJoin: null,
    nowMs: input.nowMs,
    groupMinSessionTimeoutMs: input.groupMinSessionTimeoutMs,
    groupMaxSessionTimeoutMs: input.groupMaxSessionTimeoutMs,
    groupMaxSize: input.groupMaxSize,
    groupInitialRebalanceDelayMs: input.groupInitialRebalanceDelayMs,
    groupNewMemberJoinTimeoutMs: input.groupNewMemberJoinTimeoutMs,
    pendingMembersMax: input.pendingMembersMax,
  };
}

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
function currentGenerationAnswer(
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

// ---------------------------------------------------------------------------
// Steps on a draft

/** A draft of the group to apply steps to; the context is copied, so the caller's is untouched. */
export function draft(state: GroupState, context: Context, nowMs = context.nowMs): Reaction {
  const copy = structuredClone(context);
  copy.nowMs = Math.max(copy.nowMs, nowMs);
  return { state, context: copy, effects: [] };
}

function memberOf(reaction: Reaction, memberId: string): Member {
  const member = findMember(reaction.context, memberId);
  assert(member !== undefined, `no member ${memberId}`);
  return member;
}

function restartSession(reaction: Reaction, member: Member): void {
  member.sessionDeadlineMs = reaction.context.nowMs + member.sessionTimeoutMs;
}

function forgetPendingSync(reaction: Reaction, memberId: string): void {
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

function removePendingMember(reaction: Reaction, memberId: string): void {
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

function awaitSync(reaction: Reaction, member: Member, requestId: number): void {
  if (member.syncRequestId !== null && member.syncRequestId !== requestId) {
    reaction.effects.push({
      type: "answerSync",
      params: syncErrorAnswer(member.syncRequestId, GroupErrorCode.REBALANCE_IN_PROGRESS),
    });
  }
  member.syncRequestId = requestId;
}

/** Kafka's updateMember: new protocols and timeouts, and the member waits in this join. */
function updateMember(reaction: Reaction, memberId: string, join: JoinRequest): void {
  const member = memberOf(reaction, memberId);
  member.protocols = join.protocols.map((protocol) => ({ ...protocol }));
  member.rebalanceTimeoutMs = join.rebalanceTimeoutMs;
  member.sessionTimeoutMs = join.sessionTimeoutMs;
  awaitJoin(reaction, member, join.requestId);
}

/** Kafka's add: a new member, waiting in this join, with the new-member join timeout as its deadline. */
function addMember(reaction: Reaction, memberId: string, join: JoinRequest): void {
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
