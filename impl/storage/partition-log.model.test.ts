/**
 * The log against an in-memory model (an array of batches) under random
 * sequences of appends (as leader and as follower), reads, truncations,
 * retention, clean reopens and crashes. A crash drops the log without
 * closing it, then damages the active segment past the durable end (a cut
 * at a random byte, or garbage appended);
 * after every reopen each batch whose `durable` had resolved must be there
 * byte for byte, what survives beyond must be a prefix of what was appended,
 * reads must return only valid batches, offsets must stay contiguous, and
 * the leader-epoch cache must say exactly where the surviving batches raise
 * the epoch.
 */
import { appendFile, readdir, stat, truncate } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BatchHeader, isBatchProblem, lastOffsetOf, readValidBatch } from "../protocol/record-batch.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import type { FsyncPolicy } from "./log-config.ts";
import { type AppendResult, PartitionLog } from "./partition-log.ts";
import { UnexpectedAppendOffsetError } from "./replicated-batches.ts";
import { parseSegmentFileName } from "./segment-files.ts";
import { scanPartitionDirectory } from "./segment-scan.ts";
import { SyncScheduler } from "./sync-scheduler.ts";
import {
  epochStartsOf,
  produced,
  replicated,
  silentLogger,
  testConfig,
  withTemporaryDirectory,
} from "./test-support.ts";

interface ModelBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  bytes: Buffer;
  durable: boolean;
}

interface Model {
  batches: ModelBatch[];
  startOffset: bigint;
  endOffset: bigint;
  /** The newest leader epoch appended at: leader appends use it, follower appends may raise it. */
  epoch: number;
  /** Appends whose `durable` has not settled yet, and their settling. */
  outstanding: number;
  settling: Promise<void>[];
}

const recordArbitrary = fc.record({
  value: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  timestamp: fc.bigInt({ min: 0n, max: 1_000_000n }),
});

/** Uniform over [0, max]: fast-check's doubles favour the bounds, which would make most reads empty. */
const fraction = (max = 1) => fc.integer({ min: 0, max: 1000 }).map((value) => (value / 1000) * max);

const batchesArbitrary = fc.array(fc.array(recordArbitrary, { minLength: 1, maxLength: 4 }), {
  minLength: 1,
  maxLength: 3,
});

const operationArbitrary = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      batches: batchesArbitrary,
      wait: fc.boolean(),
      advanceMs: fc.integer({ min: 0, max: 700 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("follow" as const),
      batches: batchesArbitrary,
      /** The leader copied has moved to a newer epoch. */
      newEpoch: fc.boolean(),
      /** Where the first batch starts relative to the log end: anything but 0 is refused. */
      misplacedBy: fc.constantFrom(0n, 0n, 0n, 0n, -1n, 2n),
      wait: fc.boolean(),
      advanceMs: fc.integer({ min: 0, max: 700 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("read" as const),
      offsetFraction: fraction(),
      limitFraction: fraction(1.2),
      maxBytes: fc.integer({ min: 0, max: 600 }),
      atLeastOneBatch: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("crash" as const),
      damage: fc.constantFrom("cut" as const, "garbage" as const, "none" as const),
      /** How far the group commit gets before the crash: nowhere, a write issued, or a few milliseconds. */
      pauseMs: fc.constantFrom(-1, 0, 2),
      fraction: fraction(),
      garbage: fc.uint8Array({ minLength: 1, maxLength: 120 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("truncate" as const), fraction: fraction() }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "retention" as const }) },
);

type Operation = typeof operationArbitrary extends fc.Arbitrary<infer T> ? T : never;

const setupArbitrary = fc.record({
  policy: fc.constantFrom<FsyncPolicy>("always", "interval", "never"),
  segmentBytesMax: fc.constantFrom(200, 600, 1 << 20),
  indexIntervalBytes: fc.constantFrom(1, 90, 4096),
  retentionBytesMax: fc.constantFrom(-1, 700),
});
type Setup = typeof setupArbitrary extends fc.Arbitrary<infer T> ? T : never;

function parseBatches(records: Buffer): { baseOffset: bigint; lastOffset: bigint; bytes: Buffer }[] {
  const batches = [];
  for (let position = 0; position < records.length; ) {
    const header = readValidBatch(records, position);
    if (isBatchProblem(header)) throw new Error(`read returned an invalid batch: ${header.detail}`);
    batches.push({
      baseOffset: header.baseOffset,
      lastOffset: lastOffsetOf(header),
      bytes: records.subarray(position, position + header.sizeBytes),
    });
    position += header.sizeBytes;
  }
  return batches;
}

/** Everything the log serves, read as a consumer would, with contiguous offsets. */
async function readAll(log: PartitionLog): Promise<Buffer[]> {
  const all: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const result = await log.read(offset, 1 << 20, log.logEndOffset, true);
    if ("error" in result) throw new Error(`read at ${offset}: ${result.error}`);
    const batches = parseBatches(result.records);
    expect(batches.length).toBeGreaterThan(0);
    for (const batch of batches) {
      expect(batch.baseOffset).toBe(offset);
      offset = batch.lastOffset + 1n;
      all.push(batch.bytes);
    }
  }
  return all;
}

