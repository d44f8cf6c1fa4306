/**
 * Walking the batches of segment files with positional reads: recovery,
 * index rebuilds, the read path's lookups, and `scanPartitionDirectory` for
 * the dump-log tool. Headers are parsed (and CRCs checked) by
 * protocol/record-batch.ts; this file only decides which bytes to read.
 */
import { type FileHandle, open } from "node:fs/promises";
import path from "node:path";
import {
  type BatchHeader,
  type BatchProblem,
  batchHeaderBytes,
  batchLogOverheadBytes,
  isBatchProblem,
  lastOffsetOf,
  readBatchHeader,
  readValidBatch,
} from "../protocol/record-batch.ts";
import { isNotFound } from "./durable-file.ts";
import { assertInvariant } from "./invariant.ts";
import { storedBatchBytesMax } from "./log-config.ts";
import { listPartitionDirectory, logFileSuffix, segmentFileName } from "./segment-files.ts";

/** Bytes read at a time when a whole segment is scanned. */
export const scanChunkBytes = 1024 * 1024;

/** One batch, whole, inside a buffer read from a file. */
export interface LoadedBatch {
  /** The chunk the batch was read into; `header.position` is relative to it. */
  buffer: Buffer;
  header: BatchHeader;
  /** Where the batch starts in the file. */
  filePosition: number;
}

