/**
 * The storage engine of one partition: a directory of segments, appended to
 * through the node's group commit (write-pipeline.ts, sync-scheduler.ts),
 * read as slices of segment files (segment-reads.ts), recovered on open
 * (log-recovery.ts).
 *
 * Offsets are assigned synchronously in append, so offset order is call
 * order; so is the order in which appends check and update the producer
 * state (producer-state.ts). Readers see only bytes already in the file.
 * Truncation, retention and close take the log's lock alone, so no read sees
 * a file shrink or close under it; appends are refused while truncation or
 * close runs.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { assignBatchOffset, type BatchHeader, batchHeaderBytes } from "../protocol/record-batch.ts";
import {
  CheckpointFile,
  readFileIfPresent,
  removeFiles,
  syncDirectory,
  writeFileDurably,
} from "./durable-file.ts";
import { assertInvariant } from "./invariant.ts";
import type { EpochEntry, LeaderEpochCache } from "./leader-epoch-cache.ts";
import { checkLogConfig, type LogConfig } from "./log-config.ts";
import {
  loadHighWatermark,
  loadLeaderEpochs,
  reconcileLeaderEpochs,
  recoverSegments,
  serializeHighWatermark,
} from "./log-recovery.ts";
import { PartitionProducers } from "./partition-producers.ts";
import {
  defaultProducerStateSettings,
  type ProducedBatchesVerdict,
  ProducerBatchRefusedError,
  type ProducerEntry,
  type ProducerStateSettings,
} from "./producer-state.ts";
import { ReadWriteLock } from "./read-write-lock.ts";
import { checkReplicatedBatches } from "./replicated-batches.ts";
import { Segment } from "./segment.ts";
import {
  cleanShutdownFileName,
  highWatermarkFileName,
  leaderEpochCheckpointFileName,
} from "./segment-files.ts";
import { findMaxTimestamp, findTimestamp, readSlice, type TimestampAndOffset } from "./segment-reads.ts";
import { StorageBusyError, type SyncScheduler } from "./sync-scheduler.ts";
import { checkBatchesTile, WritePipeline, type WriteRun } from "./write-pipeline.ts";

export type { TimestampAndOffset } from "./segment-reads.ts";

/**
 * Largest slice one read returns, whatever maxBytes asks: a read is a buffer
 * in memory, not a sendfile. A single batch above it is still returned whole
 * when `atLeastOneBatch` (batches are bounded by storedBatchBytesMax).
 */
export const readBytesMax = 64 * 1024 * 1024;
/** A max-timestamp lookup racing appends retries this often before giving up. */
const lookupAttemptsMax = 16;

export interface PartitionLogOptions {
  directory: string;
  config: LogConfig;
  sync: SyncScheduler;
  logger: Logger;
  nowMs?: () => number;
  /** Bounds of the idempotent producers' state; Kafka's defaults when left out. */
  producerState?: Partial<ProducerStateSettings>;
}

export interface AppendResult {
  baseOffset: bigint;
  lastOffset: bigint;
  /** Resolves once these bytes and every earlier append are durable per the fsync policy. */
  durable: Promise<void>;
  /**
   * The leader's append repeated batches its producer already wrote: nothing
   * was written, and the offsets are those of the first attempt.
   */
  duplicate: boolean;
}

export type ReadResult = { records: Buffer } | { error: "offset-out-of-range" };

type LogState = "open" | "truncating" | "closing" | "closed";

export class PartitionLog {
  private state: LogState = "open";
  private failure: Error | null = null;
  private readonly writes: WritePipeline;
  private readonly lock = new ReadWriteLock();
  /** Seals, index writes and checkpoint writes in flight: close and truncation wait for them. */
  private readonly background = new Set<Promise<void>>();
  private readonly epochCheckpoint: CheckpointFile<string>;
  private readonly highWatermarkCheckpoint: CheckpointFile<bigint>;
  private highWatermarkRequested: bigint;
  private highWatermarkDurable: bigint;

  get config(): LogConfig {
    return this.logConfig;
  }

