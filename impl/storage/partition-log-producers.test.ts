/**
 * The producer state of a real partition log: the leader's append answering
 * retries and refusing out-of-order batches, the follower's append keeping
 * the same state, snapshots at rolls and clean closes, the rebuild from the
 * latest usable snapshot plus the log after it when a log is opened again
 * (after a crash too), and truncation leaving the state as of the new end.
 */
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PartitionLog } from "./partition-log.ts";
import { ProducerBatchRefusedError } from "./producer-state.ts";
import {
  encodeProducerSnapshot,
  ProducerSnapshotFiles,
  producerSnapshotFileName,
} from "./producer-state-snapshot.ts";
import {
  batchOf,
  capturingLogger,
  closeTestSchedulers,
  idempotentBatch,
  leaderBatch,
  openTestLog,
  type ProducerStamp,
  produced,
  readAllBatches,
  replicated,
  withTemporaryDirectory,
} from "./test-support.ts";

afterEach(closeTestSchedulers);

const producerId = 77n;
/** One batch is 3 records of about 70 bytes: a 200-byte segment holds two. */
const twoBatchSegments = { segmentBytesMax: 200 };

function stamp(baseSequence: number, producerEpoch = 0): ProducerStamp {
  return { producerId, producerEpoch, baseSequence };
}

/** The leader's append of one idempotent batch of three records; awaited until durable. */
async function produce(log: PartitionLog, baseSequence: number, label = `s${baseSequence}`, leaderEpoch = 0) {
  const { records, batches } = produced(idempotentBatch(label, 3, stamp(baseSequence)));
  const result = log.append(records, batches, leaderEpoch);
  await result.durable;
  return result;
}

/** Batches 0, 3, 6, ... of the producer, `count` of them. */
async function produceMany(log: PartitionLog, count: number) {
  for (let batch = 0; batch < count; batch++) await produce(log, batch * 3);
}

/** Three records without a producer id, as a plain producer sends them. */
function plainBatch(label: string): Buffer {
  return batchOf(label, 3, BigInt(Date.now()));
}

function lastSequences(log: PartitionLog): number[] {
  return log.producerState(producerId)?.batches.map((batch) => batch.lastSequence) ?? [];
}

describe("the leader's append checks the producer state before giving offsets", () => {
  it("answers a retry with the first attempt's offsets and writes nothing", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await produce(log, 0);
      await produce(log, 3);
      const retry = await produce(log, 0);
      expect(retry).toMatchObject({ baseOffset: 0n, lastOffset: 2n, duplicate: true });
      expect(log.logEndOffset).toBe(6n);
      expect(await readAllBatches(log)).toHaveLength(2);
      await log.close();
    }));

  it("refuses a sequence gap and an older epoch before giving offsets", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await produce(log, 0);
      const gap = produced(idempotentBatch("gap", 3, stamp(9)));
      expect(() => log.append(gap.records, gap.batches, 0)).toThrow(ProducerBatchRefusedError);
      const bumped = produced(idempotentBatch("bumped", 3, stamp(0, 1)));
      await log.append(bumped.records, bumped.batches, 0).durable;
      const fenced = produced(idempotentBatch("fenced", 3, stamp(3, 0)));
      expect(() => log.append(fenced.records, fenced.batches, 0)).toThrow(
        expect.objectContaining({ problem: "invalid-producer-epoch" }),
      );
      expect(log.logEndOffset).toBe(6n);
      await log.close();
    }));
});

