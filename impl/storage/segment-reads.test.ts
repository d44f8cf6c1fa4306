import { afterEach, describe, expect, it } from "vitest";
import { encodeRecordBatch } from "../protocol/records.ts";
import {
  appendBatches,
  batchOf,
  batchOffsets,
  closeTestSchedulers,
  openTestLog,
  produced,
  readRecords,
  withTemporaryDirectory,
} from "./test-support.ts";

afterEach(closeTestSchedulers);

describe("PartitionLog append and read", () => {
  it("assigns contiguous offsets in call order and serves whole batches from the one holding the offset", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const [first, second, third] = await appendBatches(log, ["a", "b", "c"]);
      expect([first!.baseOffset, second!.baseOffset, third!.baseOffset]).toEqual([0n, 3n, 6n]);
      expect(third!.lastOffset).toBe(8n);
      expect(log.logEndOffset).toBe(9n);
      expect(log.durableEndOffset).toBe(9n);

      // At a boundary: from that batch on, byte for byte what was appended (offsets stamped in place).
      expect(await readRecords(log, 3n)).toEqual(Buffer.concat([second!.bytes, third!.bytes]));
      // Inside a batch: the whole batch that holds it.
      expect(batchOffsets(await readRecords(log, 4n))).toEqual([3n, 6n]);
      expect(batchOffsets(await readRecords(log, 8n))).toEqual([6n]);
      // At the log end: nothing, and no error.
      expect((await readRecords(log, 9n)).length).toBe(0);
      await log.close();
    }));

  it("refuses offsets outside [logStartOffset, logEndOffset]", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await appendBatches(log, ["a"]);
      expect(await log.read(4n, 1000, 10n, true)).toEqual({ error: "offset-out-of-range" });
      expect(await log.read(-1n, 1000, 10n, true)).toEqual({ error: "offset-out-of-range" });
      await log.close();
    }));

  it("keeps to maxBytes with whole batches, and returns an oversized first batch only when atLeastOneBatch", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const appended = await appendBatches(log, ["a", "b", "c"]);
      const size = appended[0]!.bytes.length;
      expect(batchOffsets(await readRecords(log, 0n, size * 2 + size - 1))).toEqual([0n, 3n]);
      expect(batchOffsets(await readRecords(log, 0n, size - 1, true))).toEqual([0n]);
      expect((await readRecords(log, 0n, size - 1, false)).length).toBe(0);
      expect((await readRecords(log, 0n, 0, false)).length).toBe(0);
      await log.close();
    }));

  it("stops before a batch whose last offset reaches maxOffsetExclusive (the high watermark)", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await appendBatches(log, ["a", "b", "c"]);
      const upToSecond = await log.read(0n, 1 << 20, 6n, true);
      expect("records" in upToSecond && batchOffsets(upToSecond.records)).toEqual([0n, 3n]);
      const insideSecond = await log.read(0n, 1 << 20, 5n, true);
      expect("records" in insideSecond && batchOffsets(insideSecond.records)).toEqual([0n]);
      const none = await log.read(3n, 1 << 20, 3n, true);
      expect("records" in none && none.records.length).toBe(0);
      await log.close();
    }));

  it("finds batches through the sparse index when many batches lie between entries", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, { indexIntervalBytes: 300 });
      const labels = Array.from({ length: 40 }, (_, index) => `batch${index}`);
      const appended = await appendBatches(log, labels, 2);
      for (const [index, entry] of appended.entries()) {
        const records = await readRecords(log, entry.baseOffset + 1n, entry.bytes.length);
        expect(records).toEqual(entry.bytes);
        expect(batchOffsets(records)).toEqual([BigInt(index * 2)]);
      }
      await log.close();
    }));
});

describe("PartitionLog timestamps", () => {
  it("offsetForTimestamp finds the first record at or after the target, across batches and segments", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, { segmentBytesMax: 250, indexIntervalBytes: 100 });
      const timestamps = [
        [10n, 20n, 30n],
        [40n, 35n, 50n],
        [60n, 70n, 80n],
        [90n, 100n, 110n],
      ];
      for (const [index, batch] of timestamps.entries()) {
        const { records, batches } = produced(batchOf(`t${index}`, 3, 0n, batch));
        await log.append(records, batches, 0).durable;
      }
      expect(log.segmentBaseOffsets.length).toBeGreaterThan(1);
      expect(await log.offsetForTimestamp(0n)).toEqual({ offset: 0n, timestamp: 10n });
      expect(await log.offsetForTimestamp(20n)).toEqual({ offset: 1n, timestamp: 20n });
      expect(await log.offsetForTimestamp(36n)).toEqual({ offset: 3n, timestamp: 40n });
      expect(await log.offsetForTimestamp(45n)).toEqual({ offset: 5n, timestamp: 50n });
      expect(await log.offsetForTimestamp(95n)).toEqual({ offset: 10n, timestamp: 100n });
      expect(await log.offsetForTimestamp(111n)).toBeNull();
      await log.close();
    }));

  it("maxTimestamp names the first record carrying the largest timestamp, null when empty", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, { segmentBytesMax: 250 });
      expect(await log.maxTimestamp()).toBeNull();
      for (const [index, batch] of [
        [5n, 9n],
        [500n, 7n],
        [3n, 500n],
        [1n, 2n],
      ].entries()) {
        const { records, batches } = produced(batchOf(`m${index}`, 2, 0n, batch));
        await log.append(records, batches, 0).durable;
      }
      expect(await log.maxTimestamp()).toEqual({ offset: 2n, timestamp: 500n });
      await log.close();
      const reopened = await openTestLog(directory, { segmentBytesMax: 250 });
      expect(await reopened.maxTimestamp()).toEqual({ offset: 2n, timestamp: 500n });
      await reopened.close();
    }));
});

describe("timestamp lookups with log append time", () => {
  it("answer with the batch's first offset and its append time", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const batch = encodeRecordBatch(
        [
          { value: Buffer.from("x"), timestamp: 50n },
          { value: Buffer.from("y"), timestamp: 90n },
        ],
        { extraAttributes: 0x08 },
      );
      const { records, batches } = produced(batch);
      await log.append(records, batches, 0).durable;
      expect(await log.offsetForTimestamp(60n)).toEqual({ offset: 0n, timestamp: 90n });
      expect(await log.maxTimestamp()).toEqual({ offset: 0n, timestamp: 90n });
      await log.close();
    }));
});
