/**
 * The Raft quorum machine's data and its rules as pure functions over plain
 * data, so the machine's guards and assigns, the runtime and the spec decide
 * the same way. KRaft (KIP-595, KIP-853, KIP-996) is the reference.
 */

/** Where a log ends: the epoch of its last record and the offset the next record gets. */
export interface LogPosition {
  lastEpoch: number;
  endOffset: number;
}

/** What a leader knows of one replica (voter or observer), learned from its fetches. */
export interface ReplicaProgress {
  id: number;
  /** The replica's fetch offset: it holds every record below it. */
  endOffset: number;
  /** When its last fetch arrived; at election, the election time, so check-quorum gives every voter a full window. */
  lastFetchMs: number;
}

/** The one uncommitted voters record this leader appended (KIP-853 allows one at a time). */
export interface PendingVoterChange {
  kind: "add" | "remove";
  nodeId: number;
  /** The voters record's offset: the change is complete once the high watermark passes it. */
  offset: number;
}

export interface QuorumConfig {
  /** A follower that fetched from its leader within this window refuses pre-votes (KIP-996). */
  fetchTimeoutMs: number;
  /** A leader that has not heard from a majority of voters within this window resigns. */
  checkQuorumTimeoutMs: number;
}

export interface Context {
  nodeId: number;
  /** The latest voter set in this node's log, sorted; a node outside it is an observer. */
  voters: number[];
  epoch: number;
  /** The candidate this node voted for in `epoch` (itself when it stood); never a pre-vote. */
  votedFor: number | null;
  /** Set only while leader (itself) or follower (the leader it fetches from). */
  leaderId: number | null;
  log: LogPosition;
  /** Every record below this offset is committed. Never decreases, never passes log.endOffset. */
  highWatermark: number;
  /** Leader only: the offset of its leader-change record, its first record of the epoch. */
  epochStartOffset: number | null;
  /** Prospective or candidate: the voters that granted this round, itself included. */
  grants: number[];
  /** Leader only: one entry per replica that fetched, plus every voter from election on, sorted by id. */
  replicaProgress: ReplicaProgress[];
  /** Follower only: when it last fetched from its leader successfully; null before the first fetch. */
  lastLeaderContactMs: number | null;
  nowMs: number;
  pendingVoterChange: PendingVoterChange | null;
  config: QuorumConfig;
}

export interface Input {
  nodeId: number;
  voters: number[];
  config: QuorumConfig;
  /** The quorum-state file as last persisted; absent on first start. */
  persisted?: { epoch: number; votedFor: number | null };
  log?: LogPosition;
  highWatermark?: number;
  nowMs?: number;
}

/**
 * The Kafka error names AddRaftVoter and RemoveRaftVoter answer with, and their
 * protocol codes.
 */
export const membershipErrorCodes = {
  NONE: 0,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  DUPLICATE_VOTER: 126,
  VOTER_NOT_FOUND: 127,
} as const;

export type MembershipError = keyof typeof membershipErrorCodes;

export function sortedIds(ids: Iterable<number>): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/**
 * The initial context. A restarted node starts in its persisted epoch with its
 * persisted vote, which is what keeps "one vote per epoch" across restarts; a
 * log written in a later epoch than the file says wins, with no vote (as Kafka's
 * QuorumState.initialize).
 */
export function initialContext(input: Input): Context {
  const log = input.log ?? { lastEpoch: 0, endOffset: 0 };
  const persisted = input.persisted ?? { epoch: 0, votedFor: null };
  const logIsAhead = log.lastEpoch > persisted.epoch;
  return {
    nodeId: input.nodeId,
    voters: sortedIds(input.voters),
    epoch: logIsAhead ? log.lastEpoch : persisted.epoch,
    votedFor: logIsAhead ? null : persisted.votedFor,
    leaderId: null,
    log,
    highWatermark: Math.min(input.highWatermark ?? 0, log.endOffset),
    epochStartOffset: null,
    grants: [],
    replicaProgress: [],
    lastLeaderContactMs: null,
    nowMs: input.nowMs ?? 0,
    pendingVoterChange: null,
    config: input.config,
  };
}

/** Raft's election restriction: the candidate's log ends in a later epoch, or in the same epoch no earlier. */
export function isLogUpToDate(candidate: LogPosition, local: LogPosition): boolean {
  if (candidate.lastEpoch !== local.lastEpoch) return candidate.lastEpoch > local.lastEpoch;
  return candidate.endOffset >= local.endOffset;
}

