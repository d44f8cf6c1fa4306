import { afterEach, describe, expect, it } from "vitest";
import {
  appendBatches,
  batchOf,
  closeTestSchedulers,
  openTestLog,
  withTemporaryDirectory,
} from "./test-support.ts";

afterEach(() => closeTestSchedulers());

describe("a partition log whose topic configs change", () => {
  it("applies the new retention at the next check, keeps its index interval, and refuses a config it cannot run", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const log = await openTestLog(directory, { segmentBytesMax: size });
      await appendBatches(log, ["a", "b", "c", "d"]);
      await log.applyRetention(Date.now());
      expect(log.segmentBaseOffsets).toEqual([0n, 3n, 6n, 9n]);

      expect(
        log.reconfigure({ ...log.config, retentionBytesMax: size * 2, indexIntervalBytes: 1 }),
      ).toBeNull();
      expect(log.config.retentionBytesMax).toBe(size * 2);
      // The sealed segments' sparse indexes were built with the interval the log opened with.
      expect(log.config.indexIntervalBytes).toBe(4096);
      await log.applyRetention(Date.now());
      expect(log.segmentBaseOffsets).toEqual([6n, 9n]);

      expect(log.reconfigure({ ...log.config, segmentBytesMax: 0 })).not.toBeNull();
      expect(log.config.segmentBytesMax).toBe(size);
      await log.close();
    }));
});