/** Reads `buffer.length` bytes at `position` unless the file ends first; returns how many it got. */
async function readAt(file: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * A position in a segment file, always at a batch boundary, that moves batch
 * by batch over [start, end). It reads a chunk at a time and keeps the last
 * chunk, so walking many small batches costs one read, and a run of batches
 * inside the chunk can be handed out as a view without copying.
 */
export class BatchCursor {
  private chunk: Buffer = Buffer.alloc(0);
  private chunkPosition = 0;

  constructor(
    private readonly file: FileHandle,
    public position: number,
    readonly end: number,
    private readonly chunkBytes: number,
  ) {
    assertInvariant(
      position >= 0 && position <= end,
      "cursor-inside-file",
      () => `position ${position}, end ${end}`,
    );
  }

  get atEnd(): boolean {
    return this.position >= this.end;
  }

  /** The batch size the length field at the cursor declares, or why it cannot be a batch. */
  async peekSizeBytes(): Promise<number | BatchProblem> {
    const remaining = this.end - this.position;
    if (remaining < batchLogOverheadBytes || !(await this.load(this.position, batchLogOverheadBytes))) {
      return { kind: "truncated", detail: `${remaining} bytes left cannot hold a batch length` };
    }
    const sizeBytes = this.chunk.readInt32BE(this.position - this.chunkPosition + 8) + batchLogOverheadBytes;
    if (sizeBytes < batchHeaderBytes) {
      return {
        kind: "truncated",
        detail: `batch length ${sizeBytes - batchLogOverheadBytes} is shorter than a header`,
      };
    }
    if (sizeBytes > storedBatchBytesMax) {
      return {
        kind: "too-large",
        detail: `batch length ${sizeBytes} exceeds the ${storedBatchBytesMax} bytes stored`,
      };
    }
    if (sizeBytes > remaining) {
      return {
        kind: "truncated",
        detail: `batch of ${sizeBytes} bytes runs past the ${remaining} bytes left`,
      };
    }
    return sizeBytes;
  }

  /** The whole batch at the cursor, its CRC checked when `checkCrc`. */
  async current(checkCrc: boolean): Promise<LoadedBatch | BatchProblem> {
    const sizeBytes = await this.peekSizeBytes();
    if (typeof sizeBytes !== "number") return sizeBytes;
    if (!(await this.load(this.position, sizeBytes))) {
      return { kind: "truncated", detail: `the file ends inside the batch at ${this.position}` };
    }
    const relative = this.position - this.chunkPosition;
    const header = checkCrc ? readValidBatch(this.chunk, relative) : readBatchHeader(this.chunk, relative);
    if (isBatchProblem(header)) return header;
    return { buffer: this.chunk, header, filePosition: this.position };
  }

  advance(sizeBytes: number): void {
    assertInvariant(sizeBytes > 0 && this.position + sizeBytes <= this.end, "cursor-inside-file", () => {
      return `advancing ${sizeBytes} bytes from ${this.position} passes ${this.end}`;
    });
    this.position += sizeBytes;
  }

  /** File bytes [from, to): a view of the loaded chunk when it holds them, else one positional read. */
  async bytes(from: number, to: number): Promise<Buffer> {
    assertInvariant(0 <= from && from <= to && to <= this.end, "read-inside-file", () => {
      return `bytes ${from}..${to} of a file read up to ${this.end}`;
    });
    if (from >= this.chunkPosition && to <= this.chunkPosition + this.chunk.length) {
      return this.chunk.subarray(from - this.chunkPosition, to - this.chunkPosition);
    }
    const buffer = Buffer.allocUnsafe(to - from);
    const got = await readAt(this.file, buffer, from);
    assertInvariant(
      got === buffer.length,
      "read-inside-file",
      () => `read ${got} of ${buffer.length} bytes at ${from}`,
    );
    return buffer;
  }

  /** Makes [position, position + length) available in the chunk; false when the file is shorter. */
  private async load(position: number, length: number): Promise<boolean> {
    if (position >= this.chunkPosition && position + length <= this.chunkPosition + this.chunk.length) {
      return true;
    }
    const size = Math.min(Math.max(length, this.chunkBytes), this.end - position);
    const buffer = Buffer.allocUnsafe(size);
    const got = await readAt(this.file, buffer, position);
    this.chunk = buffer.subarray(0, got);
    this.chunkPosition = position;
    return got >= length;
  }
}

export interface ScanOutcome {
  /** Where the last valid batch ends. */
  endPosition: number;
  /** The offset after the last valid batch. */
  nextOffset: bigint;
  /** Why the scan stopped before `end`, or null when it reached it. */
  problem: string | null;
  /** Max timestamp of the first batch visited, or null when none was. */
  firstMaxTimestamp: bigint | null;
}

/**
 * Visits the valid batches of [start, end) in order, checking CRCs and that
 * offsets continue from `firstOffset` without gaps; stops at the first batch
 * that fails. Reads only.
 */
export async function scanSegment(
  file: FileHandle,
  options: { start: number; end: number; firstOffset: bigint; checkCrc: boolean },
  visit: (batch: LoadedBatch) => void,
): Promise<ScanOutcome> {
  const cursor = new BatchCursor(file, options.start, options.end, scanChunkBytes);
  let nextOffset = options.firstOffset;
  let firstMaxTimestamp: bigint | null = null;
  while (!cursor.atEnd) {
    const batch = await cursor.current(options.checkCrc);
    const problem = isBatchProblem(batch)
      ? `${batch.kind}: ${batch.detail}`
      : offsetProblem(batch.header, nextOffset);
    if (problem !== null || isBatchProblem(batch)) {
      return { endPosition: cursor.position, nextOffset, problem, firstMaxTimestamp };
    }
    visit(batch);
    firstMaxTimestamp ??= batch.header.maxTimestamp;
    nextOffset = lastOffsetOf(batch.header) + 1n;
    cursor.advance(batch.header.sizeBytes);
  }
  return { endPosition: cursor.position, nextOffset, problem: null, firstMaxTimestamp };
}

function offsetProblem(header: BatchHeader, expected: bigint): string | null {
  if (header.baseOffset !== expected) {
    return `offset gap: batch starts at ${header.baseOffset}, expected ${expected}`;
  }
  if (header.lastOffsetDelta < 0) return `negative last offset delta ${header.lastOffsetDelta}`;
  return null;
}

export interface ScannedBatch {
  /** The batch alone: `header.position` is 0, so decodeBatchRecords(buffer, header) works as is. */
  buffer: Buffer;
  header: BatchHeader;
  segmentPath: string;
  filePosition: number;
}

/**
 * Every valid batch of a partition directory, in offset order, from the files
 * alone: for dump-log, with the broker stopped or running. It opens files
 * read-only and stops at the first torn, corrupt or out-of-sequence batch,
 * which is where recovery would cut (or, with a running broker, where the
 * writer currently is).
 */
export async function* scanPartitionDirectory(directory: string): AsyncGenerator<ScannedBatch> {
  const { segmentBaseOffsets } = await listPartitionDirectory(directory);
  let expected: bigint | null = null;
  for (const baseOffset of segmentBaseOffsets) {
    if (expected !== null && baseOffset !== expected) return;
    const segmentPath = path.join(directory, segmentFileName(baseOffset, logFileSuffix));
    let file: FileHandle;
    try {
      file = await open(segmentPath, "r");
    } catch (error) {
      // A running broker may delete segments under us: the oldest by retention
      // (skip them), later ones by truncation (stop where the log now ends).
      if (!isNotFound(error)) throw error;
      if (expected === null) continue;
      return;
    }
    try {
      const { size } = await file.stat();
      const cursor = new BatchCursor(file, 0, size, scanChunkBytes);
      let nextOffset: bigint = baseOffset;
      while (!cursor.atEnd) {
        const batch = await cursor.current(true);
        if (isBatchProblem(batch) || offsetProblem(batch.header, nextOffset) !== null) return;
        const { header } = batch;
        yield {
          buffer: batch.buffer.subarray(header.position, header.position + header.sizeBytes),
          header: { ...header, position: 0 },
          segmentPath,
          filePosition: batch.filePosition,
        };
        nextOffset = lastOffsetOf(header) + 1n;
        cursor.advance(header.sizeBytes);
      }
      expected = nextOffset;
    } finally {
      await file.close();
    }
  }
}
