/**
 * The ISR machine's data and its rules as pure functions over plain data, so
 * the machine's guards and assigns, the runtime and the spec all decide the
 * same way. Kafka's `Partition.scala` and `Replica.scala` are the reference.
 */

/** The Kafka error codes the ISR machine reads or answers with (numbers are the protocol's). */
export const IsrErrorCode = {
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUEST: 42,
  OPERATION_NOT_ATTEMPTED: 55,
  FENCED_LEADER_EPOCH: 74,
  INVALID_UPDATE_VERSION: 95,
  UNKNOWN_TOPIC_ID: 100,
  INELIGIBLE_REPLICA: 107,
  NEW_LEADER_ELECTED: 108,
} as const;

/** The controller said the change was not applied and our partition epoch is right: back to the committed ISR. */
export const alterPartitionErrorsThatRevert: readonly number[] = [
  IsrErrorCode.OPERATION_NOT_ATTEMPTED,
  IsrErrorCode.INELIGIBLE_REPLICA,
];

/**
 * Our view is stale (or the outcome unknown): resending would be refused again, so
 * the change stays pending until newer metadata (`isr.committed`) or resignation.
 */
export const alterPartitionErrorsThatAwaitMetadata: readonly number[] = [
  IsrErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  IsrErrorCode.INVALID_REQUEST,
  IsrErrorCode.FENCED_LEADER_EPOCH,
  IsrErrorCode.INVALID_UPDATE_VERSION,
  IsrErrorCode.UNKNOWN_TOPIC_ID,
  IsrErrorCode.NEW_LEADER_ELECTED,
];

/** Acks value of a produce that waits for every in-sync replica. */
export const ACKS_ALL = -1;

/** A follower's end offset before its first fetch from this leader. */
export const UNKNOWN_OFFSET = -1;

/** What the leader knows of one follower, learned from its fetches. */
export interface FollowerProgress {
  replicaId: number;
  /** The follower's log end offset: the offset of its last fetch. */
  endOffset: number;
  /** The latest time at which the follower's fetch offset had reached the leader's end offset. */
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** The leader's end offset when that last fetch arrived (Kafka's lastFetchLeaderLogEndOffset). */
  lastFetchLeaderEndOffset: number;
}

/** The one AlterPartition in flight: the ISR it proposes. */
export interface PendingIsrChange {
  kind: "expand" | "shrink";
  isr: number[];
}

/** An appended acks=all produce waiting for the high watermark to pass its last offset. */
export interface WaitingProduce {
  requestId: number;
  lastOffset: number;
}

export interface Context {
  leaderId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  /** Assigned replicas, in assignment order; the leader is one of them. */
  replicas: number[];
  /** The committed ISR, as last applied from the metadata log. */
  isr: number[];
  pendingIsrChange: PendingIsrChange | null;
  leaderEndOffset: number;
  /** First offset of the current leader epoch: the leader's end offset when it was elected. */
  leaderEpochStartOffset: number;
  highWatermark: number;
  /** The topic's min.insync.replicas as last told: at the leader's start or by a config change since. */
  minInsyncReplicas: number;
  /**
   * Followers the applied metadata shows unregistered, fenced or in controlled
   * shutdown, in assignment order: the controller would refuse adding them
   * (INELIGIBLE_REPLICA), so they are not proposed (KIP-841).
   */
  ineligibleReplicas: number[];
  replicaLagMsMax: number;
  /** The latest time any event has told the machine. */
  nowMs: number;
  followers: FollowerProgress[];
  waitingProduces: WaitingProduce[];
  waitingProducesMax: number;
}

export interface Input {
  leaderId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  replicas: number[];
  isr: number[];
  leaderEndOffset: number;
  leaderEpochStartOffset: number;
  highWatermark: number;
  minInsyncReplicas: number;
  /** Replicas the applied metadata shows unregistered, fenced or in controlled shutdown. */
  ineligibleReplicas: number[];
  replicaLagMsMax: number;
  nowMs: number;
  waitingProducesMax: number;
}

