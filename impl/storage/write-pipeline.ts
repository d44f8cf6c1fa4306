/**
 * From assigned offsets to acknowledgements. Each append hands its bytes to
 * the group commit as one write per segment it touches; as writes land, the
 * segments' written ends move (what readers see), and `durable` resolves in
 * offset order: an append counts as durable only once every earlier one is,
 * even when two segments' groups finish out of order.
 */
import { type BatchHeader, batchHeaderBytes } from "../protocol/record-batch.ts";
import { assertInvariant } from "./invariant.ts";
import { storedBatchBytesMax } from "./log-config.ts";
import type { Segment } from "./segment.ts";
import type { SyncScheduler, WriteRequest } from "./sync-scheduler.ts";

/** A contiguous part of one append that lands in one segment. */
export interface WriteRun {
  segment: Segment;
  /** Byte range within the append's records. */
  from: number;
  to: number;
  /** File position of `from`. */
  position: number;
  /** The offset after the run's last batch. */
  nextOffset: bigint;
}

export class WritePipeline {
  private durableEnd: bigint;
  /** Settle after the latest append is durable / written; each append chains on the previous one. */
  private durableTail: Promise<void> = Promise.resolve();
  private writtenTail: Promise<void> = Promise.resolve();

  constructor(
    private readonly sync: SyncScheduler,
    endOffset: bigint,
    private readonly onFailure: (error: Error) => void,
  ) {
    this.durableEnd = endOffset;
  }

  get durableEndOffset(): bigint {
    return this.durableEnd;
  }

  /** Queues one append's runs; the promise resolves once they and every earlier append are durable. */
  submit(records: Buffer, runs: WriteRun[], endOffset: bigint): Promise<void> {
    let unwritten = runs.length;
    let undurable = runs.length;
    let written!: () => void;
    let durable!: () => void;
    let failed!: (error: Error) => void;
    const ownWritten = new Promise<void>((resolve) => {
      written = resolve;
    });
    const ownDurable = new Promise<void>((resolve, reject) => {
      durable = resolve;
      failed = reject;
    });
    // When an earlier append failed first, this rejection is reported through that one; never unhandled.
    ownDurable.catch(() => undefined);
    const writes = runs.map((run) => {
      const { segment, position, nextOffset } = run;
      const endPosition = position + (run.to - run.from);
      const request: WriteRequest = {
        position,
        buffer: records.subarray(run.from, run.to),
        onWritten: () => {
          assertInvariant(segment.writtenBytes === position, "writes-in-order", () => {
            return `${segment.path}: write at ${position} lands after ${segment.writtenBytes} written bytes`;
          });
          segment.writtenBytes = endPosition;
          segment.writtenNextOffset = nextOffset;
          unwritten -= 1;
          if (unwritten === 0) written();
        },
        onDurable: () => {
          undurable -= 1;
          if (undurable === 0) durable();
        },
        onFailed: (error) => {
          this.onFailure(error);
          written();
          failed(error);
        },
      };
      return { target: segment, request };
    });
    this.sync.enqueue(writes);
    this.writtenTail = this.writtenTail.then(() => ownWritten);
    const result = Promise.all([this.durableTail, ownDurable]).then(() => {
      assertInvariant(endOffset > this.durableEnd, "durable-end-increases", () => {
        return `durable end would move from ${this.durableEnd} to ${endOffset}`;
      });
      this.durableEnd = endOffset;
    });
    result.catch(() => undefined);
    this.durableTail = result;
    return result;
  }

  /** Resolves once every submitted byte is in its file (or failed). */
  allWritten(): Promise<void> {
    return this.writtenTail.catch(() => undefined);
  }

  /** Resolves once every append submitted so far is durable; rejects when one of them failed. */
  earlierAppendsDurable(): Promise<void> {
    return this.durableTail;
  }

  /** Resolves once every submitted append is acknowledged (or failed). */
  allDurable(): Promise<void> {
    return this.durableTail.catch(() => undefined);
  }

  /** After truncation: nothing past the new end is durable any more. */
  truncatedTo(endOffset: bigint): void {
    if (this.durableEnd > endOffset) this.durableEnd = endOffset;
  }

  /** After a full truncation, with nothing in flight: the empty log restarted at `endOffset` is all durable. */
  restartedAt(endOffset: bigint): void {
    this.durableEnd = endOffset;
  }
}

/** The batches tile `records` exactly, in order: what makes the positions append computes true. */
export function checkBatchesTile(records: Buffer, batches: readonly BatchHeader[]): void {
  assertInvariant(batches.length > 0, "batches-tile-records", () => "no batch to append");
  let position = 0;
  for (const header of batches) {
    const { sizeBytes } = header;
    assertInvariant(
      header.position === position && sizeBytes >= batchHeaderBytes,
      "batches-tile-records",
      () => {
        return `batch at ${header.position} of ${sizeBytes} bytes where one should start at ${position}`;
      },
    );
    assertInvariant(header.lastOffsetDelta >= 0, "batches-tile-records", () => {
      return `batch at ${header.position} has last offset delta ${header.lastOffsetDelta}`;
    });
    assertInvariant(sizeBytes <= storedBatchBytesMax, "stored-batch-size", () => {
      return `batch of ${sizeBytes} bytes exceeds storedBatchBytesMax ${storedBatchBytesMax}`;
    });
    position += sizeBytes;
  }
  assertInvariant(position === records.length, "batches-tile-records", () => {
    return `batches cover ${position} of ${records.length} bytes`;
  });
}
