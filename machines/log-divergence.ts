/**
 * How two replicas of one log find where they diverge, as pure functions: the
 * end offset of an epoch (Kafka's OffsetForLeaderEpoch / leader-epoch cache),
 * the leader's check of a fetch's position (KRaft's validateOffsetAndEpoch,
 * answered with a diverging epoch), and where the follower truncates to. The
 * metadata log and every data partition use the same rules, so the runtime and
 * the spec's models both call these.
 *
 * A log is described by where each epoch starts and where the log ends.
 */

/** One leader epoch and the offset of its first record. */
export interface EpochStart {
  epoch: number;
  startOffset: number;
}

/** An epoch and the offset one past its last record (the next epoch's start, or the log end). */
export interface EpochEnd {
  epoch: number;
  endOffset: number;
}

/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET: the log holds no epoch at or below the one asked. */
export const undefinedEpochEnd: EpochEnd = { epoch: -1, endOffset: -1 };

/** Where each epoch starts in a log given as the epoch of every record from `baseOffset` on. */
export function epochStartsOf(recordEpochs: readonly number[], baseOffset = 0): EpochStart[] {
  const starts: EpochStart[] = [];
  recordEpochs.forEach((epoch, i) => {
    if (starts[starts.length - 1]?.epoch !== epoch) starts.push({ epoch, startOffset: baseOffset + i });
  });
  return starts;
}

/**
 * The largest epoch at or below `epoch` and where it ends: the log end for the
 * latest epoch, otherwise the start of the next epoch. Undefined when the log
 * is empty or every epoch in it is above `epoch`.
 */
export function endOffsetForEpoch(
  starts: readonly EpochStart[],
  logEndOffset: number,
  epoch: number,
): EpochEnd {
  let found = -1;
  for (let i = 0; i < starts.length; i++) if (starts[i]!.epoch <= epoch) found = i;
  if (found === -1) return undefinedEpochEnd;
  const next = starts[found + 1];
  return { epoch: starts[found]!.epoch, endOffset: next === undefined ? logEndOffset : next.startOffset };
}

/**
 * The leader's check of a follower's fetch position: null when the follower's
 * log up to `fetchOffset`, ending in `lastFetchedEpoch`, matches the leader's;
 * otherwise the diverging epoch and end offset to answer with, from which the
 * follower truncates. An empty follower log (offset 0) always matches.
 */
export function fetchDivergence(
  leaderStarts: readonly EpochStart[],
  leaderEndOffset: number,
  fetchOffset: number,
  lastFetchedEpoch: number,
): EpochEnd | null {
  if (fetchOffset === 0) return null;
  const leaderEnd = endOffsetForEpoch(leaderStarts, leaderEndOffset, lastFetchedEpoch);
  if (leaderEnd.epoch === lastFetchedEpoch && leaderEnd.endOffset >= fetchOffset) return null;
  return leaderEnd.epoch === -1 ? { epoch: -1, endOffset: 0 } : leaderEnd;
}

/**
 * Where a follower truncates its log to, told the leader's end of `diverging.epoch`:
 * if it holds that epoch too, the smaller of the two ends; otherwise the end of
 * its own largest epoch below it, which the leader's log cannot contradict.
 */
export function truncationOffset(
  localStarts: readonly EpochStart[],
  localEndOffset: number,
  diverging: EpochEnd,
): number {
  if (diverging.epoch < 0) return 0;
  const local = endOffsetForEpoch(localStarts, localEndOffset, diverging.epoch);
  if (local.epoch === -1) return 0;
  if (local.epoch === diverging.epoch) return Math.min(local.endOffset, diverging.endOffset);
  return Math.min(local.endOffset, localEndOffset);
}