/** How many voters make a majority of a set of `voterCount`. */
export function majorityOf(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/** Whether the voters among `ids` are a majority of `voters`; ids outside the set never count. */
export function hasMajority(ids: readonly number[], voters: readonly number[]): boolean {
  const counted = new Set(ids.filter((id) => voters.includes(id)));
  return counted.size >= majorityOf(voters.length);
}

/**
 * The largest offset a majority of voters has reached: the leader counts its
 * own log end if it is a voter, a voter that has not fetched counts as 0.
 */
export function quorumHighWatermark(
  voters: readonly number[],
  leaderId: number,
  leaderEndOffset: number,
  progress: readonly ReplicaProgress[],
): number {
  if (voters.length === 0) return 0;
  const offsets = voters
    .map((id) =>
      id === leaderId ? leaderEndOffset : (progress.find((replica) => replica.id === id)?.endOffset ?? 0),
    )
    .sort((a, b) => b - a);
  return offsets[majorityOf(voters.length) - 1] ?? 0;
}

/**
 * Raft's commit rule: the high watermark moves only once a majority holds a
 * record of the leader's own epoch (the leader-change record at
 * epochStartOffset), and it never moves back (a smaller quorum offset after a
 * voter change leaves it where it is).
 */
export function nextHighWatermark(current: number, quorumOffset: number, epochStartOffset: number): number {
  if (quorumOffset <= epochStartOffset) return current;
  return Math.max(current, quorumOffset);
}

/** The leader's high watermark given its context, after any change to its log, voters or progress. */
export function leaderHighWatermark(context: Context): number {
  if (context.epochStartOffset === null) return context.highWatermark;
  const quorumOffset = quorumHighWatermark(
    context.voters,
    context.nodeId,
    context.log.endOffset,
    context.replicaProgress,
  );
  return nextHighWatermark(context.highWatermark, quorumOffset, context.epochStartOffset);
}

/** Replaces (or adds) one replica's progress, keeping the list sorted by id. */
export function withProgress(
  progress: readonly ReplicaProgress[],
  entry: ReplicaProgress,
): ReplicaProgress[] {
  return [...progress.filter((replica) => replica.id !== entry.id), entry].sort((a, b) => a.id - b.id);
}

/**
 * Check quorum: whether a majority of voters (the leader itself if it is one)
 * fetched within the timeout at `nowMs`, counted over the latest voter set,
 * committed or not (KIP-853). A set of one voter never loses contact, as in
 * Kafka's LeaderState.timeUntilCheckQuorumExpires: either the leader is that
 * voter, or it appended its own removal and that voter alone can commit it.
 * A leader resigning then would leave the voter, which may not hold the record
 * and so still needs the leader's vote, with no one to elect; staying lets the
 * removal commit when the voter fetches, and the leader resigns after that.
 */
export function hasQuorumContact(context: Context, nowMs: number): boolean {
  if (context.voters.length === 1) return true;
  const heard = context.voters.filter(
    (id) =>
      id === context.nodeId ||
      context.replicaProgress.some(
        (replica) => replica.id === id && nowMs - replica.lastFetchMs < context.config.checkQuorumTimeoutMs,
      ),
  );
  return hasMajority(heard, context.voters);
}

/** A follower that fetched from its leader within the fetch timeout still trusts it (KIP-996). */
export function heardFromLeaderWithin(context: Context): boolean {
  return (
    context.lastLeaderContactMs !== null &&
    context.nowMs - context.lastLeaderContactMs < context.config.fetchTimeoutMs
  );
}

/** The leader has fenced earlier leaders: a record of its own epoch is committed. */
export function committedInOwnEpoch(context: Context): boolean {
  return context.epochStartOffset !== null && context.highWatermark > context.epochStartOffset;
}

/** KIP-853 only adds a replica that already fetched up to the leader's log end within the fetch timeout. */
export function isCaughtUp(context: Context, nodeId: number): boolean {
  const replica = context.replicaProgress.find((entry) => entry.id === nodeId);
  return (
    replica !== undefined &&
    replica.endOffset >= context.log.endOffset &&
    context.nowMs - replica.lastFetchMs < context.config.fetchTimeoutMs
  );
}

/**
 * Why a leader refuses a membership request, checked in the order Kafka's
 * AddVoterHandler and RemoveVoterHandler check; NONE when it would accept.
 */
export function membershipRefusal(context: Context, kind: "add" | "remove", nodeId: number): MembershipError {
  if (!committedInOwnEpoch(context)) return "REQUEST_TIMED_OUT";
  if (context.pendingVoterChange !== null) return "REQUEST_TIMED_OUT";
  const isVoter = context.voters.includes(nodeId);
  if (kind === "add") {
    if (isVoter) return "DUPLICATE_VOTER";
    if (!isCaughtUp(context, nodeId)) return "REQUEST_TIMED_OUT";
    return "NONE";
  }
  // Kafka answers VOTER_NOT_FOUND too when the removal would leave no voter.
  if (!isVoter || context.voters.length === 1) return "VOTER_NOT_FOUND";
  return "NONE";
}

/** The voters other than this node: whom it sends Vote, BeginQuorumEpoch and EndQuorumEpoch to. */
export function otherVoters(context: Context): number[] {
  return context.voters.filter((id) => id !== context.nodeId);
}
