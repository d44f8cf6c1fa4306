/**
 * The Raft runtime's log (RaftLog) over the real metadata partition
 * `__chronik_metadata-0`: entries are records of ordinary Kafka batches,
 * stored like any partition (segments, indexes, leader-epoch cache, recovery).
 *
 * - data entries: one record each, value = the payload (an encoded metadata
 *   record), in ordinary batches; a leader's run of data entries is one batch.
 * - leaderChange and voters entries: Kafka control batches (attribute bit 5),
 *   one control record per batch, key = (version INT16 0, type INT16) with
 *   type 2 (LeaderChangeMessage) or 6 (VotersRecord, KRaft's KRAFT_VOTERS).
 *
 * Every batch carries the entry's Raft epoch as its partitionLeaderEpoch, so
 * the partition's leader-epoch cache is the Raft log's epoch starts.
 */
import path from "node:path";
import type { EpochStart } from "../../machines/log-divergence.ts";
import {
  decodeVoters,
  type NewRaftEntry,
  type RaftEntry,
  type RaftEntryKind,
  type RaftLog,
} from "../cluster/raft/raft-log.ts";
import type { Logger } from "../log.ts";
import {
  type BatchHeader,
  isBatchProblem,
  isControlBatch,
  readBatchHeader,
} from "../protocol/record-batch.ts";
import { decodeBatchRecords, encodeRecordBatch, type RecordInput } from "../protocol/records.ts";
import { defaultLogConfig } from "../storage/log-config.ts";
import { PartitionLog } from "../storage/partition-log.ts";
import { readReplicatedBatches } from "../storage/replicated-batches.ts";
import type { SyncScheduler } from "../storage/sync-scheduler.ts";
import { metadataTopicName } from "./internal-topics.ts";

/** The control bit of a batch's attributes. */
const controlAttribute = 0x20;
/** Kafka's ControlRecordType values for the runtime's control entries. */
const leaderChangeControlType = 2;
const votersControlType = 6;
/** How many bytes one partition read takes at a time. */
const readChunkBytes = 1024 * 1024;

/** The control record key: version INT16 (0), type INT16. */
function controlKey(type: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return key;
}

function controlKindOf(key: Buffer | null, offset: bigint): RaftEntryKind {
  if (key === null || key.length < 4)
    throw new Error(`metadata log: control record at ${offset} without a key`);
  const type = key.readInt16BE(2);
  if (type === leaderChangeControlType) return "leaderChange";
  if (type === votersControlType) return "voters";
  throw new Error(`metadata log: control record at ${offset} of unknown type ${type}`);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The record of one entry. The value of a control record keeps the runtime's
 * payload bytes as they are (raft-log.ts's encodeLeaderChange/encodeVoters),
 * not yet Kafka's LeaderChangeMessage/VotersRecord schemas: only this class
 * reads them back, and it must return them byte for byte.
 */
function recordOf(entry: { kind: RaftEntryKind; payload: Uint8Array }): RecordInput {
  const value = asBuffer(entry.payload);
  if (entry.kind === "data") return { value };
  return { key: controlKey(entry.kind === "voters" ? votersControlType : leaderChangeControlType), value };
}

/**
 * Entries as batches: a run of data entries shares a batch, each control
 * entry has its own. `epochOf(i)` and `offsetOf(i)` give the batch fields
 * (the partition log restamps both for a leader's append).
 */
function encodeEntries(
  entries: readonly { kind: RaftEntryKind; payload: Uint8Array }[],
  epochOf: (index: number) => number,
  offsetOf: (index: number) => bigint,
): Buffer {
  const batches: Buffer[] = [];
  let start = 0;
  while (start < entries.length) {
    const first = entries[start]!;
    let end = start + 1;
    if (first.kind === "data") {
      while (end < entries.length && entries[end]!.kind === "data" && epochOf(end) === epochOf(start)) end++;
    }
    const run = entries.slice(start, end);
    batches.push(
      encodeRecordBatch(run.map(recordOf), {
        baseOffset: offsetOf(start),
        partitionLeaderEpoch: epochOf(start),
        extraAttributes: first.kind === "data" ? 0 : controlAttribute,
      }),
    );
    start = end;
  }
  return Buffer.concat(batches);
}

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
    const records = encodeEntries(
      entries,
      () => epoch,
      () => 0n,
    );
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
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.offset !== entries[i - 1]!.offset + 1) {
        throw new Error(
          `metadata log: follower entries jump from offset ${entries[i - 1]!.offset} to ${entries[i]!.offset}`,
        );
      }
    }
    const base = BigInt(entries[0]!.offset);
    const records = encodeEntries(
      entries,
      (i) => entries[i]!.epoch,
      (i) => base + BigInt(i),
    );
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
        for (const record of decodeBatchRecords(result.records, header)) {
          if (record.offset < offset) continue;
          const kind = control ? controlKindOf(record.key, record.offset) : "data";
          yield {
            offset: Number(record.offset),
            epoch: header.partitionLeaderEpoch,
            kind,
            payload: new Uint8Array(record.value ?? new Uint8Array(0)),
          };
          offset = record.offset + 1n;
        }
        offset = lastOffset + 1n;
      }
    }
  }
}