describe("producer state snapshots and recovery", () => {
  it("snapshots at each roll what the batches before the new segment left", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, twoBatchSegments);
      await produceMany(log, 5);
      expect(log.segmentBaseOffsets).toEqual([0n, 6n, 12n]);
      await log.close();
      const files = await ProducerSnapshotFiles.list(directory);
      // One per roll, one at the clean close.
      expect(files.all).toEqual([6n, 12n, 15n]);
      const atSecondRoll = await files.read(12n);
      expect(atSecondRoll).toMatchObject([
        {
          producerId,
          batches: [{ lastOffset: 2n }, { lastOffset: 5n }, { lastOffset: 8n }, { lastOffset: 11n }],
        },
      ]);
    }));

  it("after a clean close loads the state from the snapshot at the log end, reading no batch", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await produceMany(log, 3);
      const before = log.producerState(producerId);
      await log.close();

      const { logger, lines } = capturingLogger();
      const reopened = await openTestLog(directory, {}, { logger });
      expect(reopened.producerState(producerId)).toEqual(before);
      expect(lines.find((line) => line.msg === "producer state loaded")).toMatchObject({
        readFrom: "9",
        batchesRead: 0,
      });
      expect((await produce(reopened, 3)).duplicate).toBe(true);
      await reopened.close();
    }));

  it("after a crash rebuilds the state from the latest snapshot and the log after it", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, twoBatchSegments);
      await produceMany(log, 5);
      const before = log.producerState(producerId);
      await log.backgroundSettled();
      await log.abandon();

      const { logger, lines } = capturingLogger();
      const reopened = await openTestLog(directory, twoBatchSegments, { logger });
      expect(reopened.producerState(producerId)).toEqual(before);
      expect(lines.find((line) => line.msg === "producer state loaded")).toMatchObject({
        readFrom: "12",
        batchesRead: 1,
      });
      // A retry of any of the last five batches is still recognised, and the sequence continues.
      for (let batch = 0; batch < 5; batch++) {
        expect(await produce(reopened, batch * 3)).toMatchObject({
          duplicate: true,
          baseOffset: BigInt(batch * 3),
        });
      }
      expect(await produce(reopened, 15)).toMatchObject({ duplicate: false, baseOffset: 15n });
      // The rebuild left a snapshot at the end it read to.
      expect(reopened.producerSnapshotOffsets).toContain(15n);
      await reopened.close();
    }));

  it("deletes a damaged snapshot and rebuilds from the one before it", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, twoBatchSegments);
      await produceMany(log, 5);
      const before = log.producerState(producerId);
      await log.backgroundSettled();
      await log.abandon();
      await writeFile(path.join(directory, producerSnapshotFileName(12n)), Buffer.from("not a snapshot"));

      const { logger, lines } = capturingLogger();
      const reopened = await openTestLog(directory, twoBatchSegments, { logger });
      expect(reopened.producerState(producerId)).toEqual(before);
      expect(
        lines.find((line) => line.msg?.toString().startsWith("deleted an unusable producer snapshot")),
      ).toBeDefined();
      expect(lines.find((line) => line.msg === "producer state loaded")).toMatchObject({
        readFrom: "6",
        batchesRead: 3,
      });
      await reopened.close();
    }));

  it("reads the whole log when no snapshot is usable", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, twoBatchSegments);
      await produceMany(log, 5);
      const before = log.producerState(producerId);
      await log.backgroundSettled();
      await log.abandon();
      for (const offset of [6n, 12n]) {
        await writeFile(path.join(directory, producerSnapshotFileName(offset)), Buffer.alloc(0));
      }
      const reopened = await openTestLog(directory, twoBatchSegments);
      expect(reopened.producerState(producerId)).toEqual(before);
      await reopened.close();
    }));

  it("deletes snapshots past the recovered log end, and strays but the latest", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, twoBatchSegments);
      await produceMany(log, 3);
      await log.close();
      // A stray from an earlier run below the end, and one past the end (its records were cut).
      await writeFile(path.join(directory, producerSnapshotFileName(4n)), encodeProducerSnapshot([]));
      await writeFile(path.join(directory, producerSnapshotFileName(40n)), encodeProducerSnapshot([]));

      const reopened = await openTestLog(directory, twoBatchSegments);
      expect(reopened.producerSnapshotOffsets).toEqual([6n, 9n]);
      expect(lastSequences(reopened)).toEqual([2, 5, 8]);
      await reopened.close();
      const names = (await readdir(directory)).filter((name) => name.endsWith(".producer-snapshot"));
      expect(names.sort()).toEqual([producerSnapshotFileName(6n), producerSnapshotFileName(9n)]);
    }));

  it("takes a log closed cleanly without any snapshot as holding no producer, as Kafka does on an upgrade", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await produceMany(log, 2);
      await log.close();
      await (await ProducerSnapshotFiles.list(directory)).removeWhere(() => true);

      const reopened = await openTestLog(directory);
      expect(reopened.producerCount).toBe(0);
      expect(reopened.producerSnapshotOffsets).toEqual([6n]);
      await reopened.close();
    }));
});