export type FollowerStatus = "inSync" | "lagging" | "outOfSync" | "catchingUp";

export function initialContext(input: Input): Context {
  const followers = input.replicas
    .filter((replicaId) => replicaId !== input.leaderId)
    .map((replicaId): FollowerProgress => {
      const inIsr = input.isr.includes(replicaId);
      return {
        replicaId,
        // An ISR member holds every record below the high watermark, so that is a safe
        // lower bound until it fetches; anyone else is unknown.
        endOffset: inIsr ? input.highWatermark : UNKNOWN_OFFSET,
        // As Kafka on election: ISR members get a full lag period to fetch before they count as out of sync.
        lastCaughtUpMs: inIsr ? input.nowMs : 0,
        lastFetchMs: 0,
        lastFetchLeaderEndOffset: UNKNOWN_OFFSET,
      };
    });
  return {
    leaderId: input.leaderId,
    leaderEpoch: input.leaderEpoch,
    partitionEpoch: input.partitionEpoch,
    replicas: [...input.replicas],
    isr: [...input.isr],
    pendingIsrChange: null,
    leaderEndOffset: input.leaderEndOffset,
    leaderEpochStartOffset: input.leaderEpochStartOffset,
    highWatermark: input.highWatermark,
    minInsyncReplicas: input.minInsyncReplicas,
    ineligibleReplicas: ineligibleFollowers(input, input.ineligibleReplicas),
    replicaLagMsMax: input.replicaLagMsMax,
    nowMs: input.nowMs,
    followers,
    waitingProduces: [],
    waitingProducesMax: input.waitingProducesMax,
  };
}

/** Members in assignment order, so equal ISRs are equal arrays. */
export function inReplicaOrder(replicas: readonly number[], members: readonly number[]): number[] {
  return replicas.filter((replicaId) => members.includes(replicaId));
}

export function findFollower(context: Context, replicaId: number): FollowerProgress | undefined {
  return context.followers.find((follower) => follower.replicaId === replicaId);
}

/**
 * The ISR the high watermark must wait for: the committed ISR plus a pending
 * expansion. A pending shrink is not applied, since it may still be refused
 * and the high watermark must not have moved past the removed member.
 */
export function maximalIsr(context: Context): number[] {
  return context.pendingIsrChange?.kind === "expand" ? context.pendingIsrChange.isr : context.isr;
}

export function endOffsetOf(context: Context, replicaId: number): number {
  if (replicaId === context.leaderId) return context.leaderEndOffset;
  return findFollower(context, replicaId)?.endOffset ?? UNKNOWN_OFFSET;
}

/** The committed ISR is at least min.insync.replicas: acks=all may be appended. */
export function isrAtLeastMinInsync(context: Context): boolean {
  return context.isr.length >= context.minInsyncReplicas;
}

/**
 * min.insync.replicas capped at the replication factor, as Kafka's effectiveMinIsr:
 * the high-watermark gate uses it so that a topic with fewer replicas than
 * min.insync.replicas still makes its acks=1 records visible.
 */
export function effectiveMinInsyncReplicas(context: Context): number {
  return Math.min(context.minInsyncReplicas, context.replicas.length);
}

/** The minimum end offset over the maximal ISR, the leader's own end offset included. */
export function highWatermarkCandidate(context: Context): number {
  return Math.min(...maximalIsr(context).map((replicaId) => endOffsetOf(context, replicaId)));
}

/** The high watermark after a change: the candidate if it is higher and the committed ISR is large enough. */
export function nextHighWatermark(context: Context): number {
  if (context.isr.length < effectiveMinInsyncReplicas(context)) return context.highWatermark;
  return Math.max(context.highWatermark, highWatermarkCandidate(context));
}

/**
 * Kafka's rule for lastCaughtUpMs: a fetch at the leader's current end offset is
 * caught up now; a fetch at the end offset the leader had at the previous fetch
 * was caught up then. The second case keeps a follower of a busy leader, always
 * one batch behind, in the ISR.
 */
