/**
 * Lookups inside one segment, all bounded by its written bytes: the fetch
 * slice (batch headers only, never records) and the ListOffsets timestamp
 * lookups (which decode the one batch that holds the answer).
 */
import { lastOffsetOf } from "../protocol/record-batch.ts";
import { decodeBatchRecords } from "../protocol/records.ts";
import { assertInvariant, InvariantError } from "./invariant.ts";
import type { Segment } from "./segment.ts";
import type { LoadedBatch } from "./segment-scan.ts";

export interface TimestampAndOffset {
  offset: bigint;
  timestamp: bigint;
}

export interface SliceRequest {
  fetchOffset: bigint;
  budgetBytes: number;
  maxOffsetExclusive: bigint;
  atLeastOneBatch: boolean;
}

/** Attribute bit 3: the broker's append time replaces the record timestamps. */
const logAppendTimeAttribute = 0x08;
/** Bytes a timestamp lookup reads at a time past the index hint. */
const lookupChunkBytes = 64 * 1024;
const emptyRecords = Buffer.alloc(0);

/**
 * Whole batches from the one holding `fetchOffset`, stopping before a batch
 * whose last offset reaches `maxOffsetExclusive`, within the budget (or the
 * first batch alone, if larger, when `atLeastOneBatch`). Usually one
 * positional read, returned as a view of it.
 */
export async function readSlice(
  segment: Segment,
  request: SliceRequest,
  indexIntervalBytes: number,
): Promise<Buffer> {
  const { fetchOffset, budgetBytes, maxOffsetExclusive, atLeastOneBatch } = request;
  if (fetchOffset >= segment.writtenNextOffset || fetchOffset >= maxOffsetExclusive) return emptyRecords;
  // The index leaves at most about an interval to walk before the slice starts.
  const found = await segment.seek(fetchOffset, indexIntervalBytes + budgetBytes);
  assertInvariant(found !== null, "written-offsets-readable", () => `${fetchOffset} not in ${segment.path}`);
  const { cursor } = found;
  let batch: LoadedBatch = found.batch;
  const start = batch.filePosition;
  let end = start;
  for (;;) {
    const { header } = batch;
    if (lastOffsetOf(header) >= maxOffsetExclusive) break;
    const fits = end - start + header.sizeBytes <= budgetBytes;
    if (!fits && !(end === start && atLeastOneBatch)) break;
    end += header.sizeBytes;
    cursor.advance(header.sizeBytes);
    if (cursor.atEnd || end - start >= budgetBytes) break;
    // The length field alone says whether the next batch fits, without reading it.
    const nextSize = await cursor.peekSizeBytes();
    if (typeof nextSize !== "number") {
      throw new InvariantError("written-batches-readable", `${segment.path} at ${end}: ${nextSize.detail}`);
    }
    if (end - start + nextSize > budgetBytes) break;
    const next = await segment.readBatch(cursor);
    assertInvariant(next.header.baseOffset === lastOffsetOf(header) + 1n, "offsets-contiguous", () => {
      return `${segment.path} at ${next.filePosition}: ${next.header.baseOffset} after ${lastOffsetOf(header)}`;
    });
    batch = next;
  }
  return end > start ? await cursor.bytes(start, end) : emptyRecords;
}

/** First record of the segment with a timestamp >= target, or null when the written batches hold none. */
export async function findTimestamp(
  segment: Segment,
  targetMs: bigint,
  indexIntervalBytes: number,
): Promise<TimestampAndOffset | null> {
  if (segment.writtenNextOffset === segment.baseOffset || segment.index.maxTimestamp < targetMs) return null;
  // Every batch up to the hint carries smaller timestamps; the answer lies at or after it.
  const hint = segment.index.offsetBeforeTimestamp(targetMs) ?? segment.baseOffset;
  const found = await segment.seek(hint, indexIntervalBytes + lookupChunkBytes);
  if (found === null) return null;
  const { cursor } = found;
  let batch: LoadedBatch = found.batch;
  for (;;) {
    if (batch.header.maxTimestamp >= targetMs) return firstRecordAtOrAfter(batch, targetMs);
    cursor.advance(batch.header.sizeBytes);
    if (cursor.atEnd) return null;
    batch = await segment.readBatch(cursor);
  }
}

/**
 * The first record carrying the segment's largest timestamp, or null when
 * that batch is not written yet (the index counts batches from the moment
 * they are queued).
 */
export async function findMaxTimestamp(
  segment: Segment,
  indexIntervalBytes: number,
): Promise<TimestampAndOffset | null> {
  const carrier = segment.index.offsetOfMaxTimestamp;
  if (carrier < 0n) return null;
  const found = await segment.seek(carrier, indexIntervalBytes + lookupChunkBytes);
  if (found === null) return null;
  assertInvariant(found.batch.header.baseOffset === carrier, "max-timestamp-batch", () => {
    return `the batch holding ${carrier} in ${segment.path} starts at ${found.batch.header.baseOffset}`;
  });
  return firstRecordAtOrAfter(found.batch, found.batch.header.maxTimestamp);
}

/** Decodes one batch (ListOffsets only, never the fetch path) for its first record at or after `targetMs`. */
function firstRecordAtOrAfter(batch: LoadedBatch, targetMs: bigint): TimestampAndOffset {
  const { header } = batch;
  if ((header.attributes & logAppendTimeAttribute) !== 0) {
    return { offset: header.baseOffset, timestamp: header.maxTimestamp };
  }
  for (const record of decodeBatchRecords(batch.buffer, header)) {
    if (record.timestamp >= targetMs) return { offset: record.offset, timestamp: record.timestamp };
  }
  // The header's max timestamp promised a record; a producer that lied gets Kafka's older answer.
  return { offset: lastOffsetOf(header), timestamp: header.maxTimestamp };
}
