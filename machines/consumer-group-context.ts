/**
 * The consumer group's data: the error codes and constants it answers with, its
 * members, context, requests, answers and effects, and the context it starts from.
 * Part of the rules that consumer-group-rules.ts gathers.
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

export function assert(condition: unknown, message: string): asserts condition {
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
