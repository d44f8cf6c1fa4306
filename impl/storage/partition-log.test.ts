import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StorageBusyError, SyncScheduler } from "./sync-scheduler.ts";
import {
  appendBatches,
  batchOf,
  batchOffsets,
  capturingLogger,
  closeTestSchedulers,
  openTestLog,
  produced,
  readRecords,
  testScheduler,
  withTemporaryDirectory,
} from "./test-support.ts";

afterEach(closeTestSchedulers);

describe("PartitionLog segments", () => {
  it("rolls when the active segment would exceed segmentBytesMax, and reads one segment at a time", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const log = await openTestLog(directory, { segmentBytesMax: size * 2 });
      await appendBatches(log, ["a", "b", "c", "d", "e"]);
      expect(log.segmentBaseOffsets).toEqual([0n, 6n, 12n]);
      expect(batchOffsets(await readRecords(log, 0n))).toEqual([0n, 3n]);
      expect(batchOffsets(await readRecords(log, 6n))).toEqual([6n, 9n]);
      expect(batchOffsets(await readRecords(log, 12n))).toEqual([12n]);
      await log.close();
      const names = (await readdir(directory)).sort();
      expect(names).toContain("00000000000000000006.log");
      expect(names).toContain("00000000000000000006.index");
      expect(names).toContain("00000000000000000006.timeindex");
    }));

  it("rolls when the active segment's first batch is older than segmentMsMax", () =>
    withTemporaryDirectory(async (directory) => {
      let now = 1_000_000;
      const log = await openTestLog(directory, { segmentMsMax: 60_000 }, { nowMs: () => now });
      await appendBatches(log, ["a"]);
      now += 59_000;
      await appendBatches(log, ["b"]);
      expect(log.segmentBaseOffsets).toEqual([0n]);
      now += 2_000;
      await appendBatches(log, ["c"]);
      expect(log.segmentBaseOffsets).toEqual([0n, 6n]);
      await log.close();
    }));

  it("retention by bytes deletes whole old segments, moves logStartOffset, never the active one", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const log = await openTestLog(directory, { segmentBytesMax: size, retentionBytesMax: size * 2 });
      await appendBatches(log, ["a", "b", "c", "d"]);
      expect(log.segmentBaseOffsets).toEqual([0n, 3n, 6n, 9n]);
      await log.applyRetention(Date.now());
      expect(log.segmentBaseOffsets).toEqual([6n, 9n]);
      expect(log.logStartOffset).toBe(6n);
      expect(await log.read(3n, 1000, 12n, true)).toEqual({ error: "offset-out-of-range" });
      await log.close();
      await expect(stat(path.join(directory, "00000000000000000000.log"))).rejects.toThrow();

      const tiny = await openTestLog(directory, { segmentBytesMax: size, retentionBytesMax: 0 });
      expect(tiny.logStartOffset).toBe(6n);
      await tiny.applyRetention(Date.now());
      expect(tiny.segmentBaseOffsets).toEqual([9n]);
      await tiny.close();
    }));

  it("retention by time deletes segments whose newest record is older than retentionMsMax", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const log = await openTestLog(directory, { segmentBytesMax: size, retentionMsMax: 10_000 });
      await appendBatches(log, ["a"], 3, 100_000n);
      await appendBatches(log, ["b"], 3, 200_000n);
      await appendBatches(log, ["c"], 3, 300_000n);
      await log.applyRetention(105_000);
      expect(log.logStartOffset).toBe(0n);
      await log.applyRetention(250_000);
      expect(log.segmentBaseOffsets).toEqual([6n]);
      // The active segment stays however old it is.
      await log.applyRetention(10_000_000);
      expect(log.segmentBaseOffsets).toEqual([6n]);
      await log.close();
    }));
});

