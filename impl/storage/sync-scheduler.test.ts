import { open, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type AppendTarget, SyncScheduler, type WriteRequest } from "./sync-scheduler.ts";
import { withTemporaryDirectory } from "./test-support.ts";

function target(filePath: string): AppendTarget {
  return { path: filePath, handle: open(filePath, "w+") };
}

/** Queues `buffer` at `position` and returns promises for its written and durable callbacks. */
function write(scheduler: SyncScheduler, file: AppendTarget, position: number, text: string) {
  const events: string[] = [];
  let request!: WriteRequest;
  const durable = new Promise<void>((resolve, reject) => {
    request = {
      position,
      buffer: Buffer.from(text),
      onWritten: () => events.push("written"),
      onDurable: () => {
        events.push("durable");
        resolve();
      },
      onFailed: reject,
    };
  });
  scheduler.enqueue([{ target: file, request }]);
  return { durable, events };
}

describe("SyncScheduler", () => {
  it("groups the writes of one turn per file: one writev and one fdatasync each under always", () =>
    withTemporaryDirectory(async (directory) => {
      const scheduler = new SyncScheduler("always");
      const files = [target(path.join(directory, "a")), target(path.join(directory, "b"))];
      const writes = [];
      for (const file of files) {
        for (let index = 0; index < 10; index++) writes.push(write(scheduler, file, index, String(index)));
      }
      await Promise.all(writes.map((entry) => entry.durable));
      expect(scheduler.counters).toEqual({ writevCalls: 2, fdatasyncCalls: 2 });
      expect(writes[0]!.events).toEqual(["written", "durable"]);
      expect(await readFile(files[0]!.path, "utf8")).toBe("0123456789");
      for (const file of files) (await file.handle).close();
    }));

  it("queues what arrives during a group for the next group", () =>
    withTemporaryDirectory(async (directory) => {
      const scheduler = new SyncScheduler("always");
      const file = target(path.join(directory, "a"));
      const first = write(scheduler, file, 0, "ab");
      await new Promise((resolve) => setImmediate(resolve));
      const second = write(scheduler, file, 2, "cd");
      const third = write(scheduler, file, 4, "ef");
      await Promise.all([first.durable, second.durable, third.durable]);
      expect(scheduler.counters).toEqual({ writevCalls: 2, fdatasyncCalls: 2 });
      expect(await readFile(file.path, "utf8")).toBe("abcdef");
      await (await file.handle).close();
    }));

  it("under interval acknowledges after the write and syncs on the timer", () =>
    withTemporaryDirectory(async (directory) => {
      const scheduler = new SyncScheduler("interval", 20);
      const file = target(path.join(directory, "a"));
      await write(scheduler, file, 0, "ab").durable;
      expect(scheduler.counters.fdatasyncCalls).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(scheduler.counters.fdatasyncCalls).toBe(1);
      scheduler.close();
      await (await file.handle).close();
    }));

  it("refuses a write that would pass pendingBytesMax and signals room once the queue drains", () =>
    withTemporaryDirectory(async (directory) => {
      const scheduler = new SyncScheduler("never", 1000, { pendingBytesMax: 4, pendingWritesMax: 10 });
      const file = target(path.join(directory, "a"));
      const first = write(scheduler, file, 0, "abcd");
      expect(scheduler.hasRoomFor(1)).toBe(false);
      expect(() => write(scheduler, file, 4, "e")).toThrow(/pendingBytesMax 4/);
      await scheduler.waitForRoom(1);
      await first.durable;
      expect(scheduler.pendingBytesCount).toBe(0);
      await (await file.handle).close();
    }));

  it("fails the group and every later write of a file whose write failed", () =>
    withTemporaryDirectory(async (directory) => {
      const scheduler = new SyncScheduler("always");
      const filePath = path.join(directory, "a");
      await (await open(filePath, "w")).close();
      const readOnly: AppendTarget = { path: filePath, handle: open(filePath, "r") };
      await expect(write(scheduler, readOnly, 0, "ab").durable).rejects.toThrow();
      await expect(write(scheduler, readOnly, 2, "cd").durable).rejects.toThrow();
      await expect(scheduler.flush(readOnly)).rejects.toThrow();
      await (await readOnly.handle).close();
    }));
});
