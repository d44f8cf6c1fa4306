/**
 * Raft entries as Kafka record batches: the one encoding of the metadata log,
 * on disk (RaftMetadataLog) and on the wire (the records of a metadata Fetch).
 *
 * - data entries: one record each, value = the payload (an encoded metadata
 *   record); a run of data entries of one epoch shares a batch.
 * - leaderChange and voters entries: Kafka control batches (attribute bit 5),
 *   one control record per batch, key = (version INT16 0, type INT16) with
 *   type 2 (LeaderChangeMessage) or 6 (VotersRecord, KRaft's KRAFT_VOTERS).
 *
 * Every batch carries its entries' Raft epoch as partitionLeaderEpoch and the
 * first entry's offset as baseOffset, so the partition's leader-epoch cache is
 * the Raft log's epoch starts. Bytes from the wire are checked whole (length,
 * magic, CRC32C, record count, contiguous offsets, epochs never going back)
 * before one entry is returned; a refusal is an InvalidEntryBatchError.
 */
import type { RaftEntry, RaftEntryKind } from "../cluster/raft/raft-log.ts";
import { DecodeError } from "../protocol/reader.ts";
import {
  type BatchHeader,
  compressionOf,
  isBatchProblem,
  isControlBatch,
  lastOffsetOf,
  readValidBatch,
} from "../protocol/record-batch.ts";
import { decodeBatchRecords, encodeRecordBatch, type RecordInput } from "../protocol/records.ts";

/** The control bit of a batch's attributes. */
const controlAttribute = 0x20;
/** Kafka's ControlRecordType values for the runtime's control entries. */
const leaderChangeControlType = 2;
const votersControlType = 6;
/** A control record key: version INT16, type INT16. */
const controlKeyBytes = 4;

/** Bytes that are not well-formed batches of Raft entries; `position` is where the bad batch starts. */
export class InvalidEntryBatchError extends Error {
  constructor(
    readonly position: number,
    detail: string,
  ) {
    super(`raft entry batch at byte ${position}: ${detail}`);
    this.name = "InvalidEntryBatchError";
  }
}

function controlKey(type: number): Buffer {
  const key = Buffer.alloc(controlKeyBytes);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return key;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The record of one entry. The value of a control record keeps the runtime's
 * payload bytes as they are (raft-log.ts's encodeLeaderChange/encodeVoters),
 * not Kafka's LeaderChangeMessage/VotersRecord schemas: only this module
 * reads them back, and it must return them byte for byte.
 */
function recordOf(entry: RaftEntry): RecordInput {
  const value = asBuffer(entry.payload);
  if (entry.kind === "data") return { value };
  return { key: controlKey(entry.kind === "voters" ? votersControlType : leaderChangeControlType), value };
}

/**
 * The batches of `entries`, concatenated: a run of data entries of one epoch
 * shares a batch, each control entry has its own. Entries must have
 * consecutive offsets (a RangeError otherwise: the caller's bug); epochs are
 * written as given.
 */
export function encodeEntryBatches(entries: readonly RaftEntry[]): Buffer {
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1]!.offset;
    if (entries[i]!.offset !== previous + 1) {
      throw new RangeError(`raft entries jump from offset ${previous} to ${entries[i]!.offset}`);
    }
  }
  const batches: Buffer[] = [];
  let start = 0;
  while (start < entries.length) {
    const first = entries[start]!;
    let end = start + 1;
    if (first.kind === "data") {
      while (end < entries.length && entries[end]!.kind === "data" && entries[end]!.epoch === first.epoch)
        end++;
    }
    batches.push(
      encodeRecordBatch(entries.slice(start, end).map(recordOf), {
        baseOffset: BigInt(first.offset),
        partitionLeaderEpoch: first.epoch,
        extraAttributes: first.kind === "data" ? 0 : controlAttribute,
      }),
    );
    start = end;
  }
  return Buffer.concat(batches);
}