describe("PartitionLog truncation", () => {
  it("drops the batch holding the offset and everything after, across segments, and appends continue there", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const log = await openTestLog(directory, { segmentBytesMax: size * 2 });
      await appendBatches(log, ["a", "b", "c", "d", "e"]);
      await log.truncateTo(7n);
      expect(log.logEndOffset).toBe(6n);
      expect(log.durableEndOffset).toBe(6n);
      expect(log.segmentBaseOffsets).toEqual([0n, 6n]);
      expect(batchOffsets(await readRecords(log, 0n))).toEqual([0n, 3n]);
      const [next] = await appendBatches(log, ["f"]);
      expect(next!.baseOffset).toBe(6n);
      await log.truncateTo(4n);
      expect(log.logEndOffset).toBe(3n);
      expect(log.segmentBaseOffsets).toEqual([0n]);
      await log.close();

      const reopened = await openTestLog(directory, { segmentBytesMax: size * 2 });
      expect(reopened.logEndOffset).toBe(3n);
      expect(batchOffsets(await readRecords(reopened, 0n))).toEqual([0n]);
      await reopened.truncateTo(0n);
      expect(reopened.logEndOffset).toBe(0n);
      await reopened.close();
    }));

  it("truncating below the log start empties the log and restarts it at that offset", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const log = await openTestLog(directory, { segmentBytesMax: size, retentionBytesMax: size });
      await appendBatches(log, ["a", "b", "c"]);
      await log.applyRetention(Date.now());
      expect(log.logStartOffset).toBe(6n);
      await log.truncateTo(2n);
      expect([log.logStartOffset, log.logEndOffset]).toEqual([2n, 2n]);
      const [next] = await appendBatches(log, ["d"]);
      expect(next!.baseOffset).toBe(2n);
      await log.close();
    }));
});

describe("PartitionLog checkpoints", () => {
  it("keeps the leader-epoch checkpoint across reopen and answers OffsetForLeaderEpoch from it", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const { records, batches } = produced(batchOf("a", 3));
      await log.append(records, batches, 1).durable;
      log.recordEpochStart(3, log.logEndOffset);
      const second = produced(batchOf("b", 2));
      await log.append(second.records, second.batches, 3).durable;
      expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 3n });
      expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 3n });
      expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 5n });
      expect(log.endOffsetForEpoch(4)).toEqual({ epoch: -1, endOffset: -1n });
      await log.close();
      expect(await readFile(path.join(directory, "leader-epoch-checkpoint"), "utf8")).toBe(
        "0\n2\n1 0\n3 3\n",
      );

      const reopened = await openTestLog(directory);
      expect(reopened.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 3n });
      expect(reopened.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 5n });
      // Truncation forgets the epochs that no longer have records.
      await reopened.truncateTo(3n);
      expect(reopened.leaderEpochs).toEqual([{ epoch: 1, startOffset: 0n }]);
      await reopened.close();
    }));

  it("keeps the high-watermark checkpoint, clamped to the recovered log", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await appendBatches(log, ["a", "b"]);
      await log.checkpointHighWatermark(4n);
      expect(log.checkpointedHighWatermark).toBe(4n);
      await log.close();
      const reopened = await openTestLog(directory);
      expect(reopened.checkpointedHighWatermark).toBe(4n);
      await reopened.checkpointHighWatermark(60n);
      await reopened.close();
      const clamped = await openTestLog(directory);
      expect(clamped.checkpointedHighWatermark).toBe(6n);
      await clamped.close();
    }));
});

describe("PartitionLog group commit", () => {
  it("writes and syncs many appends of one turn with one writev and one fdatasync per file", () =>
    withTemporaryDirectory(async (directory) => {
      const sync = testScheduler("always");
      const first = await openTestLog(path.join(directory, "p0"), {}, { sync });
      const second = await openTestLog(path.join(directory, "p1"), {}, { sync });
      const before = { ...sync.counters };
      const durables: Promise<void>[] = [];
      for (let index = 0; index < 50; index++) {
        for (const log of [first, second]) {
          const { records, batches } = produced(batchOf(`g${index}`, 2));
          durables.push(log.append(records, batches, 0).durable);
        }
      }
      await Promise.all(durables);
      expect(sync.counters.writevCalls - before.writevCalls).toBe(2);
      expect(sync.counters.fdatasyncCalls - before.fdatasyncCalls).toBe(2);
      expect(first.durableEndOffset).toBe(100n);
      expect(second.durableEndOffset).toBe(100n);
      await first.close();
      await second.close();
    }));

  it("resolves durable in offset order and refuses appends beyond pendingBytesMax before assigning offsets", () =>
    withTemporaryDirectory(async (directory) => {
      // Labels of one length, so that every batch has the same size.
      const size = batchOf("b0", 2).length;
      const sync = new SyncScheduler("always", 1000, { pendingBytesMax: size * 3, pendingWritesMax: 100 });
      const log = await openTestLog(directory, {}, { sync });
      const order: bigint[] = [];
      const durables = [];
      for (let index = 0; index < 3; index++) {
        const { records, batches } = produced(batchOf(`b${index}`, 2));
        const result = log.append(records, batches, 0);
        durables.push(result.durable.then(() => order.push(result.baseOffset)));
      }
      const { records, batches } = produced(batchOf("b3", 2));
      expect(() => log.append(records, batches, 0)).toThrow(StorageBusyError);
      expect(log.logEndOffset).toBe(6n);
      await log.waitForAppendRoom(records.length);
      await Promise.all(durables);
      expect(order).toEqual([0n, 2n, 4n]);
      expect(log.append(records, batches, 0).baseOffset).toBe(6n);
      await log.close();
    }));

  it("under fsync never, durable resolves once written and nothing is synced until close", () =>
    withTemporaryDirectory(async (directory) => {
      const sync = testScheduler("never");
      const log = await openTestLog(directory, {}, { sync });
      await appendBatches(log, ["a", "b"]);
      expect(sync.counters.fdatasyncCalls).toBe(0);
      expect(log.durableEndOffset).toBe(6n);
      await log.close();
      expect(sync.counters.fdatasyncCalls).toBe(1);
    }));
});

