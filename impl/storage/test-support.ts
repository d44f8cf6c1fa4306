/** Helpers shared by the storage tests: temporary directories, batches, loggers. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import type { Logger } from "pino";
import { pino } from "pino";
import {
  type BatchHeader,
  isBatchProblem,
  readValidBatch,
  validateProducedBatches,
} from "../protocol/record-batch.ts";
import { encodeRecordBatch, type RecordInput } from "../protocol/records.ts";
import { defaultLogConfig, type FsyncPolicy, type LogConfig } from "./log-config.ts";
import { PartitionLog } from "./partition-log.ts";
import type { ProducerStateSettings } from "./producer-state.ts";
import { readReplicatedBatches } from "./replicated-batches.ts";
import { SyncScheduler } from "./sync-scheduler.ts";

export async function withTemporaryDirectory<T>(action: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "chronik-storage-"));
  try {
    return await action(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

export function testConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...defaultLogConfig, retentionMsMax: -1, ...overrides };
}

/** One batch of `count` records valued `${label}-${index}`, all at `timestamp` unless `timestamps` says otherwise. */
export function batchOf(label: string, count: number, timestamp = 1_000n, timestamps?: bigint[]): Buffer {
  const records: RecordInput[] = [];
  for (let index = 0; index < count; index++) {
    records.push({ value: Buffer.from(`${label}-${index}`), timestamp: timestamps?.[index] ?? timestamp });
  }
  return encodeRecordBatch(records);
}

/** What a produce request hands the log: the records field and its validated batches. */
export function produced(...batches: Buffer[]): { records: Buffer; batches: BatchHeader[] } {
  const records = Buffer.concat(batches);
  const headers = validateProducedBatches(records, 1 << 24);
  if (isBatchProblem(headers)) throw new Error(headers.detail);
  return { records, batches: headers };
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** A logger whose JSON lines the test can inspect. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.length > 0) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

const openSchedulers: SyncScheduler[] = [];

/** A scheduler that `closeTestSchedulers` (in afterEach) stops. */
export function testScheduler(policy: FsyncPolicy = "always"): SyncScheduler {
  const scheduler = new SyncScheduler(policy);
  openSchedulers.push(scheduler);
  return scheduler;
}

export function closeTestSchedulers(): void {
  for (const scheduler of openSchedulers.splice(0)) scheduler.close();
}

export function openTestLog(
  directory: string,
  config: Partial<LogConfig> = {},
  extra: {
    sync?: SyncScheduler;
    nowMs?: () => number;
    logger?: Logger;
    producerState?: Partial<ProducerStateSettings>;
  } = {},
): Promise<PartitionLog> {
  return PartitionLog.open({
    directory,
    config: testConfig(config),
    sync: extra.sync ?? testScheduler(),
    logger: extra.logger ?? silentLogger(),
    nowMs: extra.nowMs,
    producerState: extra.producerState,
  });
}

/** Appends one batch per label (each of `count` records), each awaited until durable. */
export async function appendBatches(log: PartitionLog, labels: string[], count = 3, timestamp = 1_000n) {
  const results = [];
  for (const label of labels) {
    const { records, batches } = produced(batchOf(label, count, timestamp));
    const result = log.append(records, batches, 0);
    await result.durable;
    results.push({ ...result, bytes: records });
  }
  return results;
}

/** Base offsets of the batches in `records`, each checked whole and CRC-valid. */
export function batchOffsets(records: Buffer): bigint[] {
  const offsets: bigint[] = [];
  for (let position = 0; position < records.length; ) {
    const header = readValidBatch(records, position);
    if (isBatchProblem(header)) throw new Error(header.detail);
    offsets.push(header.baseOffset);
    position += header.sizeBytes;
  }
  return offsets;
}

/**
 * One batch as a leader stored it: offsets from `baseOffset`, stamped with
 * `epoch`, CRC valid. What a follower appends.
 */
export function leaderBatch(label: string, count: number, baseOffset: bigint, epoch: number): Buffer {
  const records: RecordInput[] = [];
  for (let index = 0; index < count; index++) {
    records.push({ value: Buffer.from(`${label}-${index}`), timestamp: 1_000n });
  }
  return encodeRecordBatch(records, { baseOffset, partitionLeaderEpoch: epoch });
}

/** What a follower's fetch hands the log: the records field and the headers read from it. */
export function replicated(...batches: Buffer[]): { records: Buffer; batches: BatchHeader[] } {
  const records = Buffer.concat(batches);
  const headers = readReplicatedBatches(records);
  if (isBatchProblem(headers)) throw new Error(headers.detail);
  return { records, batches: headers };
}

/** Every batch the log serves, from its start, each a copy checked whole and CRC-valid. */
export async function readAllBatches(log: PartitionLog): Promise<Buffer[]> {
  const all: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const records = await readRecords(log, offset);
    if (records.length === 0) throw new Error(`nothing served at ${offset} below ${log.logEndOffset}`);
    for (let position = 0; position < records.length; ) {
      const header = readValidBatch(records, position);
      if (isBatchProblem(header)) throw new Error(header.detail);
      if (header.baseOffset !== offset) throw new Error(`batch at ${header.baseOffset}, expected ${offset}`);
      all.push(Buffer.from(records.subarray(position, position + header.sizeBytes)));
      offset = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
      position += header.sizeBytes;
    }
  }
  return all;
}

/** The leader-epoch entries `batches` imply: where each batch raises the epoch. */
export function epochStartsOf(batches: readonly Buffer[]): { epoch: number; startOffset: bigint }[] {
  const starts: { epoch: number; startOffset: bigint }[] = [];
  for (const bytes of batches) {
    const header = readValidBatch(bytes, 0);
    if (isBatchProblem(header)) throw new Error(header.detail);
    const latest = starts[starts.length - 1];
    if (
      header.partitionLeaderEpoch >= 0 &&
      (latest === undefined || header.partitionLeaderEpoch > latest.epoch)
    ) {
      starts.push({ epoch: header.partitionLeaderEpoch, startOffset: header.baseOffset });
    }
  }
  return starts;
}

export async function readRecords(log: PartitionLog, offset: bigint, maxBytes = 1 << 20, atLeastOne = true) {
  const result = await log.read(offset, maxBytes, log.logEndOffset, atLeastOne);
  if ("error" in result) throw new Error(result.error);
  return result.records;
}

/** Who wrote an idempotent batch: producer id, epoch, and the sequence of its first record. */
export interface ProducerStamp {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

/**
 * One batch of `count` records by an idempotent producer, as a client sends
 * it (offset 0, no leader epoch) or, given `at`, as a leader stored it.
 * Records are stamped now unless `at` says otherwise, as a client stamps
 * them: producer.id.expiration.ms counts from there.
 */
export function idempotentBatch(
  label: string,
  count: number,
  producer: ProducerStamp,
  at: { baseOffset: bigint; epoch: number; timestamp?: bigint } | null = null,
): Buffer {
  const now = BigInt(Date.now());
  const records: RecordInput[] = [];
  for (let index = 0; index < count; index++) {
    records.push({ value: Buffer.from(`${label}-${index}`), timestamp: at?.timestamp ?? now });
  }
  return encodeRecordBatch(records, {
    ...producer,
    ...(at === null ? {} : { baseOffset: at.baseOffset, partitionLeaderEpoch: at.epoch }),
  });
}
