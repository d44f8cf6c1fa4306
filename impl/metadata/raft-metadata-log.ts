/**
 * The Raft runtime's log (RaftLog) over the real metadata partition
 * `__chronik_metadata-0`: entries are records of ordinary Kafka batches,
 * stored like any partition (segments, indexes, leader-epoch cache, recovery).
 * The batches are raft-entry-batches.ts's, the same a metadata Fetch carries:
 * every batch has its entries' Raft epoch as its partitionLeaderEpoch, so the
 * partition's leader-epoch cache is the Raft log's epoch starts.
 */
import path from "node:path";
import type { EpochStart } from "../../machines/log-divergence.ts";
import { decodeVoters, type NewRaftEntry, type RaftEntry, type RaftLog } from "../cluster/raft/raft-log.ts";
import type { Logger } from "../log.ts";
import {
  type BatchHeader,
  isBatchProblem,
  isControlBatch,
  readBatchHeader,
} from "../protocol/record-batch.ts";
import { defaultLogConfig } from "../storage/log-config.ts";
import { PartitionLog } from "../storage/partition-log.ts";
import { readReplicatedBatches } from "../storage/replicated-batches.ts";
import type { SyncScheduler } from "../storage/sync-scheduler.ts";
import { metadataTopicName } from "./internal-topics.ts";
import { encodeEntryBatches, entriesOfBatch } from "./raft-entry-batches.ts";

/** How many bytes one partition read takes at a time. */
const readChunkBytes = 1024 * 1024;

function headersOf(records: Buffer): BatchHeader[] {
  const headers = readReplicatedBatches(records);
  if (isBatchProblem(headers)) throw new Error(`metadata log: batch encoding broke: ${headers.detail}`);
  return headers;
}

export class RaftMetadataLog implements RaftLog {
  /** Every voters entry still in the log, ascending: latestVoters is the last. */
  private votersEntries: { offset: number; voters: number[] }[] = [];

  private constructor(private readonly log: PartitionLog) {}

  /** Opens `__chronik_metadata-0` under `dataDir`, as MetadataLog does. */
  static async open(dataDir: string, sync: SyncScheduler, logger: Logger): Promise<RaftMetadataLog> {
    const log = await PartitionLog.open({
      directory: path.join(dataDir, `${metadataTopicName}-0`),
      // Metadata is never deleted by retention: every record is part of the image.
      config: { ...defaultLogConfig, retentionBytesMax: -1, retentionMsMax: -1 },
      sync,
      logger: logger.child({ partition: `${metadataTopicName}-0` }),
    });
    return RaftMetadataLog.over(log);
  }

  /** Over an open partition log (tests choose its config); scans it for the voters entries. */
  static async over(log: PartitionLog): Promise<RaftMetadataLog> {
    const raftLog = new RaftMetadataLog(log);
    await raftLog.scanVoters();
    return raftLog;
  }

  endOffset(): number {
    return Number(this.log.logEndOffset);
  }

  lastEpoch(): number {
    // Truncation drops the cache's epochs that start at or past the new end, so the last one holds the last entry.
    const end = this.log.logEndOffset;
    const epochs = this.log.leaderEpochs;
    for (let i = epochs.length - 1; i >= 0; i--) {
      if (epochs[i]!.startOffset < end) return epochs[i]!.epoch;
    }
    return 0;
  }

  epochStarts(): EpochStart[] {
    const end = this.log.logEndOffset;
    return this.log.leaderEpochs
      .filter((entry) => entry.startOffset < end)
      .map((entry) => ({ epoch: entry.epoch, startOffset: Number(entry.startOffset) }));
  }

  async appendAsLeader(entries: readonly NewRaftEntry[], epoch: number): Promise<RaftEntry[]> {
    if (entries.length === 0) return [];
    // The partition log gives the batches their offsets and epoch; these are where they will land.
    const end = this.endOffset();
    const records = encodeEntryBatches(entries.map((entry, i) => ({ ...entry, offset: end + i, epoch })));
    const { baseOffset, durable } = this.log.append(records, headersOf(records), epoch);
    const written = entries.map((entry, i) => ({
      offset: Number(baseOffset) + i,
      epoch,
      kind: entry.kind,
      payload: entry.payload,
    }));
    this.noteVoters(written);
    await durable;
    return written;
  }