  /**
   * A topic's configs changed (IncrementalAlterConfigs): retention and rolling
   * follow from the next check on. The index interval stays, since the
   * segments' sparse indexes were built with it and reads scan by it.
   */
  reconfigure(config: LogConfig): string | null {
    const next = { ...config, indexIntervalBytes: this.logConfig.indexIntervalBytes };
    const problem = checkLogConfig(next);
    if (problem === null) this.logConfig = Object.freeze(next);
    return problem;
  }

  private constructor(
    readonly directory: string,
    private logConfig: LogConfig,
    private readonly sync: SyncScheduler,
    private readonly logger: Logger,
    private readonly nowMs: () => number,
    private segments: Segment[],
    private readonly epochs: LeaderEpochCache,
    highWatermark: bigint,
    private readonly producers: PartitionProducers,
  ) {
    this.writes = new WritePipeline(sync, this.logEndOffset, (error) => this.fail(error));
    this.highWatermarkRequested = highWatermark;
    this.highWatermarkDurable = highWatermark;
    this.epochCheckpoint = new CheckpointFile(
      path.join(directory, leaderEpochCheckpointFileName),
      () => epochs.serialize(),
      (text) => text,
    );
    this.highWatermarkCheckpoint = new CheckpointFile(
      path.join(directory, highWatermarkFileName),
      () => this.highWatermarkRequested,
      serializeHighWatermark,
      (offset) => {
        this.highWatermarkDurable = offset;
      },
    );
  }

