/**
 * Individual records inside a v2 batch: built for the broker's own logs
 * (the metadata log, tools, benchmarks) and decoded for dump-log and
 * metadata replay. The produce and fetch paths never come here.
 *
 * Record =>
 *   length VARINT                 bytes after this field
 *   attributes INT8               unused, 0
 *   timestamp_delta VARLONG       from the batch's base timestamp
 *   offset_delta VARINT           from the batch's base offset
 *   key_length VARINT, key        -1 for a null key
 *   value_length VARINT, value    -1 for a null value
 *   headers_count VARINT, [header_key_length VARINT, header_key, header_value_length VARINT, header_value]
 */
import { crc32c } from "@node-rs/crc32";
import { compress, decompress } from "./compression.ts";
import { DecodeError, Reader } from "./reader.ts";
import {
  type BatchHeader,
  batchHeaderBytes,
  batchLogOverheadBytes,
  type CompressionCodec,
  compressionCodecs,
  compressionOf,
  recordBatchMagic,
} from "./record-batch.ts";
import { Writer } from "./writer.ts";

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  timestamp?: bigint;
}

export interface DecodedRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface BatchOptions {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  compression?: CompressionCodec;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Attribute bits besides compression (transactional, control). */
  extraAttributes?: number;
}

function writeVarBytes(writer: Writer, bytes: Buffer | null): void {
  if (bytes === null) {
    writer.varint(-1);
    return;
  }
  writer.varint(bytes.length).raw(bytes);
}

function encodeRecordBody(record: RecordInput, offsetDelta: number, baseTimestamp: bigint): Buffer {
  const body = new Writer();
  body.int8(0);
  body.varlong((record.timestamp ?? baseTimestamp) - baseTimestamp);
  body.varint(offsetDelta);
  writeVarBytes(body, record.key ?? null);
  writeVarBytes(body, record.value);
  const headers = record.headers ?? [];
  body.varint(headers.length);
  for (const header of headers) {
    writeVarBytes(body, Buffer.from(header.key, "utf8"));
    writeVarBytes(body, header.value);
  }
  return body.toBuffer();
}

/** Builds one complete batch with a valid CRC32C. */
export function encodeRecordBatch(records: RecordInput[], options: BatchOptions = {}): Buffer {
  if (records.length === 0) throw new Error("a record batch holds at least one record");
  const now = BigInt(Date.now());
  const timestamps = records.map((record) => record.timestamp ?? now);
  const baseTimestamp = timestamps.reduce((low, value) => (value < low ? value : low));
  const maxTimestamp = timestamps.reduce((high, value) => (value > high ? value : high));
  const plain = new Writer();
  records.forEach((record, index) => {
    const body = encodeRecordBody({ ...record, timestamp: timestamps[index] }, index, baseTimestamp);
    plain.varint(body.length).raw(body);
  });
  const codec = options.compression ?? "none";
  const payload = codec === "none" ? plain.toBuffer() : compress(codec, plain.toBuffer());
  const attributes = compressionCodecs.indexOf(codec) | (options.extraAttributes ?? 0);

  const batch = Buffer.alloc(batchHeaderBytes + payload.length);
  batch.writeBigInt64BE(options.baseOffset ?? 0n, 0);
  batch.writeInt32BE(batch.length - batchLogOverheadBytes, 8);
  batch.writeInt32BE(options.partitionLeaderEpoch ?? -1, 12);
  batch.writeInt8(recordBatchMagic, 16);
  batch.writeInt16BE(attributes, 21);
  batch.writeInt32BE(records.length - 1, 23);
  batch.writeBigInt64BE(baseTimestamp, 27);
  batch.writeBigInt64BE(maxTimestamp, 35);
  batch.writeBigInt64BE(options.producerId ?? -1n, 43);
  batch.writeInt16BE(options.producerEpoch ?? -1, 51);
  batch.writeInt32BE(options.baseSequence ?? -1, 53);
  batch.writeInt32BE(records.length, 57);
  payload.copy(batch, batchHeaderBytes);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

function readVarBytes(reader: Reader): Buffer | null {
  const length = reader.varint();
  if (length < -1) throw new DecodeError(`record field has negative length ${length}`);
  return length === -1 ? null : reader.bytes(length);
}

/** Decodes the records of one batch (decompressing if needed). */
export function decodeBatchRecords(buffer: Buffer, header: BatchHeader): DecodedRecord[] {
  const stored = buffer.subarray(header.position + batchHeaderBytes, header.position + header.sizeBytes);
  const codec = compressionOf(header.attributes);
  const plain = codec === "none" ? stored : decompress(codec, stored);
  const reader = new Reader(plain);
  const count = reader.arrayLength(header.recordsCount, 7);
  const decoded: DecodedRecord[] = [];
  for (let index = 0; index < count; index++) {
    const length = reader.varint();
    if (length < 0 || length > reader.remaining) {
      throw new DecodeError(
        `record ${index} length ${length} exceeds the ${reader.remaining} bytes remaining`,
      );
    }
    const record = new Reader(reader.bytes(length));
    record.int8();
    const timestamp = header.baseTimestamp + record.varlong();
    const offset = header.baseOffset + BigInt(record.varint());
    const key = readVarBytes(record);
    const value = readVarBytes(record);
    const headerCount = record.arrayLength(record.varint(), 2);
    const headers: RecordHeader[] = [];
    for (let headerIndex = 0; headerIndex < headerCount; headerIndex++) {
      const headerKey = readVarBytes(record);
      if (headerKey === null) throw new DecodeError("record header key is null");
      headers.push({ key: headerKey.toString("utf8"), value: readVarBytes(record) });
    }
    decoded.push({ offset, timestamp, key, value, headers });
  }
  return decoded;
}