  async appendAsFollower(entries: readonly RaftEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // Throws, with nothing written, when the entries' offsets jump.
    const records = encodeEntryBatches(entries);
    // Throws, with nothing written, unless the first entry is at the log end and epochs never go back.
    const { durable } = this.log.appendAsFollower(records, headersOf(records));
    this.noteVoters(entries);
    await durable;
  }

  async truncateTo(offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`metadata log: cannot truncate to ${offset}`);
    }
    await this.log.truncateTo(BigInt(offset));
    const end = this.endOffset();
    this.votersEntries = this.votersEntries.filter((entry) => entry.offset < end);
  }

  async read(fromOffset: number, maxEntries: number): Promise<RaftEntry[]> {
    const end = this.endOffset();
    if (!Number.isSafeInteger(fromOffset) || fromOffset < 0 || fromOffset > end) {
      throw new RangeError(`metadata log: read at ${fromOffset} but the log ends at ${end}`);
    }
    const entries: RaftEntry[] = [];
    if (maxEntries <= 0) return entries;
    for await (const entry of this.entries(BigInt(fromOffset))) {
      entries.push(entry);
      if (entries.length >= maxEntries) break;
    }
    return entries;
  }

  latestVoters(): number[] | null {
    const latest = this.votersEntries[this.votersEntries.length - 1];
    return latest === undefined ? null : [...latest.voters];
  }

  /**
   * Where the last commit checkpoint stands: every entry below it was
   * committed, so a restart may apply them before hearing from a leader.
   * Kept in the partition's high-watermark file.
   */
  committedOffset(): number {
    return Number(this.log.checkpointedHighWatermark);
  }

  /** Records durably that every entry below `offset` is committed (and applied). */
  checkpointCommitted(offset: number): Promise<void> {
    return this.log.checkpointHighWatermark(BigInt(offset));
  }

  close(): Promise<void> {
    return this.log.close();
  }

  private noteVoters(entries: readonly RaftEntry[]): void {
    for (const entry of entries) {
      if (entry.kind === "voters")
        this.votersEntries.push({ offset: entry.offset, voters: decodeVoters(entry.payload) });
    }
  }

  private async scanVoters(): Promise<void> {
    this.votersEntries = [];
    for await (const entry of this.entries(this.log.logStartOffset, true)) this.noteVoters([entry]);
  }

  /**
   * The durable entries from `fromOffset` on. Reads stop at the durable end:
   * bytes still queued for writing are not in the segment file yet.
   * `controlOnly` skips decoding ordinary batches (the open-time scan).
   */
  private async *entries(fromOffset: bigint, controlOnly = false): AsyncGenerator<RaftEntry> {
    let offset = fromOffset;
    const end = this.log.durableEndOffset;
    while (offset < end) {
      const result = await this.log.read(offset, readChunkBytes, end, true);
      if ("error" in result) throw new Error(`metadata log: read at ${offset} failed: ${result.error}`);
      if (result.records.length === 0) return;
      let position = 0;
      while (position < result.records.length) {
        const header = readBatchHeader(result.records, position);
        if (isBatchProblem(header)) throw new Error(`metadata log: batch at ${offset}: ${header.detail}`);
        position += header.sizeBytes;
        const control = isControlBatch(header.attributes);
        const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
        if (lastOffset < offset) continue;
        if (controlOnly && !control) {
          offset = lastOffset + 1n;
          continue;
        }
        // A read may start inside a batch: its entries below the offset asked for are skipped.
        for (const entry of entriesOfBatch(result.records, header)) {
          if (BigInt(entry.offset) >= offset) yield entry;
        }
        offset = lastOffset + 1n;
      }
    }
  }
}
