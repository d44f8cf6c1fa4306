/**
 * Which leader epoch started at which offset: what OffsetForLeaderEpoch
 * answers from, so that a follower can truncate to where its log and the
 * leader's diverge. Persisted as Kafka's `leader-epoch-checkpoint`:
 *
 *   0            version
 *   2            entry count
 *   0 0          epoch start_offset
 *   3 150
 *
 * The rules (assign, end offset, truncation) follow Kafka's LeaderEpochFileCache.
 */
import { assertInvariant } from "./invariant.ts";

export interface EpochEntry {
  epoch: number;
  startOffset: bigint;
}

/** A leader change per entry; the bound only guards against a runaway caller. */
export const epochEntriesMax = 65_536;
const checkpointVersion = 0;
export const undefinedEpoch = -1;
export const undefinedEpochOffset = -1n;

/**
 * Adds to `starts` the batch's epoch when it is above every one there: how
 * recovery collects, from scanned batches, the epoch entries a crash kept out
 * of the checkpoint (see log-recovery.ts). Bounded as the cache is.
 */
export function noteEpochStart(
  starts: EpochEntry[],
  batch: { partitionLeaderEpoch: number; baseOffset: bigint },
): void {
  const epoch = batch.partitionLeaderEpoch;
  const latest = starts[starts.length - 1];
  if (epoch < 0 || starts.length >= epochEntriesMax) return;
  if (latest === undefined || epoch > latest.epoch) starts.push({ epoch, startOffset: batch.baseOffset });
}

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  get latestEpoch(): number | null {
    return this.entries[this.entries.length - 1]?.epoch ?? null;
  }

  /**
   * The latest epoch starting below `endOffset`: the newest epoch the log's
   * records carry. An entry at the log end itself holds no records yet (a
   * leader records its epoch before its first append), and Kafka lets an
   * older epoch's records replace it.
   */
  latestEpochBefore(endOffset: bigint): number | null {
    for (let index = this.entries.length - 1; index >= 0; index--) {
      const entry = this.entries[index]!;
      if (entry.startOffset < endOffset) return entry.epoch;
    }
    return null;
  }

  /**
   * Records that `epoch` starts at `startOffset`, dropping later entries it
   * contradicts (an epoch at or above it, or a start at or after it). Returns
   * whether anything changed, i.e. whether the checkpoint needs rewriting.
   */
  assign(epoch: number, startOffset: bigint): boolean {
    if (!Number.isInteger(epoch) || epoch < 0 || startOffset < 0n) {
      throw new RangeError(`leader epoch ${epoch} at offset ${startOffset} is not a valid epoch start`);
    }
    const latest = this.entries[this.entries.length - 1];
    if (latest !== undefined && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    this.entries = this.entries.filter((entry) => entry.epoch < epoch && entry.startOffset < startOffset);
    assertInvariant(this.entries.length < epochEntriesMax, "epoch-entries-bounded", () => {
      return `${this.entries.length} leader epochs recorded (epochEntriesMax ${epochEntriesMax})`;
    });
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /**
   * The end offset of `epoch` (the start of the next higher epoch, or the log
   * end for the latest) and the largest epoch at or below it that this log
   * knows; (-1, -1) when the epoch is above every known one or unknown.
   */
  endOffsetFor(epoch: number, logEndOffset: bigint): { epoch: number; endOffset: bigint } {
    const undefinedResult = { epoch: undefinedEpoch, endOffset: undefinedEpochOffset };
    if (epoch === undefinedEpoch) return undefinedResult;
    if (this.latestEpoch === epoch) return { epoch, endOffset: logEndOffset };
    const higher = this.entries.find((entry) => entry.epoch > epoch);
    if (higher === undefined) return undefinedResult;
    const floor = this.entries.filter((entry) => entry.epoch <= epoch).pop();
    return { epoch: floor === undefined ? epoch : floor.epoch, endOffset: higher.startOffset };
  }

  /** The log was emptied and restarted elsewhere: no epoch history applies. */
  clear(): boolean {
    const changed = this.entries.length > 0;
    this.entries = [];
    return changed;
  }

  /** The log now ends at `endOffset`: epochs starting at or after it never happened here. */
  truncateFromEnd(endOffset: bigint): boolean {
    const kept = this.entries.filter((entry) => entry.startOffset < endOffset);
    const changed = kept.length !== this.entries.length;
    this.entries = kept;
    return changed;
  }

  /** The log now starts at `startOffset`: the epoch in force there starts there. */
  truncateFromStart(startOffset: bigint): boolean {
    const before = this.entries.filter((entry) => entry.startOffset <= startOffset);
    const inForce = before[before.length - 1];
    if (inForce === undefined) return false;
    const after = this.entries.filter((entry) => entry.startOffset > startOffset);
    const changed = before.length > 1 || inForce.startOffset !== startOffset;
    this.entries = [{ epoch: inForce.epoch, startOffset }, ...after];
    return changed;
  }

  serialize(): string {
    const lines = [String(checkpointVersion), String(this.entries.length)];
    for (const entry of this.entries) lines.push(`${entry.epoch} ${entry.startOffset}`);
    return `${lines.join("\n")}\n`;
  }

  /** Parses a checkpoint, or says why it is unusable. */
  static parse(text: string): LeaderEpochCache | string {
    const lines = text.split("\n").filter((line) => line.length > 0);
    if (lines[0] !== String(checkpointVersion)) {
      return `unknown checkpoint version ${JSON.stringify(lines[0])}`;
    }
    const count = Number(lines[1]);
    if (!Number.isSafeInteger(count) || count < 0 || count > epochEntriesMax || count !== lines.length - 2) {
      return `entry count ${JSON.stringify(lines[1])} does not match ${lines.length - 2} entry lines`;
    }
    const cache = new LeaderEpochCache();
    for (const line of lines.slice(2)) {
      const match = /^(\d+) (\d+)$/.exec(line);
      if (match === null) return `malformed entry ${JSON.stringify(line)}`;
      const entry = { epoch: Number(match[1]), startOffset: BigInt(match[2]!) };
      const previous = cache.entries[cache.entries.length - 1];
      if (
        previous !== undefined &&
        (entry.epoch <= previous.epoch || entry.startOffset < previous.startOffset)
      ) {
        return `entry ${JSON.stringify(line)} goes backwards`;
      }
      cache.entries.push(entry);
    }
    return cache;
  }
}