  /** Creates the directory if missing and recovers what a previous run left (see log-recovery.ts). */
  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    const { directory, config, logger } = options;
    const problem = checkLogConfig(config);
    if (problem !== null) throw new RangeError(`log config of ${directory}: ${problem}`);
    const nowMs = options.nowMs ?? Date.now;
    await mkdir(directory, { recursive: true });
    const cleanMarker = path.join(directory, cleanShutdownFileName);
    const clean = (await readFileIfPresent(cleanMarker)) !== null;
    const indexIntervalBytes = config.indexIntervalBytes;
    const recovered = await recoverSegments({ directory, indexIntervalBytes, clean, nowMs: nowMs(), logger });
    const { segments } = recovered;
    try {
      if (segments.length === 0) {
        const first = Segment.create(directory, 0n, indexIntervalBytes);
        segments.push(first);
        await first.handle;
      }
      const startOffset = segments[0]!.baseOffset;
      const endOffset = segments[segments.length - 1]!.nextOffset;
      const epochs = await loadLeaderEpochs(directory, logger);
      const epochsChanged = reconcileLeaderEpochs(
        epochs,
        recovered.epochStarts,
        { startOffset, endOffset },
        logger,
      );
      const checkpointed = await loadHighWatermark(directory, logger);
      const highWatermark = clampOffset(checkpointed, startOffset, endOffset);
      const producers = await PartitionProducers.open({
        directory,
        settings: { ...defaultProducerStateSettings, ...options.producerState },
        segments,
        log: { startOffset, endOffset },
        cleanShutdown: clean,
        nowMs: nowMs(),
        logger,
      });
      const log = new PartitionLog(
        directory,
        config,
        options.sync,
        logger,
        nowMs,
        segments,
        epochs,
        highWatermark,
        producers,
      );
      // Before any rebuilt index file below: a segment with index files is not scanned for epochs again.
      if (epochsChanged) await log.epochCheckpoint.write();
      // A checkpoint past the recovered end would, after another crash, cover records appended there next.
      if (checkpointed > highWatermark) await log.highWatermarkCheckpoint.write();
      for (const segment of segments.slice(0, -1)) {
        segment.sealed = true;
        if (!segment.indexFilesCurrent) log.track(segment.writeIndexFiles(), "write rebuilt index files");
      }
      // The active segment changes from now on; its index files are rewritten when it rolls or closes.
      await log.active.removeIndexFiles();
      // From here on a crash is unclean: the marker must be gone before the first append.
      if (clean && (await removeFiles([cleanMarker]))) await syncDirectory(directory);
      logger.info(
        {
          logStartOffset: String(startOffset),
          logEndOffset: String(endOffset),
          segments: segments.length,
          cleanShutdown: clean,
        },
        "partition log opened",
      );
      return log;
    } catch (error) {
      await Promise.all(segments.map((segment) => segment.close()));
      throw error;
    }
  }

  get logStartOffset(): bigint {
    return this.segments[0]!.baseOffset;
  }

  /** The next offset to assign. */
  get logEndOffset(): bigint {
    return this.active.nextOffset;
  }

  /** End of what the fsync policy counts as durable: what may be acknowledged. */
  get durableEndOffset(): bigint {
    return this.writes.durableEndOffset;
  }

  get checkpointedHighWatermark(): bigint {
    return this.highWatermarkDurable;
  }

  get leaderEpochs(): readonly EpochEntry[] {
    return this.epochs.all;
  }

  get segmentBaseOffsets(): bigint[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  get sizeBytes(): number {
    return this.segments.reduce((total, segment) => total + segment.sizeBytes, 0);
  }

  /** The idempotent producer's state here, if this partition knows it. */
  producerState(producerId: bigint): ProducerEntry | undefined {
    return this.producers.table.get(producerId);
  }

  /** How many producers this partition keeps state for. */
  get producerCount(): number {
    return this.producers.table.size;
  }

  /** The offsets of the producer state snapshot files on disk, ascending. */
  get producerSnapshotOffsets(): readonly bigint[] {
    return this.producers.snapshots.all;
  }

  /**
   * What the leader's append would make of these produced batches, as the
   * producer state stands now (it changes nothing): append them, answer a
   * retry with its first attempt's offsets, or refuse them.
   */
  checkProducedBatches(batches: readonly BatchHeader[]): ProducedBatchesVerdict {
    return this.producers.table.checkProduced(batches);
  }

  /** Resolves once everything up to `lastOffset` is durable, as an append's `durable` does. */
  durableThrough(lastOffset: bigint): Promise<void> {
    if (lastOffset < this.writes.durableEndOffset) return Promise.resolve();
    // Offsets below the log end were queued by earlier appends, all of which this waits for.
    return this.writes.earlierAppendsDurable();
  }

  /** Backpressure for appends: resolves once `bytes` fit the group commit's queue. */
  waitForAppendRoom(bytes: number): Promise<void> {
    return this.sync.waitForRoom(bytes, 2);
  }

  /**
   * The leader's append. Assigns offsets in place (synchronously, so
   * ordering is the call order) and queues the bytes; `records` must stay
   * untouched until `durable` settles. `batches` must be
   * validateProducedBatches(records). Batches of idempotent producers are
   * checked against the producer state first (checkProducedBatches): a
   * retry is answered with its first attempt's offsets and `duplicate`,
   * nothing written; a refusal throws ProducerBatchRefusedError. Throws
   * StorageBusyError, before assigning anything, when the group commit's
   * queue is full, and an Error when the log is closed, truncating or failed.
   */
  append(records: Buffer, batches: BatchHeader[], leaderEpoch: number): AppendResult {
    this.assertAppendable();
    checkBatchesTile(records, batches);
    const latestEpoch = this.epochs.latestEpoch;
    const epochOk = leaderEpoch < 0 || latestEpoch === null || leaderEpoch >= latestEpoch;
    assertInvariant(epochOk, "leader-epochs-monotonic", () => {
      return `append with leader epoch ${leaderEpoch} after epoch ${latestEpoch} in ${this.directory}`;
    });
    const verdict = this.producers.table.checkProduced(batches);
    if (verdict.kind === "refused") throw new ProducerBatchRefusedError(verdict.problem, verdict.detail);
    if (verdict.kind === "duplicate") {
      const { firstOffset, lastOffset } = verdict;
      return {
        baseOffset: firstOffset,
        lastOffset,
        durable: this.durableThrough(lastOffset),
        duplicate: true,
      };
    }
    this.checkRoom(records.length);
    if (leaderEpoch >= 0) this.recordEpochStart(leaderEpoch, this.logEndOffset);
    return this.place(records, batches, leaderEpoch);
  }

  /**
   * The follower's append (Kafka's appendAsFollower): batches exactly as the
   * leader stored them, kept byte for byte. `batches` are their headers as
   * read from `records` (readReplicatedBatches), at least one: an empty
   * fetch is no append. Throws, with nothing
   * written: UnexpectedAppendOffsetError when the first batch does not start
   * at the log end, InvalidReplicatedBatchError when a batch is damaged
   * (CRC, length, count), not contiguous with the one before, or of an older
   * leader epoch than the log holds; StorageBusyError and Error as `append`.
   * Each new leader epoch is recorded at the base offset of its first batch,
   * and each batch of an idempotent producer updates its state unchecked, so
   * that this replica can lead with the state the leader had.
   */
  appendAsFollower(records: Buffer, batches: readonly BatchHeader[]): AppendResult {
    this.assertAppendable();
    const logEndOffset = this.logEndOffset;
    const latestEpochWithRecords = this.epochs.latestEpochBefore(logEndOffset);
    checkReplicatedBatches(records, batches, {
      directory: this.directory,
      logEndOffset,
      latestEpochWithRecords,
    });
    this.checkRoom(records.length);
    let epochsChanged = false;
    for (const { partitionLeaderEpoch, baseOffset } of batches) {
      if (partitionLeaderEpoch < 0) continue;
      if (this.epochs.assign(partitionLeaderEpoch, baseOffset)) epochsChanged = true;
    }
    if (epochsChanged) this.writeEpochCheckpoint();
    return this.place(records, batches, null);
  }

  /**
   * Whole batches from the one that contains `fetchOffset`, stopping before a
   * batch whose last offset reaches `maxOffsetExclusive`, within `maxBytes`
   * (or the first batch alone when it is larger and `atLeastOneBatch`, as
   * KIP-74). One segment per read: a slice of the file, never decoded.
   */
  read(
    fetchOffset: bigint,
    maxBytes: number,
    maxOffsetExclusive: bigint,
    atLeastOneBatch: boolean,
  ): Promise<ReadResult> {
    return this.lock.read(async () => {
      this.assertReadable();
      if (fetchOffset < this.logStartOffset || fetchOffset > this.logEndOffset) {
        return { error: "offset-out-of-range" };
      }
      const budgetBytes = Math.min(Math.max(0, maxBytes), readBytesMax);
      const request = { fetchOffset, budgetBytes, maxOffsetExclusive, atLeastOneBatch };
      const records = await readSlice(this.segmentFor(fetchOffset), request, this.config.indexIntervalBytes);
      return { records };
    });
  }

  /** First record whose timestamp >= target (ListOffsets by timestamp), or null. */
  offsetForTimestamp(targetMs: bigint): Promise<TimestampAndOffset | null> {
    return this.lock.read(async () => {
      this.assertReadable();
      await this.writes.allWritten();
      for (const segment of this.segments) {
        const found = await findTimestamp(segment, targetMs, this.config.indexIntervalBytes);
        if (found !== null) return found;
      }
      return null;
    });
  }

  /** The record with the largest timestamp (ListOffsets MAX_TIMESTAMP), or null when the log is empty. */
  maxTimestamp(): Promise<TimestampAndOffset | null> {
    return this.lock.read(async () => {
      this.assertReadable();
      // The index counts a batch from the moment it is queued; waiting for the writes again catches up.
      for (let attempt = 0; attempt < lookupAttemptsMax; attempt++) {
        await this.writes.allWritten();
        let best: Segment | null = null;
        for (const segment of this.segments) {
          if (segment.writtenNextOffset === segment.baseOffset) continue;
          if (best === null || segment.index.maxTimestamp > best.index.maxTimestamp) best = segment;
        }
        if (best === null) return null;
        const found = await findMaxTimestamp(best, this.config.indexIntervalBytes);
        if (found !== null) return found;
      }
      throw new Error(`max timestamp of ${this.directory}: appends kept outrunning the lookup`);
    });
  }

  /**
   * Drops everything at and after `offset`: the whole batch holding it too.
   * At or below the log start, empties the log and restarts it at `offset`.
   * The leader epochs that started in the dropped part are forgotten and the
   * high watermark comes down to the new end, both durably before this
   * resolves: a follower appends other records there next, and a checkpoint
   * that still named the old ones would describe those after a crash.
   * At or past the end only an epoch entry at the end itself goes, as in
   * Kafka's truncateTo: this node led in that epoch and appended nothing, and
   * the new leader's log may not hold the epoch at all.
   */
  truncateTo(offset: bigint): Promise<void> {
    if (offset < 0n) throw new RangeError(`cannot truncate ${this.directory} to negative offset ${offset}`);
    return this.lock.write(async () => {
      this.assertAppendable();
      if (offset >= this.logEndOffset) {
        if (this.epochs.truncateFromEnd(this.logEndOffset)) await this.epochCheckpoint.write();
        return;
      }
      await this.truncate(offset, offset <= this.logStartOffset);
    });
  }

  /**
   * Empties the log and restarts it at `offset`, which may lie past its end
   * (Kafka's truncateFullyAndStartAt): a follower whose whole log is below
   * the leader's log start starts over where the leader's log starts.
   */
  truncateFullyAndStartAt(offset: bigint): Promise<void> {
    if (offset < 0n) throw new RangeError(`cannot restart ${this.directory} at negative offset ${offset}`);
    return this.lock.write(async () => {
      this.assertAppendable();
      await this.truncate(offset, true);
    });
  }

  /** Resolves once the seals, index writes and producer snapshots started so far are done. */
  backgroundSettled(): Promise<void> {
    return this.settleBackground();
  }

  /** Resolves once every append made so far is in the file, where reads see it. */
  appendsWritten(): Promise<void> {
    return this.writes.allWritten();
  }

  /** Under the write lock: drops from `offset` on, or everything when `fully`, and restarts there. */
  private async truncate(offset: bigint, fully: boolean): Promise<void> {
    const before = this.logEndOffset;
    this.state = "truncating";
    try {
      await this.settle();
      if (fully) await this.truncateFully(offset);
      else await this.truncateInside(offset);
      const end = this.logEndOffset;
      // An empty log restarted past its old end holds nothing that is not durable.
      if (fully) this.writes.restartedAt(end);
      else this.writes.truncatedTo(end);
      // Kafka clears the epoch history on a full truncation: none of it describes the restarted log.
      const epochsChanged = fully ? this.epochs.clear() : this.epochs.truncateFromEnd(end);
      await this.producers.truncated({
        fully,
        segments: this.segments,
        log: { startOffset: this.logStartOffset, endOffset: end },
        nowMs: this.nowMs(),
      });
      const highWatermark = clampOffset(this.highWatermarkRequested, this.logStartOffset, end);
      const highWatermarkChanged = highWatermark !== this.highWatermarkRequested;
      this.highWatermarkRequested = highWatermark;
      if (epochsChanged) await this.epochCheckpoint.write();
      if (highWatermarkChanged) await this.highWatermarkCheckpoint.write();
      this.logger.info({ from: String(before), to: String(end) }, "truncated the log");
    } finally {
      this.state = "open";
    }
  }

  /**
   * Deletes whole sealed segments from the start by retention.ms and
   * retention.bytes, never the active one, with the producer snapshots
   * before the new log start; and forgets the producers whose
   * producer.id.expiration.ms has passed.
   */
  applyRetention(nowMs: number): Promise<void> {
    return this.lock.write(async () => {
      if (this.state !== "open") return;
      this.producers.expire(nowMs);
      // A segment whose rebuilt index is still being written is not deleted under that write.
      await this.settleBackground();
      const { retentionBytesMax, retentionMsMax } = this.config;
      let excessBytes = retentionBytesMax < 0 ? 0 : this.sizeBytes - retentionBytesMax;
      const expiredBefore = BigInt(Math.floor(nowMs) - retentionMsMax);
      let count = 0;
      for (const segment of this.segments.slice(0, -1)) {
        if (!segment.sealed) break;
        const expired = retentionMsMax >= 0 && (await newestTimestampOf(segment)) < expiredBefore;
        const overSize = retentionBytesMax >= 0 && excessBytes >= segment.sizeBytes;
        if (!expired && !overSize) break;
        excessBytes -= segment.sizeBytes;
        count += 1;
      }
      if (count === 0) return;
      const deleted = this.segments.slice(0, count);
      this.segments = this.segments.slice(count);
      // Oldest first, so that a crash half-way leaves a log that still starts somewhere.
      for (const segment of deleted) await segment.delete();
      await syncDirectory(this.directory);
      await this.producers.startMoved(this.logStartOffset);
      if (this.epochs.truncateFromStart(this.logStartOffset)) this.writeEpochCheckpoint();
      const baseOffsets = deleted.map((segment) => String(segment.baseOffset));
      this.logger.info(
        { segments: baseOffsets, logStartOffset: String(this.logStartOffset) },
        "retention deleted segments",
      );
    });
  }

  /** Records that `epoch` starts at `startOffset` (Kafka's assign); the checkpoint is written in the background. */
  recordEpochStart(epoch: number, startOffset: bigint): void {
    if (this.epochs.assign(epoch, startOffset)) this.writeEpochCheckpoint();
  }

  /** OffsetForLeaderEpoch: the end offset of `epoch` and the largest epoch at or below it; (-1, -1) when unknown. */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: bigint } {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset);
  }

  /** Resolves once the leader-epoch checkpoint on disk matches the cache. */
  flushLeaderEpochCheckpoint(): Promise<void> {
    return this.epochCheckpoint.write();
  }

  /**
   * Writes the high watermark durably, clamped to the log as recovery clamps
   * it (a follower's comes from its leader and may be ahead of what it has
   * fetched; Kafka's updateHighWatermark clamps likewise);
   * `checkpointedHighWatermark` follows once it is written.
   */
  checkpointHighWatermark(offset: bigint): Promise<void> {
    if (offset < 0n) throw new RangeError(`high watermark ${offset} of ${this.directory} is negative`);
    this.highWatermarkRequested = clampOffset(offset, this.logStartOffset, this.logEndOffset);
    return this.highWatermarkCheckpoint.write();
  }

  /** Flushes, fsyncs, writes the indexes and the clean-shutdown marker, closes the files. */
  close(): Promise<void> {
    return this.lock.write(async () => {
      if (this.state === "closed") return;
      this.state = "closing";
      try {
        await this.settle();
        for (const segment of this.segments) {
          await this.sync.syncNow(segment).catch((error: unknown) => this.fail(error));
          this.sync.forget(segment);
          if (!segment.indexFilesCurrent) await segment.writeIndexFiles();
        }
        await this.epochCheckpoint.settled();
        await this.highWatermarkCheckpoint.settled();
        // Without the marker the next open rescans the active segment: the right thing after a failed write.
        if (this.failure === null) {
          await this.producers.closing(this.logEndOffset);
          await writeFileDurably(path.join(this.directory, cleanShutdownFileName), "");
        }
      } finally {
        await Promise.all(this.segments.map((segment) => segment.close()));
        this.state = "closed";
      }
      this.logger.info({ logEndOffset: String(this.logEndOffset) }, "partition log closed");
    });
  }

  /**
   * What a crash leaves behind, for fault injection and tests: writes not yet
   * started are dropped (their `durable` rejects), the ones in flight land,
   * and there is no sync, no index write for the active segment and no
   * clean-shutdown marker.
   */
  abandon(): Promise<void> {
    return this.lock.write(async () => {
      if (this.state === "closed") return;
      this.state = "closing";
      for (const segment of this.segments) await this.sync.discard(segment);
      await this.writes.allDurable();
      await this.settleBackground();
      await Promise.all(this.segments.map((segment) => segment.close()));
      this.state = "closed";
    });
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Two writes at most: an append may end one segment and start the next. */
  private checkRoom(bytes: number): void {
    if (!this.sync.hasRoomFor(bytes, 2)) {
      throw new StorageBusyError(`group commit queue is full; ${bytes} bytes for ${this.directory} refused`);
    }
  }

  /**
   * What both appends share once their batches are accepted: segment rolls,
   * index entries, one write run per segment touched, the group commit, the
   * producer state. `stampEpoch` is the leader's: offsets are assigned and
   * the epoch stamped in place. Null keeps the offsets and epochs the batches
   * carry (a follower's, already checked to continue the log).
   */
  private place(records: Buffer, batches: readonly BatchHeader[], stampEpoch: number | null): AppendResult {
    const nowMs = this.nowMs();
    const filled: Segment[] = [];
    let active = this.active;
    if (
      !active.isEmpty &&
      active.rollStartMs !== null &&
      nowMs - active.rollStartMs > this.config.segmentMsMax
    ) {
      filled.push(active);
      this.snapshotProducers(active.nextOffset);
      active = this.roll("segment.ms");
    }
    const baseOffset = active.nextOffset;
    const runs: WriteRun[] = [];
    let run: WriteRun = {
      segment: active,
      from: 0,
      to: 0,
      position: active.sizeBytes,
      nextOffset: baseOffset,
    };
    for (const header of batches) {
      const offset = active.nextOffset;
      const lastOffset = offset + BigInt(header.lastOffsetDelta);
      const full = active.sizeBytes + header.sizeBytes > this.config.segmentBytesMax;
      // A batch larger than a segment goes alone into an empty one rather than be refused.
      if (!active.isEmpty && (full || !active.index.canHold(lastOffset))) {
        if (run.to > run.from) runs.push(run);
        filled.push(active);
        this.snapshotProducers(active.nextOffset);
        active = this.roll("segment.bytes");
        run = {
          segment: active,
          from: header.position,
          to: header.position,
          position: 0,
          nextOffset: offset,
        };
      }
      if (stampEpoch !== null) assignBatchOffset(records, header, offset, stampEpoch);
      assertInvariant(header.baseOffset === offset, "offsets-contiguous", () => {
        return `batch at ${header.position} carries offset ${header.baseOffset}, the log is at ${offset}`;
      });
      this.producers.table.apply(header);
      active.index.addBatch(active.sizeBytes, header.sizeBytes, offset, header.maxTimestamp);
      active.rollStartMs ??= nowMs;
      active.sizeBytes += header.sizeBytes;
      active.nextOffset = lastOffset + 1n;
      run.to = header.position + header.sizeBytes;
      run.nextOffset = active.nextOffset;
    }
    runs.push(run);
    const durable = this.writes.submit(records, runs, active.nextOffset);
    // Only now: a seal flushes what is queued for its segment, and this append's bytes for it just were.
    for (const segment of filled) this.track(this.seal(segment), "seal segment");
    return { baseOffset, lastOffset: active.nextOffset - 1n, durable, duplicate: false };
  }

  /**
   * At a roll, the producer state as of the new segment's base offset (every
   * batch before it applied, none after), as Kafka snapshots at each roll:
   * recovery then reads at most the segments after the latest snapshot. Taken
   * now, written in the background.
   */
  private snapshotProducers(offset: bigint): void {
    this.track(this.producers.snapshotAt(offset), "write producer snapshot");
  }

  /** The segment that holds `offset`: the last one starting at or before it. */
  private segmentFor(offset: bigint): Segment {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return this.segments[low]!;
  }

  private assertAppendable(): void {
    if (this.state !== "open") {
      throw new Error(`log ${this.directory} is ${this.state}: no append or truncation`);
    }
    if (this.failure !== null) {
      throw new Error(`log ${this.directory} failed to write: ${this.failure.message}`);
    }
  }

  private assertReadable(): void {
    if (this.state === "closed") throw new Error(`log ${this.directory} is closed`);
  }

  /** A failed write leaves a hole behind assigned offsets: no append is safe until a reopen recovers. */
  private fail(error: unknown): void {
    if (this.failure !== null) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    // Writes an abandon discards fail on purpose.
    if (this.state === "closing") return;
    this.logger.error({ err: this.failure }, "write to the log failed; it refuses appends until reopened");
  }

  /** Starts the next segment; the caller seals the previous one once its writes are queued. */
  private roll(reason: string): Segment {
    const previous = this.active;
    const next = Segment.create(this.directory, previous.nextOffset, this.config.indexIntervalBytes);
    this.segments.push(next);
    this.logger.info({ baseOffset: String(next.baseOffset), reason }, "rolled to a new segment");
    return next;
  }

  /**
   * After a roll: the old segment is synced whatever the policy (as Kafka
   * flushes on roll), then indexed on disk. Recovery trusts a segment with
   * index files and looks for epochs lost from the checkpoint only in the
   * others, so the epochs of its batches are made durable first.
   */
  private async seal(segment: Segment): Promise<void> {
    await this.sync.syncNow(segment);
    this.sync.forget(segment);
    await this.epochCheckpoint.settled();
    await segment.writeIndexFiles();
    segment.sealed = true;
  }

  private track(task: Promise<void>, what: string): void {
    const tracked = task.then(
      () => undefined,
      (error: unknown) => this.logger.error({ err: error, task: what }, "background storage task failed"),
    );
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  private writeEpochCheckpoint(): void {
    this.track(this.epochCheckpoint.write(), "write leader-epoch checkpoint");
  }

  private async settleBackground(): Promise<void> {
    while (this.background.size > 0) await Promise.all(this.background);
  }

  /** Every queued write done and acknowledged, every background task finished. */
  private async settle(): Promise<void> {
    for (const segment of this.segments) {
      await this.sync.flush(segment).catch((error: unknown) => this.fail(error));
    }
    await this.writes.allDurable();
    await this.writes.allWritten();
    await this.settleBackground();
  }

  private async truncateFully(offset: bigint): Promise<void> {
    for (const segment of [...this.segments].reverse()) {
      this.sync.forget(segment);
      await segment.delete();
    }
    await syncDirectory(this.directory);
    const fresh = Segment.create(this.directory, offset, this.config.indexIntervalBytes);
    await fresh.handle;
    this.segments = [fresh];
  }

  private async truncateInside(offset: bigint): Promise<void> {
    let removed = false;
    // Newest first, so that a crash half-way leaves a contiguous prefix.
    while (this.active.baseOffset >= offset) {
      const segment = this.segments.pop()!;
      this.sync.forget(segment);
      await segment.delete();
      removed = true;
    }
    if (removed) await syncDirectory(this.directory);
    const segment = this.active;
    await segment.removeIndexFiles();
    segment.sealed = false;
    if (offset >= segment.nextOffset) return;
    const found = await segment.seek(offset, this.config.indexIntervalBytes + batchHeaderBytes);
    assertInvariant(
      found !== null,
      "written-offsets-readable",
      () => `${offset} not found in ${segment.path}`,
    );
    const position = found.batch.filePosition;
    const newEnd = found.batch.header.baseOffset;
    const file = await segment.handle;
    await file.truncate(position);
    await file.datasync();
    const outcome = await segment.rebuildIndex(position, this.config.indexIntervalBytes);
    assertInvariant(outcome.nextOffset === newEnd, "truncation-at-batch-boundary", () => {
      return `rescan of ${segment.path} ends at ${outcome.nextOffset}, expected ${newEnd}`;
    });
    segment.sizeBytes = position;
    segment.writtenBytes = position;
    segment.nextOffset = newEnd;
    segment.writtenNextOffset = newEnd;
    if (segment.isEmpty) segment.rollStartMs = null;
  }
}

/**
 * A segment's age for retention.ms: its largest record timestamp, or, when
 * its records carry none (-1), the file's modification time, as Kafka does.
 */
async function newestTimestampOf(segment: Segment): Promise<bigint> {
  if (segment.index.maxTimestamp >= 0n) return segment.index.maxTimestamp;
  const { mtimeMs } = await (await segment.handle).stat();
  return BigInt(Math.floor(mtimeMs));
}

function clampOffset(offset: bigint, low: bigint, high: bigint): bigint {
  if (offset < low) return low;
  if (offset > high) return high;
  return offset;
}