export function progressAfterFetch(
  follower: FollowerProgress,
  fetchOffset: number,
  nowMs: number,
  leaderEndOffset: number,
): FollowerProgress {
  let lastCaughtUpMs = follower.lastCaughtUpMs;
  if (fetchOffset >= leaderEndOffset) lastCaughtUpMs = Math.max(lastCaughtUpMs, nowMs);
  else if (fetchOffset >= follower.lastFetchLeaderEndOffset)
    lastCaughtUpMs = Math.max(lastCaughtUpMs, follower.lastFetchMs);
  return {
    replicaId: follower.replicaId,
    endOffset: fetchOffset,
    lastCaughtUpMs,
    lastFetchMs: nowMs,
    lastFetchLeaderEndOffset: Math.max(leaderEndOffset, follower.lastFetchLeaderEndOffset),
  };
}

/** Out of sync: behind the leader's end offset and not caught up for longer than replica.lag.time.max.ms. */
export function isOutOfSync(context: Context, follower: FollowerProgress, nowMs: number): boolean {
  return (
    follower.endOffset < context.leaderEndOffset && nowMs - follower.lastCaughtUpMs > context.replicaLagMsMax
  );
}

/** Committed ISR followers that are out of sync at nowMs, in assignment order. */
export function outOfSyncIsrFollowers(context: Context, nowMs: number): number[] {
  return context.followers
    .filter((follower) => context.isr.includes(follower.replicaId) && isOutOfSync(context, follower, nowMs))
    .map((follower) => follower.replicaId);
}

/**
 * A follower outside the ISR may join once its end offset reaches the high
 * watermark (so the high watermark stays below every member) and the start of
 * the leader's epoch (so it holds no records from an older epoch that the
 * leader has since replaced).
 */
export function isEligibleForIsr(context: Context, endOffset: number): boolean {
  return endOffset >= context.highWatermark && endOffset >= context.leaderEpochStartOffset;
}

/**
 * The followers among `replicaIds`, in assignment order: the leader's own
 * eligibility is the controller's concern (it moves the leadership first).
 */
export function ineligibleFollowers(
  partition: { leaderId: number; replicas: readonly number[] },
  replicaIds: readonly number[],
): number[] {
  return inReplicaOrder(partition.replicas, replicaIds).filter(
    (replicaId) => replicaId !== partition.leaderId,
  );
}

/**
 * Kafka's isReplicaIsrEligible: the follower's broker is registered, not
 * fenced and not in controlled shutdown, as the leader's applied metadata
 * shows it. Proposing one that is not would only be refused.
 */
export function isBrokerIsrEligible(context: Context, replicaId: number): boolean {
  return !context.ineligibleReplicas.includes(replicaId);
}

/**
 * How the leader sees one replica: in the committed ISR it is in sync (at the
 * leader's end offset), lagging (behind, but within replica.lag.time.max.ms)
 * or out of sync (to be removed); outside it, catching up. The leader is in sync with itself.
 */
export function followerStatus(context: Context, replicaId: number): FollowerStatus {
  if (replicaId === context.leaderId) return "inSync";
  const follower = findFollower(context, replicaId);
  if (follower === undefined) throw new RangeError(`replica ${replicaId} is not assigned this partition`);
  if (!context.isr.includes(replicaId)) return "catchingUp";
  if (follower.endOffset >= context.leaderEndOffset) return "inSync";
  return isOutOfSync(context, follower, context.nowMs) ? "outOfSync" : "lagging";
}

/** The AlterPartition request for the pending change, fenced by our leader and partition epochs. */
export function alterPartitionRequest(context: Context): {
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
} {
  if (context.pendingIsrChange === null) throw new Error("no ISR change is pending");
  return {
    leaderEpoch: context.leaderEpoch,
    partitionEpoch: context.partitionEpoch,
    newIsr: context.pendingIsrChange.isr,
  };
}
