/**
 * One segment: a `.log` file of whole batches, its in-memory indexes, and
 * two ends: what has been given file positions (`sizeBytes`, `nextOffset`,
 * which appends advance synchronously) and what is in the file
 * (`writtenBytes`, `writtenNextOffset`, which the group commit advances and
 * readers stay within).
 */
import { constants, type FileHandle, open } from "node:fs/promises";
import path from "node:path";
import { isBatchProblem, lastOffsetOf } from "../protocol/record-batch.ts";
import { readFileIfPresent, removeFiles, syncDirectory, writeFileDurably } from "./durable-file.ts";
import { assertInvariant, InvariantError } from "./invariant.ts";
import { type EpochEntry, noteEpochStart } from "./leader-epoch-cache.ts";
import {
  logFileSuffix,
  offsetIndexFileSuffix,
  segmentFileName,
  timeIndexFileSuffix,
} from "./segment-files.ts";
import { SegmentIndex } from "./segment-index.ts";
import { BatchCursor, type LoadedBatch, type ScanOutcome, scanSegment } from "./segment-scan.ts";
import type { AppendTarget } from "./sync-scheduler.ts";

/** What recovery cut from the end of a segment file. */
export interface SegmentCut {
  file: string;
  position: number;
  bytes: number;
  reason: string;
}

export class Segment implements AppendTarget {
  readonly path: string;
  readonly offsetIndexPath: string;
  readonly timeIndexPath: string;
  /** Bytes given positions (written or queued). */
  sizeBytes: number;
  /** Bytes known to be in the file. */
  writtenBytes: number;
  /** Offset after the last batch given a position. */
  nextOffset: bigint;
  /** Offset after the last batch in the file. */
  writtenNextOffset: bigint;
  /** Clock for segment.ms: when the first batch arrived, null while empty. */
  rollStartMs: number | null = null;
  /** Flushed, synced and indexes written after a roll: only then may retention delete it. */
  sealed = false;
  /** The `.index` / `.timeindex` files on disk match `index`. */
  indexFilesCurrent = false;

  private constructor(
    readonly directory: string,
    readonly baseOffset: bigint,
    readonly handle: Promise<FileHandle>,
    public index: SegmentIndex,
    sizeBytes: number,
    nextOffset: bigint,
  ) {
    this.path = path.join(directory, segmentFileName(baseOffset, logFileSuffix));
    this.offsetIndexPath = path.join(directory, segmentFileName(baseOffset, offsetIndexFileSuffix));
    this.timeIndexPath = path.join(directory, segmentFileName(baseOffset, timeIndexFileSuffix));
    this.sizeBytes = sizeBytes;
    this.writtenBytes = sizeBytes;
    this.nextOffset = nextOffset;
    this.writtenNextOffset = nextOffset;
  }

  get isEmpty(): boolean {
    return this.nextOffset === this.baseOffset;
  }

  /**
   * A new, empty segment. The file is created in the background (and its name
   * made durable) so that a roll inside append never blocks; the first write
   * awaits it. An existing file of that name is a bug, hence O_EXCL.
   */
  static create(directory: string, baseOffset: bigint, indexIntervalBytes: number): Segment {
    const filePath = path.join(directory, segmentFileName(baseOffset, logFileSuffix));
    const handle = (async () => {
      const file = await open(filePath, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL);
      await syncDirectory(directory);
      return file;
    })();
    // Failures surface where the handle is awaited (the first write); this only keeps them from going unhandled.
    handle.catch(() => undefined);
    return new Segment(
      directory,
      baseOffset,
      handle,
      new SegmentIndex(baseOffset, indexIntervalBytes),
      0,
      baseOffset,
    );
  }