/** Each served batch equals, byte for byte, the expected one at its place. */
function expectSameBytes(served: Buffer[], expected: Buffer[]): void {
  for (const [index, bytes] of served.entries()) {
    expect(bytes.equals(expected[index] ?? Buffer.alloc(0)), `batch ${index} differs`).toBe(true);
  }
}

function expectLogMatchesModel(log: PartitionLog, model: Model, served: Buffer[]): void {
  expect(log.logStartOffset).toBe(model.startOffset);
  expect(log.logEndOffset).toBe(model.endOffset);
  expect(served.length).toBe(model.batches.length);
  const bytes = model.batches.map((batch) => batch.bytes);
  expectSameBytes(served, bytes);
  expect(log.leaderEpochs).toEqual(epochStartsOf(bytes));
}

/** Adds an accepted append's batches to the model and follows its `durable`. */
async function modelAppend(
  model: Model,
  log: PartitionLog,
  input: { records: Buffer; batches: BatchHeader[] },
  result: AppendResult,
  wait: boolean,
): Promise<void> {
  expect(result.baseOffset).toBe(model.endOffset);
  const appended = input.batches.map((header) => ({
    baseOffset: header.baseOffset,
    lastOffset: lastOffsetOf(header),
    bytes: Buffer.from(input.records.subarray(header.position, header.position + header.sizeBytes)),
    durable: false,
  }));
  model.batches.push(...appended);
  model.endOffset = result.lastOffset + 1n;
  model.outstanding += 1;
  const settled = result.durable.then(
    () => {
      for (const batch of appended) batch.durable = true;
      expect(log.durableEndOffset).toBeGreaterThanOrEqual(result.lastOffset + 1n);
      model.outstanding -= 1;
    },
    // Only a crash discards writes; the crash step checks what survived.
    () => {
      model.outstanding -= 1;
    },
  );
  model.settling.push(settled);
  if (wait) await settled;
}

/** The batches a read must return when everything is written, following the read rules batch by batch. */
function expectedRead(
  model: Model,
  segmentBases: Set<bigint>,
  fetchOffset: bigint,
  maxBytes: number,
  limit: bigint,
  atLeastOneBatch: boolean,
): Buffer[] {
  const expected: Buffer[] = [];
  let total = 0;
  let index = model.batches.findIndex((batch) => batch.lastOffset >= fetchOffset);
  if (index < 0) return expected;
  for (; index < model.batches.length; index++) {
    const batch = model.batches[index]!;
    if (expected.length > 0 && segmentBases.has(batch.baseOffset)) break;
    if (batch.lastOffset >= limit) break;
    if (total + batch.bytes.length > maxBytes && !(total === 0 && atLeastOneBatch)) break;
    expected.push(batch.bytes);
    total += batch.bytes.length;
  }
  return expected;
}

