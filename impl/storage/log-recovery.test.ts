import { appendFile, readFile, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  appendBatches,
  batchOf,
  capturingLogger,
  closeTestSchedulers,
  openTestLog,
  readRecords,
  withTemporaryDirectory,
} from "./test-support.ts";

afterEach(closeTestSchedulers);

describe("PartitionLog recovery", () => {
  it("after a crash cuts a torn batch off the active segment and logs what it cut", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const appended = await appendBatches(log, ["a", "b", "c"]);
      await log.abandon();
      const segmentPath = path.join(directory, "00000000000000000000.log");
      const fullSize = (await stat(segmentPath)).size;
      await truncate(segmentPath, fullSize - 5);

      const { logger, lines } = capturingLogger();
      const reopened = await openTestLog(directory, {}, { logger });
      expect(reopened.logEndOffset).toBe(6n);
      expect(await readRecords(reopened, 0n)).toEqual(
        Buffer.concat([appended[0]!.bytes, appended[1]!.bytes]),
      );
      const cut = lines.find((line) => line.msg === "cut the log after its last valid batch");
      expect(cut).toMatchObject({
        level: 40,
        file: segmentPath,
        position: fullSize - appended[2]!.bytes.length,
        bytes: appended[2]!.bytes.length - 5,
      });
      expect(String(cut?.reason)).toMatch(/truncated/);
      await reopened.close();
    }));

  it("cuts at a batch with a bad CRC and at trailing garbage", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openTestLog(directory);
      const appended = await appendBatches(log, ["a", "b", "c"]);
      await log.abandon();
      const segmentPath = path.join(directory, "00000000000000000000.log");
      const bytes = await readFile(segmentPath);
      const secondStart = appended[0]!.bytes.length;
      bytes[secondStart + 70]! ^= 0xff;
      await writeFile(segmentPath, bytes);
      const { logger, lines } = capturingLogger();
      const reopened = await openTestLog(directory, {}, { logger });
      expect(reopened.logEndOffset).toBe(3n);
      expect(String(lines.find((line) => line.position === secondStart)?.reason)).toMatch(/bad-crc/);
      await reopened.abandon();

      await appendFile(segmentPath, Buffer.from("garbage that is not a batch at all, not even close"));
      const again = await openTestLog(directory);
      expect(again.logEndOffset).toBe(3n);
      expect((await stat(segmentPath)).size).toBe(secondStart);
      await again.close();
    }));

  it("after a clean close reopens from the index files, and rebuilds an index file that is damaged", () =>
    withTemporaryDirectory(async (directory) => {
      const config = { segmentBytesMax: 2000, indexIntervalBytes: 100 };
      const log = await openTestLog(directory, config);
      const labels = Array.from({ length: 30 }, (_, index) => `c${index}`);
      const appended = await appendBatches(log, labels, 2);
      await log.close();
      const indexPath = path.join(directory, "00000000000000000000.index");
      expect((await stat(indexPath)).size).toBeGreaterThan(0);
      await appendFile(indexPath, Buffer.from([1, 2, 3]));

      const { logger, lines } = capturingLogger();
      const reopened = await openTestLog(directory, config, { logger });
      expect(lines.some((line) => line.msg === "rebuilt the segment's index by scanning it")).toBe(true);
      expect(reopened.logEndOffset).toBe(60n);
      for (const entry of appended) {
        expect(await readRecords(reopened, entry.baseOffset + 1n, entry.bytes.length)).toEqual(entry.bytes);
      }
      await reopened.close();
    }));

  it("drops segments that no longer continue the log after a cut inside a sealed segment", () =>
    withTemporaryDirectory(async (directory) => {
      const size = batchOf("a", 3).length;
      const log = await openTestLog(directory, { segmentBytesMax: size * 2 });
      await appendBatches(log, ["a", "b", "c", "d", "e"]);
      await log.abandon();
      await truncate(path.join(directory, "00000000000000000006.log"), size + 10);
      const reopened = await openTestLog(directory, { segmentBytesMax: size * 2 });
      expect(reopened.segmentBaseOffsets).toEqual([0n, 6n]);
      expect(reopened.logEndOffset).toBe(9n);
      await reopened.close();
      await expect(stat(path.join(directory, "00000000000000000012.log"))).rejects.toThrow();
    }));
});