describe("PartitionLog bounds and states", () => {
  it("admits an append larger than pendingBytesMax whole into an empty queue, even across a roll", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const sync = new SyncScheduler("always", 1000, { pendingBytesMax: size, pendingWritesMax: 10 });
      const log = await openTestLog(directory, { segmentBytesMax: size * 2 }, { sync });
      await appendBatches(log, ["a"]);
      const { records, batches } = produced(batchOf("b", 3), batchOf("c", 3), batchOf("d", 3));
      const result = log.append(records, batches, 0);
      await result.durable;
      expect(log.segmentBaseOffsets).toEqual([0n, 6n]);
      expect(batchOffsets(await readRecords(log, 6n))).toEqual([6n, 9n]);
      await log.close();
    }));

  it("seals the segments one append fills and rolls past: synced, indexed and deletable by retention", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const { logger, lines } = capturingLogger();
      const config = { segmentBytesMax: size, retentionBytesMax: size };
      const log = await openTestLog(directory, config, { logger });
      const { records, batches } = produced(batchOf("a", 3), batchOf("b", 3), batchOf("c", 3));
      await log.append(records, batches, 0).durable;
      expect(log.segmentBaseOffsets).toEqual([0n, 3n, 6n]);
      await log.applyRetention(Date.now());
      expect(lines.filter((line) => line.msg === "background storage task failed")).toEqual([]);
      expect(log.segmentBaseOffsets).toEqual([6n]);
      await log.close();
    }));

  it("puts a batch larger than segmentBytesMax alone into a segment of its own", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, { segmentBytesMax: 100 });
      await appendBatches(log, ["small"], 1);
      await appendBatches(log, ["large"], 20);
      await appendBatches(log, ["next"], 1);
      expect(log.segmentBaseOffsets).toEqual([0n, 1n, 21n]);
      await log.close();
    }));

  it("lets reads in flight finish before retention closes and deletes their segment", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const log = await openTestLog(directory, { segmentBytesMax: size, retentionBytesMax: 0 });
      const appended = await appendBatches(log, ["a", "b", "c"]);
      const reads = [0n, 1n, 2n].map((offset) => log.read(offset, 1 << 20, 9n, true));
      const retention = log.applyRetention(Date.now());
      for (const read of await Promise.all(reads)) expect(read).toEqual({ records: appended[0]!.bytes });
      await retention;
      expect(log.logStartOffset).toBe(6n);
      await log.close();
    }));

  it("refuses appends while truncating and after close, and reads after close", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await appendBatches(log, ["a", "b"]);
      const truncation = log.truncateTo(2n);
      const { records, batches } = produced(batchOf("c", 1));
      await Promise.resolve();
      expect(() => log.append(records, batches, 0)).toThrow(/truncating/);
      await truncation;
      await log.close();
      expect(() => log.append(records, batches, 0)).toThrow(/closed/);
      await expect(log.read(0n, 100, 1n, true)).rejects.toThrow(/closed/);
    }));

  it("refuses an append whose leader epoch goes backwards, naming the invariant", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      log.recordEpochStart(5, 0n);
      const { records, batches } = produced(batchOf("a", 1));
      expect(() => log.append(records, batches, 4)).toThrow(/leader-epochs-monotonic/);
      expect(log.logEndOffset).toBe(0n);
      await log.close();
    }));
});