/** End position, in the active segment file, of the batches below `durableEnd`. */
async function durableEndPosition(
  directory: string,
  activePath: string,
  durableEnd: bigint,
): Promise<number> {
  let end = 0;
  for await (const batch of scanPartitionDirectory(directory)) {
    if (batch.segmentPath !== activePath || lastOffsetOf(batch.header) >= durableEnd) continue;
    end = batch.filePosition + batch.header.sizeBytes;
  }
  return end;
}

async function activeSegmentPath(directory: string): Promise<string> {
  const bases = (await readdir(directory))
    .map((name) => parseSegmentFileName(name))
    .filter((parsed) => parsed !== null && parsed.suffix === ".log")
    .map((parsed) => parsed!.baseOffset)
    .sort((left, right) => (left < right ? -1 : 1));
  const last = bases[bases.length - 1]!;
  return path.join(directory, `${last.toString().padStart(20, "0")}.log`);
}

async function settleAppends(model: Model): Promise<void> {
  await Promise.all(model.settling.splice(0));
  expect(model.outstanding).toBe(0);
}

async function runScenario(setup: Setup, operations: Operation[]): Promise<void> {
  await withTemporaryDirectory(async (directory) => {
    const sync = new SyncScheduler(setup.policy);
    let now = 1_000_000;
    const open = () =>
      PartitionLog.open({
        directory,
        config: testConfig({
          segmentBytesMax: setup.segmentBytesMax,
          indexIntervalBytes: setup.indexIntervalBytes,
          retentionBytesMax: setup.retentionBytesMax,
          segmentMsMax: 1000,
        }),
        sync,
        logger: silentLogger(),
        nowMs: () => now,
      });
    let log = await open();
    const model: Model = {
      batches: [],
      startOffset: 0n,
      endOffset: 0n,
      epoch: 0,
      outstanding: 0,
      settling: [],
    };
    try {
      for (const operation of operations) {
        switch (operation.kind) {
          case "append": {
            now += operation.advanceMs;
            const input = produced(
              ...operation.batches.map((recordsOfBatch) => encodeRecordBatch(recordsOfBatch)),
            );
            const result = log.append(input.records, input.batches, model.epoch);
            await modelAppend(model, log, input, result, operation.wait);
            break;
          }
          case "follow": {
            now += operation.advanceMs;
            const epoch = model.epoch + (operation.newEpoch ? 1 : 0);
            let offset = model.endOffset + operation.misplacedBy;
            const input = replicated(
              ...operation.batches.map((recordsOfBatch) => {
                const batch = encodeRecordBatch(recordsOfBatch, {
                  baseOffset: offset,
                  partitionLeaderEpoch: epoch,
                });
                offset += BigInt(recordsOfBatch.length);
                return batch;
              }),
            );
            if (operation.misplacedBy !== 0n) {
              expect(() => log.appendAsFollower(input.records, input.batches)).toThrow(
                UnexpectedAppendOffsetError,
              );
              expect(log.logEndOffset).toBe(model.endOffset);
              break;
            }
            const result = log.appendAsFollower(input.records, input.batches);
            model.epoch = epoch;
            await modelAppend(model, log, input, result, operation.wait);
            break;
          }
          case "read": {
            const span = Number(model.endOffset - model.startOffset);
            const fetchOffset = model.startOffset + BigInt(Math.floor(span * operation.offsetFraction));
            const limit = model.startOffset + BigInt(Math.floor(span * operation.limitFraction));
            const everythingWritten = model.outstanding === 0;
            const result = await log.read(fetchOffset, operation.maxBytes, limit, operation.atLeastOneBatch);
            if ("error" in result) throw new Error(`read at ${fetchOffset} in range: ${result.error}`);
            const served = parseBatches(result.records).map((batch) => batch.bytes);
            const segmentBases = new Set(log.segmentBaseOffsets);
            const expected = expectedRead(
              model,
              segmentBases,
              fetchOffset,
              operation.maxBytes,
              limit,
              operation.atLeastOneBatch,
            );
            // With writes in flight the log serves what is already written: a prefix.
            if (everythingWritten) expect(served.length).toBe(expected.length);
            else expect(served.length).toBeLessThanOrEqual(expected.length);
            expectSameBytes(served, expected);
            break;
          }
          case "reopen": {
            await log.close();
            for (const batch of model.batches) expect(batch.durable).toBe(true);
            log = await open();
            expectLogMatchesModel(log, model, await readAll(log));
            break;
          }
          case "crash": {
            if (operation.pauseMs === 0) await new Promise((resolve) => setImmediate(resolve));
            if (operation.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, operation.pauseMs));
            const durableEnd = log.durableEndOffset;
            for (const batch of model.batches)
              if (batch.durable) expect(batch.lastOffset).toBeLessThan(durableEnd);
            await log.abandon();
            const activePath = await activeSegmentPath(directory);
            if (operation.damage === "cut") {
              const from = await durableEndPosition(directory, activePath, durableEnd);
              const size = (await stat(activePath)).size;
              await truncate(activePath, from + Math.floor((size - from) * operation.fraction));
            } else if (operation.damage === "garbage") {
              await appendFile(activePath, operation.garbage);
            }
            log = await open();
            const served = await readAll(log);
            const mustSurvive = model.batches.filter((batch) => batch.lastOffset < durableEnd).length;
            expect(served.length).toBeGreaterThanOrEqual(mustSurvive);
            expect(served.length).toBeLessThanOrEqual(model.batches.length);
            expectSameBytes(
              served,
              model.batches.map((batch) => batch.bytes),
            );
            model.batches = model.batches.slice(0, served.length);
            const last = model.batches[model.batches.length - 1];
            model.endOffset = last === undefined ? model.startOffset : last.lastOffset + 1n;
            for (const batch of model.batches) batch.durable = true;
            await settleAppends(model);
            expectLogMatchesModel(log, model, served);
            expect(log.durableEndOffset).toBe(log.logEndOffset);
            break;
          }
          case "truncate": {
            const span = Number(model.endOffset - model.startOffset);
            const offset = model.startOffset + BigInt(Math.floor(span * operation.fraction));
            await log.truncateTo(offset);
            // A truncation past the end changes nothing and waits for nothing: the reads below need the writes.
            await settleAppends(model);
            if (offset <= model.startOffset) {
              model.batches = [];
              model.startOffset = offset;
              model.endOffset = offset;
            } else if (offset < model.endOffset) {
              model.batches = model.batches.filter((batch) => batch.lastOffset < offset);
              const last = model.batches[model.batches.length - 1];
              model.endOffset = last === undefined ? model.startOffset : last.lastOffset + 1n;
            }
            expectLogMatchesModel(log, model, await readAll(log));
            break;
          }
          case "retention": {
            await log.applyRetention(now);
            const start = log.logStartOffset;
            expect(start).toBeGreaterThanOrEqual(model.startOffset);
            if (start !== model.startOffset) {
              expect(
                model.batches.some((batch) => batch.baseOffset === start) || start === model.endOffset,
              ).toBe(true);
              model.batches = model.batches.filter((batch) => batch.baseOffset >= start);
              model.startOffset = start;
            }
            break;
          }
        }
      }
      await log.close();
      log = await open();
      expectLogMatchesModel(log, model, await readAll(log));
      await log.close();
    } finally {
      await log.abandon().catch(() => undefined);
      sync.close();
    }
  });
}

describe("PartitionLog against a model", () => {
  it("keeps every durable batch byte-exact and offsets contiguous through crashes and reopens", async () => {
    await fc.assert(
      fc.asyncProperty(
        setupArbitrary,
        fc.array(operationArbitrary, { minLength: 1, maxLength: 30, size: "max" }),
        runScenario,
      ),
      { numRuns: 80 },
    );
  });
});
