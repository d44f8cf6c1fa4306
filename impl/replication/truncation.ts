/**
 * Where a follower truncates its log to once the leader has said where an
 * epoch ends on its side (an OffsetForLeaderEpoch answer, or a fetch answer's
 * diverging epoch): Kafka's AbstractFetcherThread.getOffsetTruncationState.
 *
 * When both logs hold the epoch the leader names, this is exactly
 * machines/log-divergence.ts truncationOffset (the smaller of the two ends;
 * or, when the follower lacks that epoch, the end of its own largest epoch
 * below it, then ask again). It is kept apart for the edges the data path
 * answers as Kafka does and the Raft rule does not: an undefined answer keeps
 * the log (Kafka truncates to the fetch offset, which is the log end); an
 * epoch below every one the follower knows ends, by Kafka's leader-epoch
 * cache, where the follower's first known epoch starts, rather than at zero;
 * a follower with no epochs at all takes the leader's end; offsets are int64.
 */

/** An epoch and the offset one past its last record, on one replica; epoch -1 / offset -1 when undefined. */
export interface EpochEnd {
  epoch: number;
  endOffset: bigint;
}

export interface Truncation {
  /** Truncate to here (a no-op at or past the log end). */
  offset: bigint;
  /**
   * False when the follower does not hold the epoch the leader answered with:
   * it truncated to the end of its own largest epoch below it and must ask
   * again with its new latest epoch.
   */
  complete: boolean;
}

/** What the rule needs of the follower's log: its end and its leader-epoch cache's answer. */
export interface FollowerLog {
  readonly logEndOffset: bigint;
  /** The largest epoch at or below `epoch` and where it ends here; (-1, -1) when undefined (PartitionLog.endOffsetForEpoch). */
  endOffsetForEpoch(epoch: number): EpochEnd;
}

function minimum(...offsets: bigint[]): bigint {
  return offsets.reduce((low, offset) => (offset < low ? offset : low));
}

export function followerTruncation(log: FollowerLog, leader: EpochEnd): Truncation {
  const localEnd = log.logEndOffset;
  // The leader knows no end for the epoch asked: keep the log, the next fetch settles it.
  if (leader.endOffset < 0n) return { offset: localEnd, complete: true };
  // An answer without an epoch (a leader on an old protocol): its offset is all there is to go on.
  if (leader.epoch < 0) return { offset: minimum(leader.endOffset, localEnd), complete: true };
  const local = log.endOffsetForEpoch(leader.epoch);
  // The follower tracks no epochs (an empty cache): the leader's end is safe to truncate to.
  if (local.epoch < 0 || local.endOffset < 0n) {
    return { offset: minimum(leader.endOffset, localEnd), complete: true };
  }
  if (local.epoch !== leader.epoch) return { offset: minimum(local.endOffset, localEnd), complete: false };
  return { offset: minimum(local.endOffset, leader.endOffset, localEnd), complete: true };
}
