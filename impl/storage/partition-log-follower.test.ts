import { readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { computeBatchCrc, isBatchProblem, readBatchHeader } from "../protocol/record-batch.ts";
import type { AppendResult, PartitionLog } from "./partition-log.ts";
import {
  InvalidReplicatedBatchError,
  readReplicatedBatches,
  UnexpectedAppendOffsetError,
} from "./replicated-batches.ts";
import { StorageBusyError, SyncScheduler } from "./sync-scheduler.ts";
import {
  batchOf,
  capturingLogger,
  closeTestSchedulers,
  epochStartsOf,
  leaderBatch,
  openTestLog,
  produced,
  readAllBatches,
  replicated,
  testScheduler,
  withTemporaryDirectory,
} from "./test-support.ts";

afterEach(closeTestSchedulers);

/** Every label's batch has this size: labels of one length, three records each. */
const batchBytes = batchOf("a", 3).length;
const epochCheckpointName = "leader-epoch-checkpoint";

/** Fetches from `leader` until `follower` has its whole log, a read (one segment at most) per append. */
async function replicate(leader: PartitionLog, follower: PartitionLog): Promise<AppendResult[]> {
  const appended: AppendResult[] = [];
  while (follower.logEndOffset < leader.logEndOffset) {
    const read = await leader.read(follower.logEndOffset, 1 << 20, leader.logEndOffset, true);
    if ("error" in read) throw new Error(read.error);
    const batches = readReplicatedBatches(read.records);
    if (isBatchProblem(batches)) throw new Error(batches.detail);
    appended.push(follower.appendAsFollower(read.records, batches));
  }
  await Promise.all(appended.map((result) => result.durable));
  return appended;
}

/** Leader appends, one batch per label, at `epoch`; a new epoch is recorded first, as a new leader does. */
async function lead(log: PartitionLog, epoch: number, labels: string[]): Promise<void> {
  log.recordEpochStart(epoch, log.logEndOffset);
  for (const label of labels) {
    const { records, batches } = produced(batchOf(label, 3));
    await log.append(records, batches, epoch).durable;
  }
}

/** Follower batches of three records each, contiguous from `from`, all of `epoch`. */
function chain(labels: string[], from: bigint, epoch: number): Buffer[] {
  return labels.map((label, index) => leaderBatch(label, 3, from + BigInt(index * 3), epoch));
}

async function segmentFileBytes(directory: string, baseOffset = 0n): Promise<Buffer> {
  return readFile(path.join(directory, `${baseOffset.toString().padStart(20, "0")}.log`));
}

/** The follower's append of these leader batches. */
function follow(log: PartitionLog, ...batches: Buffer[]): AppendResult {
  const input = replicated(...batches);
  return log.appendAsFollower(input.records, input.batches);
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("PartitionLog.appendAsFollower", () => {
  it("copies a leader's log byte for byte, with the same segments and leader-epoch entries", () =>
    withTemporaryDirectory(async (directory) => {
      const config = { segmentBytesMax: batchBytes * 3 };
      const leader = await openTestLog(path.join(directory, "leader"), config);
      await lead(leader, 0, ["a", "b"]);
      await lead(leader, 2, ["c", "d", "e"]);
      await lead(leader, 5, ["f", "g", "h", "i"]);
      const follower = await openTestLog(path.join(directory, "follower"), config);

      const appended = await replicate(leader, follower);
      // One read per leader segment; the first spans epochs 0 and 2.
      expect(appended.map((result) => [result.baseOffset, result.lastOffset])).toEqual([
        [0n, 8n],
        [9n, 17n],
        [18n, 26n],
      ]);
      const leaderBatches = await readAllBatches(leader);
      expect(leaderBatches).toHaveLength(9);
      expect(await readAllBatches(follower)).toEqual(leaderBatches);
      expect(follower.segmentBaseOffsets).toEqual(leader.segmentBaseOffsets);
      expect(follower.leaderEpochs).toEqual([
        { epoch: 0, startOffset: 0n },
        { epoch: 2, startOffset: 6n },
        { epoch: 5, startOffset: 15n },
      ]);
      expect(follower.leaderEpochs).toEqual(leader.leaderEpochs);
      for (const epoch of [0, 1, 2, 3, 5, 6]) {
        expect(follower.endOffsetForEpoch(epoch)).toEqual(leader.endOffsetForEpoch(epoch));
      }
      expect(follower.durableEndOffset).toBe(27n);
      await leader.close();
      await follower.close();

      const reopened = await openTestLog(path.join(directory, "follower"), config);
      expect(await readAllBatches(reopened)).toEqual(leaderBatches);
      expect(reopened.leaderEpochs).toEqual(leader.leaderEpochs);
      expect(await readFile(path.join(directory, "follower", epochCheckpointName), "utf8")).toBe(
        "0\n3\n0 0\n2 6\n5 15\n",
      );
      await reopened.close();
    }));

  it("refuses a first batch that leaves a gap or overlaps, naming both offsets, and writes nothing", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await follow(log, ...chain(["a", "b"], 0n, 1)).durable;
      const sizeBefore = log.sizeBytes;
      for (const first of [7n, 3n, 0n]) {
        const error = thrown(() => follow(log, ...chain(["c"], first, 2)));
        expect(error).toBeInstanceOf(UnexpectedAppendOffsetError);
        expect(error).toMatchObject({ firstOffset: first, logEndOffset: 6n });
        expect(String(error)).toMatch(new RegExp(`offset ${first}, the log ends at 6`));
      }
      expect([log.logEndOffset, log.sizeBytes]).toEqual([6n, sizeBefore]);
      expect(log.leaderEpochs).toEqual([{ epoch: 1, startOffset: 0n }]);

      // A gap or an overlap between two batches of one append refuses all of it.
      const gap = replicated(leaderBatch("c", 3, 6n, 2), leaderBatch("d", 3, 10n, 2));
      const overlap = replicated(leaderBatch("c", 3, 6n, 2), leaderBatch("d", 3, 8n, 2));
      for (const input of [gap, overlap]) {
        const error = thrown(() => log.appendAsFollower(input.records, input.batches));
        expect(error).toBeInstanceOf(InvalidReplicatedBatchError);
        expect(error).toMatchObject({ problem: "offsets-not-contiguous", position: batchBytes });
      }
      expect([log.logEndOffset, log.sizeBytes]).toEqual([6n, sizeBefore]);
      expect(log.leaderEpochs).toEqual([{ epoch: 1, startOffset: 0n }]);
      await log.close();
      expect((await stat(path.join(directory, "00000000000000000000.log"))).size).toBe(batchBytes * 2);
    }));

  it("refuses a batch whose CRC or record count is wrong, writing none of the append", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await follow(log, ...chain(["a"], 0n, 1)).durable;
      const good = leaderBatch("b", 3, 3n, 1);
      const corrupt = leaderBatch("c", 3, 6n, 1);
      corrupt[corrupt.length - 2]! ^= 0x40;
      const input = replicated(good, corrupt);
      const error = thrown(() => log.appendAsFollower(input.records, input.batches));
      expect(error).toBeInstanceOf(InvalidReplicatedBatchError);
      expect(error).toMatchObject({ problem: "bad-crc", position: good.length });

      // A count that disagrees with the offsets, under a CRC that matches it.
      const miscounted = leaderBatch("d", 3, 3n, 1);
      miscounted.writeInt32BE(2, 57);
      const header = readBatchHeader(miscounted, 0);
      if (isBatchProblem(header)) throw new Error(header.detail);
      miscounted.writeUInt32BE(computeBatchCrc(miscounted, header), 17);
      const countError = thrown(() => follow(log, miscounted));
      expect(countError).toMatchObject({ problem: "bad-count", position: 0 });

      expect(log.logEndOffset).toBe(3n);
      await log.close();
      expect(await segmentFileBytes(directory)).toEqual(leaderBatch("a", 3, 0n, 1));
      expect(readReplicatedBatches(good.subarray(0, good.length - 1))).toMatchObject({ kind: "truncated" });
    }));

  it("refuses records of an older leader epoch, but lets them replace an epoch that holds no records", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      await follow(log, ...chain(["a"], 0n, 3)).durable;
      const older = thrown(() => follow(log, ...chain(["b"], 3n, 2)));
      expect(older).toMatchObject({ problem: "leader-epoch-regressed", position: 0 });
      const within = replicated(leaderBatch("b", 3, 3n, 4), leaderBatch("c", 3, 6n, 3));
      expect(thrown(() => log.appendAsFollower(within.records, within.batches))).toMatchObject({
        problem: "leader-epoch-regressed",
        position: batchBytes,
      });
      expect(log.logEndOffset).toBe(3n);
      expect(log.leaderEpochs).toEqual([{ epoch: 3, startOffset: 0n }]);

      // This node led epoch 7 without appending; the new leader's backlog from epoch 4 replaces it, as in Kafka.
      log.recordEpochStart(7, 3n);
      await follow(log, ...chain(["b", "c"], 3n, 4)).durable;
      expect(log.leaderEpochs).toEqual([
        { epoch: 3, startOffset: 0n },
        { epoch: 4, startOffset: 3n },
      ]);
      await log.close();
    }));

  it("refuses with StorageBusyError when the group commit is full, recording no epoch", () =>
    withTemporaryDirectory(async (directory) => {
      const sync = new SyncScheduler("always", 1000, { pendingBytesMax: batchBytes, pendingWritesMax: 10 });
      const log = await openTestLog(directory, {}, { sync });
      const first = follow(log, ...chain(["a"], 0n, 1));
      const second = replicated(...chain(["b"], 3n, 2));
      expect(() => log.appendAsFollower(second.records, second.batches)).toThrow(StorageBusyError);
      expect(log.logEndOffset).toBe(3n);
      expect(log.leaderEpochs).toEqual([{ epoch: 1, startOffset: 0n }]);
      await log.waitForAppendRoom(second.records.length);
      await first.durable;
      await log.appendAsFollower(second.records, second.batches).durable;
      expect(log.leaderEpochs.map((entry) => entry.epoch)).toEqual([1, 2]);
      await log.close();
      sync.close();
    }));
});

