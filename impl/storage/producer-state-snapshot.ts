/**
 * Producer state snapshot files: the producer state as it stood at one log
 * offset, so that recovery reads the log only after it. A partition writes
 * one when a segment rolls (at the new segment's base offset), at a clean
 * close (at the log end) and after recovery had to read the log (at the log
 * end), as Kafka does. The file is named by that offset:
 * `00000000000000001234.producer-snapshot`.
 *
 * ProducerSnapshot =>
 *   version: INT16                    1
 *   crc: UINT32                       CRC32C of every byte after this field
 *   producer_count: INT32
 *   producers: [                      least recently appending first
 *     producer_id: INT64
 *     producer_epoch: INT16
 *     last_timestamp: INT64
 *     batch_count: INT8               0 to 5
 *     batches: [first_sequence: INT32, last_sequence: INT32, first_offset: INT64, last_offset: INT64]
 *   ]
 *
 * Kafka's own `.snapshot` files keep only each producer's last batch; these
 * keep all five, so that a retry of any batch in flight is still recognised
 * after a restart. The different suffix keeps Kafka's tools from misreading
 * them. Files are written beside the target and renamed (durable-file.ts), so
 * a crash leaves the old file or the new one; a file that still fails its
 * CRC or its bounds is reported as unusable and recovery takes an older one.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { crc32c } from "@node-rs/crc32";
import { readFileIfPresent, removeFiles, syncDirectory, writeFileDurably } from "./durable-file.ts";
import { assertInvariant } from "./invariant.ts";
import { batchesPerProducerMax, type ProducerEntry } from "./producer-state.ts";

export const producerSnapshotFileSuffix = ".producer-snapshot";
const snapshotFilePattern = /^(\d{20})\.producer-snapshot$/;
const offsetDigits = 20;
const snapshotVersion = 1;
const headerBytes = 2 + 4 + 4;
const crcCoveredFrom = 6;
const producerFixedBytes = 8 + 2 + 8 + 1;
const batchBytes = 4 + 4 + 8 + 8;
/**
 * Largest snapshot file read back: far above what any producer bound
 * writes (10,000 producers take 1.4 MB), and what keeps a damaged or foreign
 * file from being read into memory whole.
 */
export const producerSnapshotBytesMax = 64 * 1024 * 1024;

export function producerSnapshotFileName(offset: bigint): string {
  if (offset < 0n) throw new RangeError(`producer snapshot offset ${offset} is negative`);
  return offset.toString().padStart(offsetDigits, "0") + producerSnapshotFileSuffix;
}

export function parseProducerSnapshotFileName(name: string): bigint | null {
  const match = snapshotFilePattern.exec(name);
  return match === null ? null : BigInt(match[1]!);
}

export function encodeProducerSnapshot(entries: readonly ProducerEntry[]): Buffer {
  let size = headerBytes;
  for (const entry of entries) size += producerFixedBytes + entry.batches.length * batchBytes;
  const buffer = Buffer.alloc(size);
  buffer.writeInt16BE(snapshotVersion, 0);
  buffer.writeInt32BE(entries.length, 6);
  let position = headerBytes;
  for (const entry of entries) {
    assertInvariant(
      entry.batches.length <= batchesPerProducerMax,
      "producer-batches-bounded",
      () => `producer ${entry.producerId} holds ${entry.batches.length} batches`,
    );
    buffer.writeBigInt64BE(entry.producerId, position);
    buffer.writeInt16BE(entry.producerEpoch, position + 8);
    buffer.writeBigInt64BE(entry.lastTimestamp, position + 10);
    buffer.writeInt8(entry.batches.length, position + 18);
    position += producerFixedBytes;
    for (const batch of entry.batches) {
      buffer.writeInt32BE(batch.firstSequence, position);
      buffer.writeInt32BE(batch.lastSequence, position + 4);
      buffer.writeBigInt64BE(batch.firstOffset, position + 8);
      buffer.writeBigInt64BE(batch.lastOffset, position + 16);
      position += batchBytes;
    }
  }
  buffer.writeUInt32BE(crc32c(buffer.subarray(crcCoveredFrom)), 2);
  return buffer;
}

/**
 * The producers of a snapshot taken at `snapshotOffset`, or why the bytes
 * cannot be one: every count is checked against the bytes left before
 * anything is allocated, and every batch must lie before the snapshot's offset.
 */
