/**
 * The sparse offset index and time index of one segment, held in memory and
 * written to `.index` / `.timeindex` when the segment is sealed or the log
 * closes.
 *
 * OffsetIndexEntry => relative_offset INT32, position INT32   (8 bytes, big-endian)
 * TimeIndexEntry   => timestamp INT64, relative_offset INT32   (12 bytes, big-endian)
 *
 * An offset entry is added at the start of a batch once `intervalBytes` have
 * been appended since the previous one (the first batch needs none: a lookup
 * that finds no entry starts at position 0), so a lookup walks at most about
 * `intervalBytes` of batch headers. A time entry is added beside an offset
 * entry when the segment's largest timestamp grew: it says "no batch up to
 * here has a larger timestamp, and this batch carries it", which lets a
 * timestamp lookup skip every batch before the carrier.
 */
import { assertInvariant } from "./invariant.ts";

export const offsetIndexEntryBytes = 8;
export const timeIndexEntryBytes = 12;
const relativeOffsetMax = 0x7fffffff;

function grow<T extends Int32Array | BigInt64Array>(
  array: T,
  needed: number,
  make: (length: number) => T,
): T {
  if (needed <= array.length) return array;
  const larger = make(Math.max(needed, array.length * 2));
  larger.set(array as never);
  return larger;
}

export class SegmentIndex {
  private relativeOffsets = new Int32Array(8);
  private positions = new Int32Array(8);
  private entryCount = 0;
  private timestamps = new BigInt64Array(8);
  private timeRelativeOffsets = new Int32Array(8);
  private timeEntryCount = 0;
  private bytesSinceLastEntry = 0;
  /** Largest batch max timestamp so far; -1 with no batch (Kafka's "no timestamp"). */
  maxTimestamp = -1n;
  /** Base offset of the first batch that carried `maxTimestamp`; -1 with no batch. */
  offsetOfMaxTimestamp = -1n;

  constructor(
    readonly baseOffset: bigint,
    readonly intervalBytes: number,
  ) {}

  /** Whether an offset still fits a relative int32 entry of this segment (a roll condition). */
  canHold(offset: bigint): boolean {
    const relative = offset - this.baseOffset;
    return relative >= 0n && relative <= BigInt(relativeOffsetMax);
  }

  get offsetEntryCount(): number {
    return this.entryCount;
  }

  get timeEntryCountValue(): number {
    return this.timeEntryCount;
  }

  /** Position and base offset of the last indexed batch; the segment start when none. */
  get lastEntry(): { position: number; offset: bigint } {
    if (this.entryCount === 0) return { position: 0, offset: this.baseOffset };
    const last = this.entryCount - 1;
    return { position: this.positions[last]!, offset: this.baseOffset + BigInt(this.relativeOffsets[last]!) };
  }

  /** Records a batch; batches arrive in offset and position order. */
  addBatch(position: number, sizeBytes: number, batchBaseOffset: bigint, batchMaxTimestamp: bigint): void {
    assertInvariant(this.canHold(batchBaseOffset), "relative-offset-in-range", () => {
      return `offset ${batchBaseOffset} does not fit a segment based at ${this.baseOffset}`;
    });
    const relative = Number(batchBaseOffset - this.baseOffset);
    if (this.offsetOfMaxTimestamp < 0n || batchMaxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = batchMaxTimestamp;
      this.offsetOfMaxTimestamp = batchBaseOffset;
    }
    const last = this.entryCount - 1;
    if (last >= 0 && this.positions[last] === position) {
      // Resuming after a load: this batch is the last one indexed.
      assertInvariant(this.relativeOffsets[last] === relative, "index-entry-matches-batch", () => {
        return `entry at position ${position} says offset ${this.baseOffset + BigInt(this.relativeOffsets[last]!)}, the batch starts at ${batchBaseOffset}`;
      });
      this.bytesSinceLastEntry = 0;
    } else if (this.bytesSinceLastEntry >= this.intervalBytes) {
      this.appendOffsetEntry(relative, position);
      if (
        this.maxTimestamp >= 0n &&
        (this.timeEntryCount === 0 || this.maxTimestamp > this.lastTimestamp())
      ) {
        this.appendTimeEntry(this.maxTimestamp, Number(this.offsetOfMaxTimestamp - this.baseOffset));
      }
      this.bytesSinceLastEntry = 0;
    }
    this.bytesSinceLastEntry += sizeBytes;
  }

  /** File position of the last indexed batch whose base offset is <= offset; 0 when none is. */
  floorPosition(offset: bigint): number {
    const relative = offset - this.baseOffset;
    let low = 0;
    let high = this.entryCount - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (BigInt(this.relativeOffsets[middle]!) <= relative) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? 0 : this.positions[found]!;
  }