describe("PartitionLog follower truncation", () => {
  it("truncates into an earlier segment and appends a new leader's records there, also after a crash", () =>
    withTemporaryDirectory(async (directory) => {
      const config = { segmentBytesMax: batchBytes * 2 };
      const log = await openTestLog(directory, config);
      const old = [...chain(["a", "b", "c"], 0n, 1), ...chain(["d", "e"], 9n, 2)];
      await follow(log, ...old).durable;
      expect(log.segmentBaseOffsets).toEqual([0n, 6n, 12n]);
      expect(log.leaderEpochs).toEqual([
        { epoch: 1, startOffset: 0n },
        { epoch: 2, startOffset: 9n },
      ]);

      // A new leader (epoch 3) kept only up to offset 3: OffsetForLeaderEpoch says truncate there.
      await log.truncateTo(3n);
      expect([log.logEndOffset, log.segmentBaseOffsets]).toEqual([3n, [0n]]);
      expect(log.leaderEpochs).toEqual([{ epoch: 1, startOffset: 0n }]);
      // Durable before truncateTo resolved, not merely queued.
      expect(await readFile(path.join(directory, epochCheckpointName), "utf8")).toBe("0\n1\n1 0\n");
      const fresh = chain(["p", "q", "r"], 3n, 3);
      await follow(log, ...fresh).durable;
      expect(log.segmentBaseOffsets).toEqual([0n, 6n]);
      const expected = [old[0]!, ...fresh];
      expect(await readAllBatches(log)).toEqual(expected);
      expect(log.leaderEpochs).toEqual(epochStartsOf(expected));
      await log.close();

      const reopened = await openTestLog(directory, config);
      expect(await readAllBatches(reopened)).toEqual(expected);
      expect(reopened.leaderEpochs).toEqual(epochStartsOf(expected));
      // Truncate, crash, and append at the recovered end.
      await reopened.truncateTo(7n);
      expect(reopened.logEndOffset).toBe(6n);
      await reopened.abandon();
      const recovered = await openTestLog(directory, config);
      expect([recovered.logEndOffset, recovered.segmentBaseOffsets]).toEqual([6n, [0n, 6n]]);
      const newer = chain(["x", "y"], 6n, 4);
      await follow(recovered, ...newer).durable;
      await recovered.abandon();
      const again = await openTestLog(directory, config);
      const final = [old[0]!, fresh[0]!, ...newer];
      expect(await readAllBatches(again)).toEqual(final);
      expect(again.leaderEpochs).toEqual([
        { epoch: 1, startOffset: 0n },
        { epoch: 3, startOffset: 3n },
        { epoch: 4, startOffset: 6n },
      ]);
      await again.close();
    }));

  it("truncating below the log start lets a follower start over at the new end", () =>
    withTemporaryDirectory(async (directory) => {
      const config = { segmentBytesMax: batchBytes, retentionBytesMax: batchBytes };
      const log = await openTestLog(directory, config);
      await follow(log, ...chain(["a", "b", "c"], 0n, 1)).durable;
      await log.applyRetention(Date.now());
      expect(log.logStartOffset).toBe(6n);
      await log.truncateTo(4n);
      expect([log.logStartOffset, log.logEndOffset, log.leaderEpochs]).toEqual([4n, 4n, []]);
      const restarted = chain(["m", "n"], 4n, 2);
      await follow(log, ...restarted).durable;
      expect(await readAllBatches(log)).toEqual(restarted);
      expect(log.leaderEpochs).toEqual([{ epoch: 2, startOffset: 4n }]);
      await log.close();
    }));
});