function controlKindOf(key: Buffer | null, offset: bigint, position: number): RaftEntryKind {
  if (key === null || key.length < controlKeyBytes) {
    throw new InvalidEntryBatchError(position, `control record at offset ${offset} without a key`);
  }
  const type = key.readInt16BE(2);
  if (type === leaderChangeControlType) return "leaderChange";
  if (type === votersControlType) return "voters";
  throw new InvalidEntryBatchError(position, `control record at offset ${offset} of unknown type ${type}`);
}

/**
 * The entries of one batch whose header was read from `records`. The batch's
 * shape is checked (no compression, which the log never writes; a count that
 * matches the offset span; one record per control batch; each record at its
 * place) but not its CRC: the log reads what it checked when writing, the
 * wire path checks it in decodeEntryBatches.
 */
export function entriesOfBatch(records: Buffer, header: BatchHeader): RaftEntry[] {
  const { position, baseOffset, partitionLeaderEpoch: epoch } = header;
  const problem = (detail: string) => new InvalidEntryBatchError(position, detail);
  if (compressionOf(header.attributes) !== "none") {
    throw problem(`compressed (${compressionOf(header.attributes)}); metadata batches are never compressed`);
  }
  if (header.recordsCount < 1 || header.recordsCount !== header.lastOffsetDelta + 1) {
    throw problem(
      `records count ${header.recordsCount} does not match last offset delta ${header.lastOffsetDelta}`,
    );
  }
  if (baseOffset < 0n || lastOffsetOf(header) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw problem(`offsets ${baseOffset}..${lastOffsetOf(header)} outside a log's range`);
  }
  if (epoch < 0) throw problem(`leader epoch ${epoch}: every Raft entry has one`);
  const control = isControlBatch(header.attributes);
  if (control && header.recordsCount !== 1) {
    throw problem(`control batch of ${header.recordsCount} records; each control entry has its own`);
  }
  let decoded: ReturnType<typeof decodeBatchRecords>;
  try {
    decoded = decodeBatchRecords(records, header);
  } catch (error) {
    if (error instanceof DecodeError) throw problem(`records do not decode: ${error.message}`);
    throw error;
  }
  if (decoded.length !== header.recordsCount) {
    throw problem(`${decoded.length} records where the header counts ${header.recordsCount}`);
  }
  return decoded.map((record, index) => {
    if (record.offset !== baseOffset + BigInt(index)) {
      throw problem(`record ${index} at offset ${record.offset}, expected ${baseOffset + BigInt(index)}`);
    }
    if (record.value === null) throw problem(`record at offset ${record.offset} without a value`);
    return {
      offset: Number(record.offset),
      epoch,
      kind: control ? controlKindOf(record.key, record.offset, position) : "data",
      payload: new Uint8Array(record.value),
    };
  });
}

/**
 * The entries of batches that came off the wire, refused whole
 * (InvalidEntryBatchError) unless every batch is intact (length, magic 2,
 * CRC32C), follows the previous one without a gap or an overlap, and has an
 * epoch no older than the previous one's. No bytes means no entries.
 */
export function decodeEntryBatches(records: Buffer): RaftEntry[] {
  const entries: RaftEntry[] = [];
  let position = 0;
  let previous: BatchHeader | null = null;
  while (position < records.length) {
    const header = readValidBatch(records, position);
    if (isBatchProblem(header)) throw new InvalidEntryBatchError(position, header.detail);
    if (previous !== null) {
      const expected = lastOffsetOf(previous) + 1n;
      if (header.baseOffset !== expected) {
        throw new InvalidEntryBatchError(
          position,
          `starts at offset ${header.baseOffset}, the previous batch ends before ${expected}`,
        );
      }
      if (header.partitionLeaderEpoch < previous.partitionLeaderEpoch) {
        throw new InvalidEntryBatchError(
          position,
          `epoch ${header.partitionLeaderEpoch} after a batch of epoch ${previous.partitionLeaderEpoch}`,
        );
      }
    }
    for (const entry of entriesOfBatch(records, header)) entries.push(entry);
    previous = header;
    position += header.sizeBytes;
  }
  return entries;
}