  /** Base offset of the last batch known to carry a timestamp below `target` with none larger before it; null when none. */
  offsetBeforeTimestamp(target: bigint): bigint | null {
    let low = 0;
    let high = this.timeEntryCount - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.timestamps[middle]! < target) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? null : this.baseOffset + BigInt(this.timeRelativeOffsets[found]!);
  }

  serializeOffsets(): Buffer {
    const bytes = Buffer.alloc(this.entryCount * offsetIndexEntryBytes);
    for (let entry = 0; entry < this.entryCount; entry++) {
      bytes.writeInt32BE(this.relativeOffsets[entry]!, entry * offsetIndexEntryBytes);
      bytes.writeInt32BE(this.positions[entry]!, entry * offsetIndexEntryBytes + 4);
    }
    return bytes;
  }

  serializeTimes(): Buffer {
    const bytes = Buffer.alloc(this.timeEntryCount * timeIndexEntryBytes);
    for (let entry = 0; entry < this.timeEntryCount; entry++) {
      bytes.writeBigInt64BE(this.timestamps[entry]!, entry * timeIndexEntryBytes);
      bytes.writeInt32BE(this.timeRelativeOffsets[entry]!, entry * timeIndexEntryBytes + 8);
    }
    return bytes;
  }

  /**
   * Loads index files, or says why they cannot be trusted. Only what the files
   * alone can show is checked here; the caller then rescans from the last
   * entry, which proves that entry against the segment.
   */
  static parse(
    baseOffset: bigint,
    intervalBytes: number,
    offsets: Buffer,
    times: Buffer,
    segmentBytes: number,
  ): SegmentIndex | string {
    if (offsets.length % offsetIndexEntryBytes !== 0) return `offset index of ${offsets.length} bytes is cut`;
    if (times.length % timeIndexEntryBytes !== 0) return `time index of ${times.length} bytes is cut`;
    const index = new SegmentIndex(baseOffset, intervalBytes);
    for (let at = 0; at < offsets.length; at += offsetIndexEntryBytes) {
      const relative = offsets.readInt32BE(at);
      const position = offsets.readInt32BE(at + 4);
      const previous = index.entryCount - 1;
      if (relative < 0 || position < 0 || position >= segmentBytes) {
        return `offset entry ${at / offsetIndexEntryBytes} (${relative}, ${position}) lies outside the ${segmentBytes}-byte segment`;
      }
      if (
        previous >= 0 &&
        (relative <= index.relativeOffsets[previous]! || position <= index.positions[previous]!)
      ) {
        return `offset entry ${at / offsetIndexEntryBytes} does not increase`;
      }
      index.appendOffsetEntry(relative, position);
    }
    const lastRelative = index.entryCount > 0 ? index.relativeOffsets[index.entryCount - 1]! : 0;
    for (let at = 0; at < times.length; at += timeIndexEntryBytes) {
      const timestamp = times.readBigInt64BE(at);
      const relative = times.readInt32BE(at + 8);
      if (relative < 0 || relative > lastRelative) {
        return `time entry ${at / timeIndexEntryBytes} names offset ${relative} past the last offset entry`;
      }
      if (index.timeEntryCount > 0 && timestamp <= index.lastTimestamp()) {
        return `time entry ${at / timeIndexEntryBytes} does not increase`;
      }
      index.appendTimeEntry(timestamp, relative);
    }
    if (index.timeEntryCount > 0) {
      index.maxTimestamp = index.lastTimestamp();
      index.offsetOfMaxTimestamp = baseOffset + BigInt(index.timeRelativeOffsets[index.timeEntryCount - 1]!);
    }
    return index;
  }

  private lastTimestamp(): bigint {
    return this.timestamps[this.timeEntryCount - 1]!;
  }

  private appendOffsetEntry(relative: number, position: number): void {
    const last = this.entryCount - 1;
    assertInvariant(
      last < 0 || (relative > this.relativeOffsets[last]! && position > this.positions[last]!),
      "index-entries-increase",
      () => `entry (${relative}, ${position}) after (${this.relativeOffsets[last]}, ${this.positions[last]})`,
    );
    this.relativeOffsets = grow(
      this.relativeOffsets,
      this.entryCount + 1,
      (length) => new Int32Array(length),
    );
    this.positions = grow(this.positions, this.entryCount + 1, (length) => new Int32Array(length));
    this.relativeOffsets[this.entryCount] = relative;
    this.positions[this.entryCount] = position;
    this.entryCount += 1;
  }

  private appendTimeEntry(timestamp: bigint, relative: number): void {
    this.timestamps = grow(this.timestamps, this.timeEntryCount + 1, (length) => new BigInt64Array(length));
    this.timeRelativeOffsets = grow(
      this.timeRelativeOffsets,
      this.timeEntryCount + 1,
      (length) => new Int32Array(length),
    );
    this.timestamps[this.timeEntryCount] = timestamp;
    this.timeRelativeOffsets[this.timeEntryCount] = relative;
    this.timeEntryCount += 1;
  }
}