describe("the follower's append and truncation", () => {
  it("keeps a follower's producer state from the batches it replicates, so it can answer retries as leader", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const fromLeader = replicated(
        idempotentBatch("s0", 3, stamp(0), { baseOffset: 0n, epoch: 1 }),
        leaderBatch("plain", 2, 3n, 1),
        idempotentBatch("s3", 3, stamp(3), { baseOffset: 5n, epoch: 1 }),
      );
      await log.appendAsFollower(fromLeader.records, fromLeader.batches).durable;
      expect(lastSequences(log)).toEqual([2, 5]);
      // Leading now, in epoch 2: a producer's retry of what the old leader wrote is answered from here.
      log.recordEpochStart(2, log.logEndOffset);
      expect(await produce(log, 3, "retry", 2)).toMatchObject({
        duplicate: true,
        baseOffset: 5n,
        lastOffset: 7n,
      });
      expect(await produce(log, 6, "next", 2)).toMatchObject({ duplicate: false, baseOffset: 8n });
      await log.close();
    }));

  it("truncation leaves the state as of the new end: snapshots past it go, truncated batches are no retries", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, twoBatchSegments);
      await produceMany(log, 5);
      await log.backgroundSettled();
      expect(log.producerSnapshotOffsets).toEqual([6n, 12n]);

      await log.truncateTo(9n);

      expect(log.producerSnapshotOffsets).toEqual([6n]);
      expect(lastSequences(log)).toEqual([2, 5, 8]);
      // Batch 9-11 is gone: its producer's next batch (sequence 9) is a new append, not a retry.
      expect(await produce(log, 9, "rewritten")).toMatchObject({ duplicate: false, baseOffset: 9n });
      await log.close();
      const reopened = await openTestLog(directory, twoBatchSegments);
      expect(lastSequences(reopened)).toEqual([2, 5, 8, 11]);
      await reopened.close();
    }));

  it("truncating a log without producers reads nothing back, and still drops the snapshots past the end", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, twoBatchSegments);
      for (const label of ["a", "b", "c", "d", "e"]) {
        const { records, batches } = produced(plainBatch(label));
        await log.append(records, batches, 0).durable;
      }
      await log.backgroundSettled();
      expect(log.producerSnapshotOffsets).toEqual([6n, 12n]);
      await log.truncateTo(7n);
      expect(log.producerSnapshotOffsets).toEqual([6n]);
      expect(log.producerCount).toBe(0);
      await log.close();
    }));

  it("a full truncation forgets every producer and every snapshot", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory, twoBatchSegments);
      await produceMany(log, 3);
      await log.backgroundSettled();
      await log.truncateFullyAndStartAt(100n);
      expect(log.producerCount).toBe(0);
      expect(log.producerSnapshotOffsets).toEqual([]);
      await log.close();
    }));
});

describe("producer state and retention", () => {
  it("retention deletes the snapshots before the new log start and expires idle producers", () =>
    withTemporaryDirectory(async (directory) => {
      // Retention keeps the active segment's one batch and deletes the two full segments before it.
      const batchBytes = produced(idempotentBatch("s0", 3, stamp(0))).records.length;
      const log = await openTestLog(
        directory,
        { ...twoBatchSegments, retentionBytesMax: batchBytes },
        { producerState: { producerIdExpirationMs: 60_000 } },
      );
      await produceMany(log, 5);
      await log.backgroundSettled();
      expect(log.producerSnapshotOffsets).toEqual([6n, 12n]);

      await log.applyRetention(Date.now());
      expect(log.logStartOffset).toBe(12n);
      expect(log.producerSnapshotOffsets).toEqual([12n]);
      expect(log.producerCount).toBe(1);
      // The batches were stamped when produced: a minute on, the producer has expired.
      await log.applyRetention(Date.now() + 61_000);
      expect(log.producerCount).toBe(0);
      await log.close();
    }));
});