  /**
   * Opens an existing segment and finds its valid end. With `trustIndexFiles`
   * the index files are loaded when consistent and only the bytes after the
   * last entry are scanned; otherwise (or when they are not) the whole file
   * is. Either scan checks CRCs and cuts the file after the last valid batch.
   */
  static async load(
    directory: string,
    baseOffset: bigint,
    options: { indexIntervalBytes: number; trustIndexFiles: boolean; nowMs: number },
  ): Promise<{
    segment: Segment;
    cut: SegmentCut | null;
    indexProblem: string | null;
    epochStarts: EpochEntry[];
  }> {
    const filePath = path.join(directory, segmentFileName(baseOffset, logFileSuffix));
    const file = await open(filePath, "r+");
    try {
      const { size } = await file.stat();
      let index: SegmentIndex | null = null;
      let indexProblem: string | null = null;
      let outcome: ScanOutcome | null = null;
      let loadedEntries = -1;
      let epochStarts: EpochEntry[] = [];
      if (options.trustIndexFiles) {
        const loaded = await loadIndexFiles(directory, baseOffset, options.indexIntervalBytes, size);
        if (typeof loaded === "string") {
          indexProblem = loaded;
        } else {
          loadedEntries = loaded.offsetEntryCount + loaded.timeEntryCountValue;
          const { position, offset } = loaded.lastEntry;
          outcome = await scanSegment(
            file,
            { start: position, end: size, firstOffset: offset, checkCrc: true },
            (batch) => {
              addToIndex(loaded, batch);
              noteEpochStart(epochStarts, batch.header);
            },
          );
          // A damaged tail or an index that disagrees with the file: the full scan below decides which.
          if (outcome.problem === null) index = loaded;
          else indexProblem = `after the last index entry: ${outcome.problem}`;
        }
      }
      let scannedFromStart = false;
      if (index === null || outcome === null || outcome.problem !== null) {
        const rebuilt = new SegmentIndex(baseOffset, options.indexIntervalBytes);
        epochStarts = [];
        outcome = await scanSegment(
          file,
          { start: 0, end: size, firstOffset: baseOffset, checkCrc: true },
          (batch) => {
            addToIndex(rebuilt, batch);
            noteEpochStart(epochStarts, batch.header);
          },
        );
        index = rebuilt;
        scannedFromStart = true;
      }
      let cut: SegmentCut | null = null;
      if (outcome.problem !== null) {
        cut = {
          file: filePath,
          position: outcome.endPosition,
          bytes: size - outcome.endPosition,
          reason: outcome.problem,
        };
        await file.truncate(outcome.endPosition);
        await file.datasync();
      }
      const segment = new Segment(
        directory,
        baseOffset,
        Promise.resolve(file),
        index,
        outcome.endPosition,
        outcome.nextOffset,
      );
      segment.indexFilesCurrent =
        !scannedFromStart && loadedEntries === index.offsetEntryCount + index.timeEntryCountValue;
      if (!segment.isEmpty) {
        const firstMaxTimestamp = scannedFromStart
          ? outcome.firstMaxTimestamp
          : await segment.firstBatchMaxTimestamp();
        segment.rollStartMs = rollStartFrom(firstMaxTimestamp, options.nowMs);
      }
      return { segment, cut, indexProblem, epochStarts };
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /**
   * A cursor over the written bytes, at the batch that contains `offset`, or
   * null when `offset` is not written yet. Walks from the index entry at or
   * before `offset`, asserting the batches are readable and contiguous.
   */
  async seek(
    offset: bigint,
    chunkBytes: number,
  ): Promise<{ cursor: BatchCursor; batch: LoadedBatch } | null> {
    assertInvariant(
      offset >= this.baseOffset,
      "seek-inside-segment",
      () => `offset ${offset} before ${this.path}`,
    );
    const file = await this.handle;
    const cursor = new BatchCursor(file, this.index.floorPosition(offset), this.writtenBytes, chunkBytes);
    let expected: bigint | null = null;
    while (!cursor.atEnd) {
      const batch = await this.readBatch(cursor);
      const { header } = batch;
      assertInvariant(expected === null || header.baseOffset === expected, "offsets-contiguous", () => {
        return `${this.path} at ${batch.filePosition}: batch starts at ${header.baseOffset}, expected ${expected}`;
      });
      if (lastOffsetOf(header) >= offset) {
        assertInvariant(header.baseOffset <= offset, "offsets-contiguous", () => {
          return `${this.path} has no batch holding ${offset}: the next one starts at ${header.baseOffset}`;
        });
        return { cursor, batch };
      }
      expected = lastOffsetOf(header) + 1n;
      cursor.advance(header.sizeBytes);
    }
    return null;
  }

  /** The batch at the cursor; an unreadable batch inside the written bytes is a broken invariant. */
  async readBatch(cursor: BatchCursor): Promise<LoadedBatch> {
    const batch = await cursor.current(false);
    if (isBatchProblem(batch)) {
      throw new InvariantError(
        "written-batches-readable",
        `${this.path} at ${cursor.position}: ${batch.detail}`,
      );
    }
    assertInvariant(batch.header.baseOffset >= this.baseOffset, "offsets-inside-segment", () => {
      return `${this.path} at ${batch.filePosition} holds offset ${batch.header.baseOffset}`;
    });
    return batch;
  }

  /** Rescans [0, endPosition) into a fresh index: after truncation, so that no entry or timestamp outlives its batch. */
  async rebuildIndex(endPosition: number, indexIntervalBytes: number): Promise<ScanOutcome> {
    const file = await this.handle;
    const index = new SegmentIndex(this.baseOffset, indexIntervalBytes);
    const outcome = await scanSegment(
      file,
      { start: 0, end: endPosition, firstOffset: this.baseOffset, checkCrc: false },
      (batch) => addToIndex(index, batch),
    );
    assertInvariant(
      outcome.problem === null,
      "written-batches-readable",
      () => `${this.path}: ${outcome.problem}`,
    );
    this.index = index;
    this.indexFilesCurrent = false;
    return outcome;
  }

  async writeIndexFiles(): Promise<void> {
    await writeFileDurably(this.offsetIndexPath, this.index.serializeOffsets());
    await writeFileDurably(this.timeIndexPath, this.index.serializeTimes());
    this.indexFilesCurrent = true;
  }

  /** Index files describe a sealed segment; an active one changes, so its files go (durably) before it does. */
  async removeIndexFiles(): Promise<void> {
    this.indexFilesCurrent = false;
    if (await removeFiles([this.offsetIndexPath, this.timeIndexPath])) await syncDirectory(this.directory);
  }

  async close(): Promise<void> {
    const file = await this.handle.catch(() => null);
    await file?.close();
  }

  /** Closes and unlinks the segment's files; the caller syncs the directory. */
  async delete(): Promise<void> {
    await this.close();
    await removeFiles([this.path, this.offsetIndexPath, this.timeIndexPath]);
  }

  private async firstBatchMaxTimestamp(): Promise<bigint | null> {
    const cursor = new BatchCursor(await this.handle, 0, this.writtenBytes, 4096);
    return (await this.readBatch(cursor)).header.maxTimestamp;
  }
}

function addToIndex(index: SegmentIndex, batch: LoadedBatch): void {
  index.addBatch(
    batch.filePosition,
    batch.header.sizeBytes,
    batch.header.baseOffset,
    batch.header.maxTimestamp,
  );
}

/**
 * segment.ms counts from the first batch's timestamp, as Kafka does, so that
 * the age survives a restart; a missing or future timestamp counts from now.
 */
function rollStartFrom(firstMaxTimestamp: bigint | null, nowMs: number): number {
  if (firstMaxTimestamp === null || firstMaxTimestamp < 0n) return nowMs;
  return Math.min(Number(firstMaxTimestamp), nowMs);
}

async function loadIndexFiles(
  directory: string,
  baseOffset: bigint,
  indexIntervalBytes: number,
  segmentBytes: number,
): Promise<SegmentIndex | string> {
  const offsets = await readFileIfPresent(
    path.join(directory, segmentFileName(baseOffset, offsetIndexFileSuffix)),
  );
  const times = await readFileIfPresent(
    path.join(directory, segmentFileName(baseOffset, timeIndexFileSuffix)),
  );
  if (offsets === null || times === null) return "index files missing";
  return SegmentIndex.parse(baseOffset, indexIntervalBytes, offsets, times, segmentBytes);
}
