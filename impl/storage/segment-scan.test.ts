import { appendFile, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeBatchRecords } from "../protocol/records.ts";
import { PartitionLog } from "./partition-log.ts";
import { scanPartitionDirectory } from "./segment-scan.ts";
import { SyncScheduler } from "./sync-scheduler.ts";
import { batchOf, produced, silentLogger, testConfig, withTemporaryDirectory } from "./test-support.ts";

describe("scanPartitionDirectory", () => {
  it("yields every batch of every segment in order and stops at a torn tail without touching the files", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 2).length;
      const sync = new SyncScheduler("never");
      const log = await PartitionLog.open({
        directory,
        config: testConfig({ segmentBytesMax: size * 2 }),
        sync,
        logger: silentLogger(),
      });
      for (const label of ["a", "b", "c", "d", "e"]) {
        const { records, batches } = produced(batchOf(label, 2));
        await log.append(records, batches, 0).durable;
      }
      await log.abandon();
      const active = path.join(directory, "00000000000000000008.log");
      const torn = (await readFile(active)).subarray(0, 30);
      await appendFile(active, torn);
      const sizeBefore = (await stat(active)).size;

      const seen = [];
      for await (const batch of scanPartitionDirectory(directory)) {
        const values = decodeBatchRecords(batch.buffer, batch.header).map((record) =>
          record.value?.toString(),
        );
        seen.push({ offset: batch.header.baseOffset, values, file: path.basename(batch.segmentPath) });
      }
      expect(seen.map((entry) => entry.offset)).toEqual([0n, 2n, 4n, 6n, 8n]);
      expect(seen[4]).toEqual({ offset: 8n, values: ["e-0", "e-1"], file: "00000000000000000008.log" });
      expect((await stat(active)).size).toBe(sizeBefore);
    }));

  it("yields nothing for an empty or missing-segment directory", () =>
    withTemporaryDirectory(async (directory) => {
      const seen = [];
      for await (const batch of scanPartitionDirectory(directory)) seen.push(batch);
      expect(seen).toEqual([]);
    }));
});
