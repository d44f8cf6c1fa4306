/**
 * Record batch v2 (magic 2), validated and stamped without decoding records.
 *
 * RecordBatch =>
 *   base_offset INT64                @0   assigned by the broker
 *   batch_length INT32               @8   bytes after this field
 *   partition_leader_epoch INT32     @12  assigned by the broker
 *   magic INT8                       @16  must be 2
 *   crc UINT32                       @17  CRC32C of everything from attributes to the end
 *   attributes INT16                 @21  bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 *   last_offset_delta INT32          @23
 *   base_timestamp INT64             @27
 *   max_timestamp INT64              @35
 *   producer_id INT64                @43
 *   producer_epoch INT16             @51
 *   base_sequence INT32              @53
 *   records_count INT32              @57
 *   records                          @61
 *
 * Base offset and leader epoch lie outside the CRC, which is why the broker can
 * assign them in place and serve the batch exactly as the producer compressed it.
 */
import { crc32c } from "@node-rs/crc32";

export const batchHeaderBytes = 61;
/** Offset of the batch_length field's end: the bytes batch_length does not count. */
export const batchLogOverheadBytes = 12;
const crcCoveredFrom = 21;
export const recordBatchMagic = 2;

export const compressionCodecs = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
export type CompressionCodec = (typeof compressionCodecs)[number];

export interface BatchHeader {
  /** Position of the batch within the buffer it was read from. */
  position: number;
  /** Total bytes of the batch, including base offset and length fields. */
  sizeBytes: number;
  baseOffset: bigint;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

export function compressionOf(attributes: number): CompressionCodec {
  return compressionCodecs[attributes & 0x07] ?? "none";
}

export function isControlBatch(attributes: number): boolean {
  return (attributes & 0x20) !== 0;
}

export function isTransactionalBatch(attributes: number): boolean {
  return (attributes & 0x10) !== 0;
}

/** Why a batch was refused; each maps to the Kafka error a real broker returns. */
export type BatchProblem =
  | { kind: "truncated"; detail: string } // CORRUPT_MESSAGE
  | { kind: "bad-magic"; detail: string } // UNSUPPORTED_FOR_MESSAGE_FORMAT
  | { kind: "bad-crc"; detail: string } // CORRUPT_MESSAGE
  | { kind: "bad-count"; detail: string } // INVALID_RECORD
  | { kind: "too-large"; detail: string }; // MESSAGE_TOO_LARGE

/** Reads the fixed header at `position`, or says why it cannot. Checks only that the bytes are there. */
export function readBatchHeader(buffer: Buffer, position: number): BatchHeader | BatchProblem {
  const remaining = buffer.length - position;
  if (remaining < batchHeaderBytes) {
    return {
      kind: "truncated",
      detail: `${remaining} bytes cannot hold a ${batchHeaderBytes}-byte batch header`,
    };
  }
  const batchLength = buffer.readInt32BE(position + 8);
  const sizeBytes = batchLength + batchLogOverheadBytes;
  if (sizeBytes < batchHeaderBytes) {
    return { kind: "truncated", detail: `batch length ${batchLength} is shorter than a batch header` };
  }
  if (sizeBytes > remaining) {
    return {
      kind: "truncated",
      detail: `batch length ${batchLength} runs past the ${remaining} bytes remaining`,
    };
  }
  const magic = buffer.readInt8(position + 16);
  if (magic !== recordBatchMagic) {
    return { kind: "bad-magic", detail: `magic ${magic}; only record batch v2 (magic 2) is accepted` };
  }
  return {
    position,
    sizeBytes,
    baseOffset: buffer.readBigInt64BE(position),
    partitionLeaderEpoch: buffer.readInt32BE(position + 12),
    magic,
    crc: buffer.readUInt32BE(position + 17),
    attributes: buffer.readInt16BE(position + 21),
    lastOffsetDelta: buffer.readInt32BE(position + 23),
    baseTimestamp: buffer.readBigInt64BE(position + 27),
    maxTimestamp: buffer.readBigInt64BE(position + 35),
    producerId: buffer.readBigInt64BE(position + 43),
    producerEpoch: buffer.readInt16BE(position + 51),
    baseSequence: buffer.readInt32BE(position + 53),
    recordsCount: buffer.readInt32BE(position + 57),
  };
}

export function isBatchProblem<T extends object>(value: T | BatchProblem): value is BatchProblem {
  return !Array.isArray(value) && "kind" in value;
}

export function computeBatchCrc(buffer: Buffer, header: Pick<BatchHeader, "position" | "sizeBytes">): number {
  return crc32c(buffer.subarray(header.position + crcCoveredFrom, header.position + header.sizeBytes));
}

/** Header plus CRC check: what recovery uses to find the last valid batch of a segment. */
export function readValidBatch(buffer: Buffer, position: number): BatchHeader | BatchProblem {
  const header = readBatchHeader(buffer, position);
  if (isBatchProblem(header)) return header;
  const actual = computeBatchCrc(buffer, header);
  if (actual !== header.crc) {
    return {
      kind: "bad-crc",
      detail: `CRC32C ${actual.toString(16)} does not match the stored ${header.crc.toString(16)}`,
    };
  }
  return header;
}

/**
 * Validates every batch of a produce request's records field: whole batches,
 * magic 2, CRC32C, a record count consistent with the offset deltas, each
 * batch within `batchBytesMax` (message.max.bytes). Records are not decoded.
 */
export function validateProducedBatches(
  records: Buffer,
  batchBytesMax: number,
): BatchHeader[] | BatchProblem {
  const batches: BatchHeader[] = [];
  let position = 0;
  if (records.length === 0) return { kind: "truncated", detail: "no record batch in the request" };
  while (position < records.length) {
    const header = readValidBatch(records, position);
    if (isBatchProblem(header)) return header;
    if (header.sizeBytes > batchBytesMax) {
      return {
        kind: "too-large",
        detail: `batch of ${header.sizeBytes} bytes exceeds message.max.bytes ${batchBytesMax}`,
      };
    }
    if (header.recordsCount <= 0 || header.lastOffsetDelta !== header.recordsCount - 1) {
      return {
        kind: "bad-count",
        detail: `records count ${header.recordsCount} does not match last offset delta ${header.lastOffsetDelta}`,
      };
    }
    batches.push(header);
    position += header.sizeBytes;
  }
  return batches;
}

/** Stamps the broker-assigned base offset and leader epoch; the CRC stays valid. */
export function assignBatchOffset(
  buffer: Buffer,
  header: BatchHeader,
  baseOffset: bigint,
  leaderEpoch: number,
): void {
  buffer.writeBigInt64BE(baseOffset, header.position);
  buffer.writeInt32BE(leaderEpoch, header.position + 12);
  header.baseOffset = baseOffset;
  header.partitionLeaderEpoch = leaderEpoch;
}

export function lastOffsetOf(header: Pick<BatchHeader, "baseOffset" | "lastOffsetDelta">): bigint {
  return header.baseOffset + BigInt(header.lastOffsetDelta);
}
