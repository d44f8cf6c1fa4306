import { afterEach, describe, expect, it } from "vitest";
import {
  batchOf,
  closeTestSchedulers,
  leaderBatch,
  openTestLog,
  produced,
  readAllBatches,
  replicated,
  withTemporaryDirectory,
} from "./test-support.ts";

afterEach(closeTestSchedulers);

describe("PartitionLog.truncateFullyAndStartAt", () => {
  it("restarts a follower's log past its end, where the leader's log starts, and keeps it after a reopen", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const first = replicated(leaderBatch("a", 3, 0n, 1), leaderBatch("b", 3, 3n, 2));
      await log.appendAsFollower(first.records, first.batches).durable;
      await log.checkpointHighWatermark(6n);

      await log.truncateFullyAndStartAt(100n);

      expect(log.logStartOffset).toBe(100n);
      expect(log.logEndOffset).toBe(100n);
      expect(log.durableEndOffset).toBe(100n);
      expect(log.leaderEpochs).toEqual([]);
      expect(log.checkpointedHighWatermark).toBe(100n);
      const next = replicated(leaderBatch("c", 2, 100n, 3));
      await log.appendAsFollower(next.records, next.batches).durable;
      expect(log.durableEndOffset).toBe(102n);
      await log.close();

      const reopened = await openTestLog(directory);
      expect(reopened.logStartOffset).toBe(100n);
      expect(reopened.logEndOffset).toBe(102n);
      expect(reopened.leaderEpochs).toEqual([{ epoch: 3, startOffset: 100n }]);
      expect(await readAllBatches(reopened)).toEqual([next.records]);
      await reopened.close();
    }));
});

describe("PartitionLog.truncateTo at or past the end", () => {
  it("drops an epoch entry recorded at the end with no records, as Kafka's truncateTo does", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const { records, batches } = produced(batchOf("a", 3));
      await log.append(records, batches, 2).durable;
      // This node led in epoch 5 and appended nothing before another leader took over.
      log.recordEpochStart(5, log.logEndOffset);
      expect(log.leaderEpochs).toEqual([
        { epoch: 2, startOffset: 0n },
        { epoch: 5, startOffset: 3n },
      ]);

      await log.truncateTo(3n);

      expect(log.logEndOffset).toBe(3n);
      expect(log.leaderEpochs).toEqual([{ epoch: 2, startOffset: 0n }]);
      await log.close();
      const reopened = await openTestLog(directory);
      expect(reopened.leaderEpochs).toEqual([{ epoch: 2, startOffset: 0n }]);
      await reopened.close();
    }));

  it("keeps every entry of epochs that hold records", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const input = replicated(leaderBatch("a", 3, 0n, 1), leaderBatch("b", 3, 3n, 4));
      await log.appendAsFollower(input.records, input.batches).durable;

      await log.truncateTo(10n);

      expect(log.logEndOffset).toBe(6n);
      expect(log.leaderEpochs).toEqual([
        { epoch: 1, startOffset: 0n },
        { epoch: 4, startOffset: 3n },
      ]);
      await log.close();
    }));
});

describe("PartitionLog.appendsWritten", () => {
  it("resolves once every append so far can be read", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const labels = ["a", "b", "c", "d"];
      const appended = labels.map((label) => {
        const { records, batches } = produced(batchOf(label, 2));
        return log.append(records, batches, 0);
      });

      await log.appendsWritten();

      const read = await log.read(0n, 1 << 20, log.logEndOffset, true);
      if ("error" in read) throw new Error(read.error);
      const served = replicated(read.records);
      expect(served.batches.map((batch) => batch.baseOffset)).toEqual([0n, 2n, 4n, 6n]);
      await Promise.all(appended.map((result) => result.durable));
      await log.close();
    }));
});
