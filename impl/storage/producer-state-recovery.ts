/**
 * Rebuilding a partition's producer state from its snapshots and its log
 * (Kafka's rebuildProducerState and truncateAndReload): at open, and after a
 * follower truncates its log. The latest usable snapshot within the log is
 * loaded (a damaged one is deleted and the one before it tried), then every
 * batch after it is applied as it is in the log.
 *
 * A snapshot past the log end describes records the log no longer holds
 * (they were cut by recovery or truncated), and one before the log start
 * describes deleted segments: both are deleted before any append, so that a
 * later append cannot make them look valid again.
 */
import type { Logger } from "pino";
import type { BatchHeader } from "../protocol/record-batch.ts";
import { lastOffsetOf } from "../protocol/record-batch.ts";
import type { ProducerStateTable } from "./producer-state.ts";
import { encodeProducerSnapshot, type ProducerSnapshotFiles } from "./producer-state-snapshot.ts";
import type { Segment } from "./segment.ts";
import { scanChunkBytes } from "./segment-scan.ts";

export interface LogExtent {
  startOffset: bigint;
  endOffset: bigint;
}

/**
 * Applies every batch of `segments` whose base offset lies in [from, to),
 * in offset order, reading headers only. The segments' written bytes must
 * cover `to` (recovery has just scanned them; truncation has settled every write).
 */
export async function scanProducerBatches(
  segments: readonly Segment[],
  from: bigint,
  to: bigint,
  visit: (header: BatchHeader) => void,
): Promise<number> {
  let visited = 0;
  for (const segment of segments) {
    if (segment.writtenNextOffset <= from || segment.baseOffset >= to) continue;
    const start = from > segment.baseOffset ? from : segment.baseOffset;
    const found = await segment.seek(start, scanChunkBytes);
    if (found === null) continue;
    const { cursor } = found;
    let batch = found.batch;
    for (;;) {
      const { header } = batch;
      if (header.baseOffset >= to) break;
      // A batch that starts before `from` is already in the snapshot `from` names.
      if (header.baseOffset >= from) {
        visit(header);
        visited += 1;
      }
      cursor.advance(header.sizeBytes);
      if (cursor.atEnd || lastOffsetOf(header) + 1n >= to) break;
      batch = await segment.readBatch(cursor);
    }
  }
  return visited;
}

/**
 * Makes `table` describe the log [startOffset, endOffset): clears it, loads
 * the latest usable snapshot within that range and applies the batches
 * after it. Producers a snapshot holds whose producer.id.expiration.ms has
 * passed are left out, as Kafka's loadFromSnapshot does. Returns the offset
 * it started reading the log from and how many batches it read.
 */
export async function reloadProducerState(options: {
  table: ProducerStateTable;
  snapshots: ProducerSnapshotFiles;
  segments: readonly Segment[];
  log: LogExtent;
  nowMs: number;
  logger: Logger;
}): Promise<{ readFrom: bigint; batchesRead: number }> {
  const { table, snapshots, log, logger } = options;
  const outside = await snapshots.removeWhere((offset) => offset < log.startOffset || offset > log.endOffset);
  if (outside.length > 0) {
    logger.info(
      { snapshots: outside.map(String), ...extentForLog(log) },
      "deleted producer snapshots outside the log",
    );
  }
  table.clear(log.startOffset);
  let readFrom = log.startOffset;
  for (let latest = snapshots.latest(); latest !== undefined; latest = snapshots.latest()) {
    const entries = await snapshots.read(latest);
    if (typeof entries === "string") {
      logger.warn(
        { file: snapshots.pathOf(latest), reason: entries },
        "deleted an unusable producer snapshot; trying the one before it",
      );
      await snapshots.removeWhere((offset) => offset === latest);
      continue;
    }
    for (const entry of entries) if (!table.isExpired(entry, options.nowMs)) table.load(entry);
    readFrom = latest;
    break;
  }
  table.endOffset = readFrom;
  const batchesRead =
    readFrom < log.endOffset
      ? await scanProducerBatches(options.segments, readFrom, log.endOffset, (header) => table.apply(header))
      : 0;
  table.endOffset = log.endOffset;
  return { readFrom, batchesRead };
}

/**
 * The producer state of a log just recovered at open. Snapshots that belong
 * to no segment are strays of earlier runs (clean closes, recoveries); only
 * the latest of them is kept, as Kafka's removeStraySnapshots does. A log
 * closed cleanly without any snapshot was written before producer state
 * existed: like Kafka on an upgrade, it is taken to hold no producer rather
 * than read whole. When the log had to be read, a snapshot at its end spares
 * the next open from reading it again.
 */
export async function recoverProducerState(options: {
  table: ProducerStateTable;
  snapshots: ProducerSnapshotFiles;
  segments: readonly Segment[];
  log: LogExtent;
  cleanShutdown: boolean;
  nowMs: number;
  logger: Logger;
}): Promise<void> {
  const { table, snapshots, segments, log, logger } = options;
  const segmentBases = new Set(segments.map((segment) => segment.baseOffset));
  const latest = snapshots.latest();
  const strays = await snapshots.removeWhere((offset) => !segmentBases.has(offset) && offset !== latest);
  if (strays.length > 0) logger.info({ snapshots: strays.map(String) }, "deleted stray producer snapshots");
  if (options.cleanShutdown && snapshots.latest() === undefined) {
    table.clear(log.endOffset);
    await snapshots.write(log.endOffset, encodeProducerSnapshot([]));
    logger.info(
      extentForLog(log),
      "no producer snapshot after a clean shutdown: the log holds no producer state",
    );
    return;
  }
  const { readFrom, batchesRead } = await reloadProducerState(options);
  if (batchesRead > 0 && !snapshots.has(log.endOffset)) {
    await snapshots.write(log.endOffset, encodeProducerSnapshot(table.entries()));
  }
  const loaded = { producers: table.size, readFrom: String(readFrom), batchesRead, ...extentForLog(log) };
  // Most partitions (the metadata log among them) never see an idempotent producer: no line for those.
  if (table.size > 0 || batchesRead > 0) logger.info(loaded, "producer state loaded");
  else logger.debug(loaded, "producer state loaded");
}

function extentForLog(log: LogExtent): { logStartOffset: string; logEndOffset: string } {
  return { logStartOffset: String(log.startOffset), logEndOffset: String(log.endOffset) };
}