describe("PartitionLog follower crashes", () => {
  it("keeps the durable prefix of follower appends through a crash, epochs matching what survived", () =>
    withTemporaryDirectory(async (directory) => {
      const config = { segmentBytesMax: batchBytes * 4 };
      const log = await openTestLog(directory, config, { sync: testScheduler("always") });
      const batches = [...chain(["a", "b", "c"], 0n, 1), ...chain(["d", "e", "f", "g", "h"], 9n, 2)];
      await follow(log, ...batches.slice(0, 4)).durable;
      // Queued behind the durable ones, not awaited: the crash may drop any suffix of them.
      const pending = batches.slice(4).map((batch) => follow(log, batch));
      for (const result of pending) result.durable.catch(() => undefined);
      await log.abandon();

      const reopened = await openTestLog(directory, config);
      const served = await readAllBatches(reopened);
      expect(served.length).toBeGreaterThanOrEqual(4);
      expect(served).toEqual(batches.slice(0, served.length));
      expect(reopened.logEndOffset).toBe(BigInt(served.length * 3));
      expect(reopened.leaderEpochs).toEqual(epochStartsOf(served));
      // The follower picks up where the recovered log ends.
      const rest = batches.slice(served.length);
      if (rest.length > 0) await follow(reopened, ...rest).durable;
      expect(await readAllBatches(reopened)).toEqual(batches);
      expect(reopened.leaderEpochs).toEqual(epochStartsOf(batches));
      await reopened.close();
    }));

  it("restores an epoch whose checkpoint a crash lost, from the batches of segments without index files", () =>
    withTemporaryDirectory(async (directory) => {
      const config = { segmentBytesMax: batchBytes * 2 };
      const log = await openTestLog(directory, config);
      await follow(log, ...chain(["a"], 0n, 1)).durable;
      await log.flushLeaderEpochCheckpoint();
      const checkpointPath = path.join(directory, epochCheckpointName);
      const beforeEpochTwo = await readFile(checkpointPath);
      // Epoch 2 starts in the first segment and fills the second; the third is active.
      const later = chain(["b", "c", "d", "e"], 3n, 2);
      await follow(log, ...later).durable;
      expect(log.segmentBaseOffsets).toEqual([0n, 6n, 12n]);
      await log.abandon();
      // The crash came before the checkpoint with epoch 2 and the first two segments' index files were written.
      await writeFile(checkpointPath, beforeEpochTwo);
      for (const base of ["00000000000000000000", "00000000000000000006"]) {
        await rm(path.join(directory, `${base}.index`));
        await rm(path.join(directory, `${base}.timeindex`));
      }

      const { logger, lines } = capturingLogger();
      const reopened = await openTestLog(directory, config, { logger });
      const expected = [
        { epoch: 1, startOffset: 0n },
        { epoch: 2, startOffset: 3n },
      ];
      expect(reopened.leaderEpochs).toEqual(expected);
      const restored = lines.find((line) => String(line.msg).startsWith("restored leader epochs"));
      expect(restored?.entries).toEqual(["2@3"]);
      // Written before open returned, so a second crash keeps it.
      expect(await readFile(checkpointPath, "utf8")).toBe("0\n2\n1 0\n2 3\n");
      await reopened.close();
    }));
});

