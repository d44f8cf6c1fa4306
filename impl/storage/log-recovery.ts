/**
 * What PartitionLog.open finds on disk. Without a clean-shutdown marker the
 * active (last) segment is scanned batch by batch with CRCs and cut after its
 * last valid batch. Sealed segments (and, after a clean shutdown, the active
 * one) load their index files and scan only past the last entry, which proves
 * the entry and catches a damaged tail; missing or inconsistent index files
 * mean a full scan. A cut inside a sealed segment, or a segment that does not
 * continue its predecessor's offsets, ends the log there: the segments after
 * it are deleted, because a log with a hole cannot be served.
 */
import path from "node:path";
import type { Logger } from "pino";
import { readFileIfPresent, removeFiles, syncDirectory } from "./durable-file.ts";
import { type EpochEntry, epochEntriesMax, LeaderEpochCache, noteEpochStart } from "./leader-epoch-cache.ts";
import { Segment } from "./segment.ts";
import {
  highWatermarkFileName,
  leaderEpochCheckpointFileName,
  listPartitionDirectory,
  logFileSuffix,
  offsetIndexFileSuffix,
  segmentFileName,
  timeIndexFileSuffix,
} from "./segment-files.ts";

const highWatermarkVersion = "0";

export async function recoverSegments(options: {
  directory: string;
  indexIntervalBytes: number;
  clean: boolean;
  nowMs: number;
  logger: Logger;
}): Promise<{ segments: Segment[]; epochStarts: EpochEntry[] }> {
  const { directory, logger, clean } = options;
  const { segmentBaseOffsets, leftoverNames } = await listPartitionDirectory(directory);
  let directoryChanged = false;
  if (leftoverNames.length > 0) {
    await removeFiles(leftoverNames.map((name) => path.join(directory, name)));
    logger.info({ files: leftoverNames }, "removed leftover index and temporary files");
    directoryChanged = true;
  }
  const segments: Segment[] = [];
  const epochStarts: EpochEntry[] = [];
  let droppedFrom = segmentBaseOffsets.length;
  try {
    for (const [position, baseOffset] of segmentBaseOffsets.entries()) {
      const previous = segments[segments.length - 1];
      if (previous !== undefined && previous.nextOffset !== baseOffset) {
        logger.warn(
          {
            file: segmentFileName(baseOffset, logFileSuffix),
            expectedBaseOffset: String(previous.nextOffset),
          },
          "segment does not continue the log; it and every later segment are deleted",
        );
        droppedFrom = position;
        break;
      }
      const isLast = position === segmentBaseOffsets.length - 1;
      const trustIndexFiles = clean || !isLast;
      const loaded = await Segment.load(directory, baseOffset, {
        indexIntervalBytes: options.indexIntervalBytes,
        trustIndexFiles,
        nowMs: options.nowMs,
      });
      const { segment, cut, indexProblem } = loaded;
      segments.push(segment);
      for (const start of loaded.epochStarts) {
        noteEpochStart(epochStarts, { partitionLeaderEpoch: start.epoch, baseOffset: start.startOffset });
      }
      if (trustIndexFiles && indexProblem !== null) {
        logger.info(
          { file: segment.path, reason: indexProblem },
          "rebuilt the segment's index by scanning it",
        );
      }
      if (cut !== null) {
        logger.warn(cut, "cut the log after its last valid batch");
        if (!isLast) {
          droppedFrom = position + 1;
          break;
        }
      }
    }
  } catch (error) {
    await Promise.all(segments.map((segment) => segment.close()));
    throw error;
  }
  // Newest first, so that a crash half-way still leaves a contiguous prefix.
  for (const baseOffset of segmentBaseOffsets.slice(droppedFrom).reverse()) {
    const names = [logFileSuffix, offsetIndexFileSuffix, timeIndexFileSuffix] as const;
    const files = names.map((suffix) => path.join(directory, segmentFileName(baseOffset, suffix)));
    logger.warn({ file: files[0] }, "deleted a segment that lies past the end of the recovered log");
    await removeFiles(files);
    directoryChanged = true;
  }
  if (directoryChanged) await syncDirectory(directory);
  return { segments, epochStarts };
}

export async function loadLeaderEpochs(directory: string, logger: Logger): Promise<LeaderEpochCache> {
  const filePath = path.join(directory, leaderEpochCheckpointFileName);
  const text = await readFileIfPresent(filePath);
  if (text === null) return new LeaderEpochCache();
  const parsed = LeaderEpochCache.parse(text.toString("utf8"));
  if (typeof parsed === "string") {
    logger.warn({ file: filePath, reason: parsed }, "ignored an unreadable leader-epoch checkpoint");
    return new LeaderEpochCache();
  }
  return parsed;
}

/**
 * Makes the leader-epoch cache describe the recovered log: entries at or past
 * its end go (their records were cut), entries before its start are folded
 * into the one in force there, and an epoch that the scanned batches start
 * but the checkpoint lacks is added where its first scanned batch is. The
 * checkpoint is written behind the appends that change it, so a crash can
 * keep records of a new epoch and lose its entry; PartitionLog writes a
 * segment's index files only once the epoch checkpoint is durable, so such
 * records lie in a segment without index files, which recovery scans whole.
 * Returns whether the cache changed.
 */
export function reconcileLeaderEpochs(
  epochs: LeaderEpochCache,
  scannedStarts: readonly EpochEntry[],
  log: { startOffset: bigint; endOffset: bigint },
  logger: Logger,
): boolean {
  let changed = epochs.truncateFromEnd(log.endOffset);
  const restored: EpochEntry[] = [];
  for (const start of scannedStarts) {
    const latest = epochs.latestEpoch;
    if (latest !== null && start.epoch <= latest) continue;
    // Only a damaged directory gets here; the cache's bound is an invariant, so stop short of it.
    if (epochs.all.length >= epochEntriesMax - 1) break;
    epochs.assign(start.epoch, start.startOffset);
    restored.push(start);
  }
  if (restored.length > 0) {
    changed = true;
    const entries = restored.map((entry) => `${entry.epoch}@${entry.startOffset}`);
    logger.warn({ entries }, "restored leader epochs the checkpoint lacked from the recovered batches");
  }
  return epochs.truncateFromStart(log.startOffset) || changed;
}

export function serializeHighWatermark(offset: bigint): string {
  return `${highWatermarkVersion}\n${offset}\n`;
}

/** The checkpointed high watermark, 0 when there is none or it is unreadable. */
export async function loadHighWatermark(directory: string, logger: Logger): Promise<bigint> {
  const filePath = path.join(directory, highWatermarkFileName);
  const text = await readFileIfPresent(filePath);
  if (text === null) return 0n;
  const [version, offset, rest] = text.toString("utf8").split("\n");
  if (version !== highWatermarkVersion || offset === undefined || !/^\d{1,19}$/.test(offset) || rest !== "") {
    logger.warn({ file: filePath }, "ignored an unreadable high-watermark checkpoint");
    return 0n;
  }
  return BigInt(offset);
}
