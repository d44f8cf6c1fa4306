/** Helpers shared by the storage tests: temporary directories, batches, loggers. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "pino";
import { type BatchHeader, isBatchProblem, validateProducedBatches } from "../protocol/record-batch.ts";
import { encodeRecordBatch, type RecordInput } from "../protocol/records.ts";
import { defaultLogConfig, type LogConfig } from "./log-config.ts";

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
      for (const line of chunk.toString("utf8").split("\n")) if (line.length > 0) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}