describe("PartitionLog follower high watermark", () => {
  it("clamps the checkpointed high watermark to the log, through truncation and recovery", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const highWatermarkPath = path.join(directory, "high-watermark");
      await follow(log, ...chain(["a", "b", "c"], 0n, 1)).durable;
      // The leader's high watermark is ahead of what this follower has fetched.
      await log.checkpointHighWatermark(40n);
      expect(log.checkpointedHighWatermark).toBe(9n);
      expect(await readFile(highWatermarkPath, "utf8")).toBe("0\n9\n");
      await log.truncateTo(4n);
      expect(log.checkpointedHighWatermark).toBe(3n);
      expect(await readFile(highWatermarkPath, "utf8")).toBe("0\n3\n");
      const fresh = chain(["x", "y"], 3n, 2);
      await follow(log, ...fresh).durable;
      await log.checkpointHighWatermark(9n);
      expect(log.checkpointedHighWatermark).toBe(9n);
      await log.abandon();

      // The crash tore the last batch: recovery clamps the watermark to what is left and saves that.
      const segment = path.join(directory, "00000000000000000000.log");
      await truncate(segment, (await stat(segment)).size - 5);
      const reopened = await openTestLog(directory);
      expect(reopened.logEndOffset).toBe(6n);
      expect(reopened.checkpointedHighWatermark).toBe(6n);
      expect(await readFile(highWatermarkPath, "utf8")).toBe("0\n6\n");
      await reopened.close();
    }));
});