export function decodeProducerSnapshot(bytes: Buffer, snapshotOffset: bigint): ProducerEntry[] | string {
  if (bytes.length < headerBytes) return `${bytes.length} bytes cannot hold a snapshot header`;
  const version = bytes.readInt16BE(0);
  if (version !== snapshotVersion) return `unknown snapshot version ${version}`;
  const storedCrc = bytes.readUInt32BE(2);
  const actualCrc = crc32c(bytes.subarray(crcCoveredFrom));
  if (storedCrc !== actualCrc) {
    return `CRC32C ${actualCrc.toString(16)} does not match the stored ${storedCrc.toString(16)}`;
  }
  const count = bytes.readInt32BE(6);
  if (count < 0 || count * producerFixedBytes > bytes.length - headerBytes) {
    return `producer count ${count} does not fit the ${bytes.length - headerBytes} bytes after the header`;
  }
  const entries: ProducerEntry[] = [];
  let position = headerBytes;
  for (let index = 0; index < count; index++) {
    if (bytes.length - position < producerFixedBytes) return `producer ${index} runs past the end`;
    const producerId = bytes.readBigInt64BE(position);
    const producerEpoch = bytes.readInt16BE(position + 8);
    const lastTimestamp = bytes.readBigInt64BE(position + 10);
    const batchCount = bytes.readInt8(position + 18);
    position += producerFixedBytes;
    if (producerId < 0n) return `producer ${index} has id ${producerId}`;
    if (batchCount < 0 || batchCount > batchesPerProducerMax) {
      return `producer ${producerId} claims ${batchCount} batches (at most ${batchesPerProducerMax})`;
    }
    if (bytes.length - position < batchCount * batchBytes)
      return `batches of producer ${producerId} run past the end`;
    const batches = [];
    for (let batchIndex = 0; batchIndex < batchCount; batchIndex++) {
      const batch = {
        firstSequence: bytes.readInt32BE(position),
        lastSequence: bytes.readInt32BE(position + 4),
        firstOffset: bytes.readBigInt64BE(position + 8),
        lastOffset: bytes.readBigInt64BE(position + 16),
      };
      position += batchBytes;
      const previous = batches[batches.length - 1];
      if (
        batch.firstSequence < 0 ||
        batch.firstOffset < 0n ||
        batch.lastOffset < batch.firstOffset ||
        batch.lastOffset >= snapshotOffset ||
        (previous !== undefined && batch.firstOffset <= previous.lastOffset)
      ) {
        return `batch ${batchIndex} of producer ${producerId} (offsets ${batch.firstOffset}-${batch.lastOffset}) does not lie in order before offset ${snapshotOffset}`;
      }
      batches.push(batch);
    }
    entries.push({ producerId, producerEpoch, lastTimestamp, batches });
  }
  if (position !== bytes.length) return `${bytes.length - position} bytes after the last producer`;
  return entries;
}

/**
 * The snapshot files of one partition directory, by offset, as they are on
 * disk: an offset is listed once its file is durable, and unlisted before
 * its file is removed.
 */
export class ProducerSnapshotFiles {
  private constructor(
    readonly directory: string,
    /** Ascending. */
    private offsets: bigint[],
  ) {}

  static async list(directory: string): Promise<ProducerSnapshotFiles> {
    const offsets: bigint[] = [];
    for (const name of await readdir(directory)) {
      const offset = parseProducerSnapshotFileName(name);
      if (offset !== null) offsets.push(offset);
    }
    offsets.sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
    return new ProducerSnapshotFiles(directory, offsets);
  }

  get all(): readonly bigint[] {
    return this.offsets;
  }

  has(offset: bigint): boolean {
    return this.offsets.includes(offset);
  }

  /** The latest snapshot, or undefined. */
  latest(): bigint | undefined {
    return this.offsets[this.offsets.length - 1];
  }

  pathOf(offset: bigint): string {
    return path.join(this.directory, producerSnapshotFileName(offset));
  }

  async write(offset: bigint, bytes: Buffer): Promise<void> {
    await writeFileDurably(this.pathOf(offset), bytes);
    if (!this.offsets.includes(offset)) {
      this.offsets.push(offset);
      this.offsets.sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
    }
  }

  /** The snapshot's producers, or why it is unusable (missing, too large, damaged). */
  async read(offset: bigint): Promise<ProducerEntry[] | string> {
    const filePath = this.pathOf(offset);
    try {
      const { size } = await stat(filePath);
      if (size > producerSnapshotBytesMax) {
        return `${size} bytes exceed producerSnapshotBytesMax ${producerSnapshotBytesMax}`;
      }
    } catch {
      return "the file is gone";
    }
    const bytes = await readFileIfPresent(filePath);
    if (bytes === null) return "the file is gone";
    return decodeProducerSnapshot(bytes, offset);
  }

  /** Removes (durably) the snapshots `doomed` selects; returns the offsets removed. */
  async removeWhere(doomed: (offset: bigint) => boolean): Promise<bigint[]> {
    const removed = this.offsets.filter(doomed);
    if (removed.length === 0) return removed;
    this.offsets = this.offsets.filter((offset) => !doomed(offset));
    if (await removeFiles(removed.map((offset) => this.pathOf(offset)))) await syncDirectory(this.directory);
    return removed;
  }
}
