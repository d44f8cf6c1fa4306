/**
 * Group commit, shared by every partition of a node. Appends queue their bytes
 * here; once per event-loop turn (setImmediate) each file with queued bytes
 * gets one writev and, under `always`, one fdatasync, and every append in the
 * group is acknowledged together. While a file's group is in flight, newer
 * appends wait for the next group, so under load groups grow instead of syncs
 * multiplying.
 *
 * Under `interval` the bytes count as durable once written and a timer
 * fdatasyncs every written file each `intervalMs`; under `never` only the
 * writes happen (replication is what makes the data safe).
 */
import type { FileHandle } from "node:fs/promises";
import { assertInvariant } from "./invariant.ts";
import type { FsyncPolicy } from "./log-config.ts";

/** One file being appended to. */
export interface AppendTarget {
  /** For log lines and errors. */
  readonly path: string;
  /** Opened in the background, so that a roll never blocks append; awaited before the first write. */
  readonly handle: Promise<FileHandle>;
}

export interface WriteRequest {
  /** File position of `buffer`; the requests of one file follow each other without gaps. */
  readonly position: number;
  readonly buffer: Buffer;
  /** The bytes are in the file: readers may see them. */
  readonly onWritten: () => void;
  /** The bytes are durable as the policy counts it. */
  readonly onDurable: () => void;
  readonly onFailed: (error: Error) => void;
}

export interface SyncLimits {
  /** Bytes queued or being written, over all files; beyond it appends are refused (backpressure). */
  pendingBytesMax: number;
  /** Write requests queued or being written, over all files. */
  pendingWritesMax: number;
}

export const defaultSyncLimits: SyncLimits = Object.freeze({
  pendingBytesMax: 64 * 1024 * 1024,
  pendingWritesMax: 16_384,
});

export const defaultSyncIntervalMs = 1000;

/** The queue is full: the caller should wait (`waitForRoom`) or answer with an error. */
export class StorageBusyError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "StorageBusyError";
  }
}

interface FileQueue {
  waiting: WriteRequest[];
  waitingBytes: number;
  /** A group write or an interval sync in progress: one at a time per file keeps the writes in order. */
  busy: Promise<void> | null;
  /** Written since the last fdatasync. */
  unsynced: boolean;
  /** After a failed write nothing more goes to this file: later bytes would sit behind a hole. */
  failure: Error | null;
}

/** Counts the system calls, so that tests (and metrics) can see the grouping. */
export interface SyncCounters {
  writevCalls: number;
  fdatasyncCalls: number;
}

export class SyncScheduler {
  readonly counters: SyncCounters = { writevCalls: 0, fdatasyncCalls: 0 };
  private readonly queues = new Map<AppendTarget, FileQueue>();
  private pendingBytes = 0;
  private pendingWrites = 0;
  private turnScheduled = false;
  private roomSignal: { promise: Promise<void>; resolve: () => void } | null = null;
  private readonly timer: NodeJS.Timeout | null = null;

  constructor(
    readonly policy: FsyncPolicy,
    readonly intervalMs: number = defaultSyncIntervalMs,
    readonly limits: SyncLimits = defaultSyncLimits,
  ) {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
      throw new RangeError(`intervalMs ${intervalMs} is not positive`);
    }
    if (policy === "interval") {
      this.timer = setInterval(() => this.syncWrittenFiles(), intervalMs);
      // The timer serves the broker's files; it must not keep a finished process alive.
      this.timer.unref();
    }
  }

  get pendingBytesCount(): number {
    return this.pendingBytes;
  }

  /** Whether `writes` requests totalling `bytes` fit; an oversized request still fits an empty queue. */
  hasRoomFor(bytes: number, writes = 1): boolean {
    if (this.pendingWrites + writes > this.limits.pendingWritesMax) return false;
    return this.pendingBytes === 0 || this.pendingBytes + bytes <= this.limits.pendingBytesMax;
  }

  /** Backpressure: resolves once `bytes` fit. */
  async waitForRoom(bytes: number, writes = 1): Promise<void> {
    while (!this.hasRoomFor(bytes, writes)) {
      if (this.roomSignal === null) {
        let resolve!: () => void;
        const promise = new Promise<void>((settle) => {
          resolve = settle;
        });
        this.roomSignal = { promise, resolve };
      }
      await this.roomSignal.promise;
    }
  }

  /**
   * Queues the writes of one append (two when it spans a roll), admitted or
   * refused together: refusing half an append would leave a hole behind
   * offsets already assigned. Throws StorageBusyError when they do not fit.
   */
  enqueue(writes: ReadonlyArray<{ target: AppendTarget; request: WriteRequest }>): void {
    const bytes = writes.reduce((total, { request }) => total + request.buffer.length, 0);
    if (!this.hasRoomFor(bytes, writes.length)) {
      throw new StorageBusyError(
        `${this.pendingBytes} bytes in ${this.pendingWrites} writes are queued (pendingBytesMax ${this.limits.pendingBytesMax}, pendingWritesMax ${this.limits.pendingWritesMax})`,
      );
    }
    for (const { target, request } of writes) this.enqueueOne(target, request);
  }

  private enqueueOne(target: AppendTarget, request: WriteRequest): void {
    assertInvariant(request.buffer.length > 0, "non-empty-write", () => `empty write to ${target.path}`);
    let queue = this.queues.get(target);
    if (queue === undefined) {
      queue = { waiting: [], waitingBytes: 0, busy: null, unsynced: false, failure: null };
      this.queues.set(target, queue);
    }
    const failure = queue.failure;
    if (failure !== null) {
      queueMicrotask(() => request.onFailed(failure));
      return;
    }
    const last = queue.waiting[queue.waiting.length - 1];
    if (last !== undefined) {
      assertInvariant(request.position === last.position + last.buffer.length, "contiguous-writes", () => {
        return `write at ${request.position} of ${target.path} does not follow the queued write ending at ${last.position + last.buffer.length}`;
      });
    }
    queue.waiting.push(request);
    queue.waitingBytes += request.buffer.length;
    this.pendingBytes += request.buffer.length;
    this.pendingWrites += 1;
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(() => this.startTurn());
    }
  }

  /** Resolves once everything queued for `target` is written (and synced under `always`); rejects if a write failed. */
  async flush(target: AppendTarget): Promise<void> {
    const queue = this.queues.get(target);
    if (queue === undefined) return;
    while (queue.busy !== null || queue.waiting.length > 0) {
      if (queue.busy === null) this.startGroup(target, queue);
      await queue.busy;
    }
    if (queue.failure !== null) throw queue.failure;
  }

  /** Flushes `target` and fdatasyncs it whatever the policy: for rolls and close. */
  async syncNow(target: AppendTarget): Promise<void> {
    await this.flush(target);
    const queue = this.queues.get(target);
    if (queue === undefined || !queue.unsynced) return;
    const handle = await target.handle;
    queue.unsynced = false;
    this.counters.fdatasyncCalls += 1;
    await handle.datasync();
  }

  /** Drops the bookkeeping of a file that will not be appended to any more (sealed, deleted or closed). */
  forget(target: AppendTarget): void {
    const queue = this.queues.get(target);
    if (queue === undefined) return;
    assertInvariant(queue.busy === null && queue.waiting.length === 0, "forget-idle-file", () => {
      return `${target.path} still has ${queue.waiting.length} queued writes`;
    });
    this.queues.delete(target);
  }

  /**
   * A simulated crash: the writes queued for `target` that have not started
   * are dropped (their requests fail), the one in flight finishes, and the
   * file is forgotten.
   */
  async discard(target: AppendTarget): Promise<void> {
    const queue = this.queues.get(target);
    if (queue === undefined) return;
    const dropped = queue.waiting;
    queue.waiting = [];
    this.release(queue.waitingBytes, dropped.length);
    queue.waitingBytes = 0;
    const error = new Error(`queued writes to ${target.path} were discarded`);
    for (const request of dropped) request.onFailed(error);
    while (queue.busy !== null) await queue.busy;
    this.queues.delete(target);
  }

  /** Stops the interval timer. Queued writes still complete. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  private startTurn(): void {
    this.turnScheduled = false;
    for (const [target, queue] of this.queues) {
      if (queue.busy === null && queue.waiting.length > 0) this.startGroup(target, queue);
    }
  }

  private startGroup(target: AppendTarget, queue: FileQueue): void {
    const group = queue.waiting;
    const bytes = queue.waitingBytes;
    queue.waiting = [];
    queue.waitingBytes = 0;
    const done = this.writeGroup(target, queue, group, bytes).finally(() => {
      queue.busy = null;
      // What arrived while this group was in flight forms the next group.
      if (queue.waiting.length > 0) this.startGroup(target, queue);
    });
    queue.busy = done;
  }

  /** Never rejects: failures go to the requests' callbacks. */
  private async writeGroup(target: AppendTarget, queue: FileQueue, group: WriteRequest[], bytes: number) {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.release(bytes, group.length);
    };
    try {
      const first = group[0];
      assertInvariant(first !== undefined, "non-empty-group", () => `empty group for ${target.path}`);
      const handle = await target.handle;
      this.counters.writevCalls += 1;
      await writeFully(
        handle,
        group.map((request) => request.buffer),
        first.position,
      );
      release();
      queue.unsynced = true;
      for (const request of group) request.onWritten();
      if (this.policy === "always") {
        queue.unsynced = false;
        this.counters.fdatasyncCalls += 1;
        await handle.datasync();
      }
      for (const request of group) request.onDurable();
    } catch (error) {
      release();
      const failure = error instanceof Error ? error : new Error(String(error));
      queue.failure = failure;
      const abandoned = queue.waiting;
      queue.waiting = [];
      this.release(queue.waitingBytes, abandoned.length);
      queue.waitingBytes = 0;
      for (const request of [...group, ...abandoned]) request.onFailed(failure);
    }
  }

  private release(bytes: number, writes: number): void {
    this.pendingBytes -= bytes;
    this.pendingWrites -= writes;
    assertInvariant(this.pendingBytes >= 0 && this.pendingWrites >= 0, "pending-count", () => {
      return `pending bytes ${this.pendingBytes}, writes ${this.pendingWrites}`;
    });
    const signal = this.roomSignal;
    if (signal !== null) {
      this.roomSignal = null;
      signal.resolve();
    }
  }

  private syncWrittenFiles(): void {
    for (const [target, queue] of this.queues) {
      if (!queue.unsynced || queue.busy !== null || queue.failure !== null) continue;
      queue.unsynced = false;
      queue.busy = (async () => {
        try {
          const handle = await target.handle;
          this.counters.fdatasyncCalls += 1;
          await handle.datasync();
        } catch (error) {
          queue.failure = error instanceof Error ? error : new Error(String(error));
        }
      })().finally(() => {
        queue.busy = null;
        if (queue.waiting.length > 0) this.startGroup(target, queue);
      });
    }
  }
}

/** writev until every byte is in the file: the kernel may write less than asked. */
async function writeFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let remaining = buffers;
  let at = position;
  while (remaining.length > 0) {
    const { bytesWritten } = await handle.writev(remaining, at);
    if (bytesWritten <= 0) throw new Error(`writev at ${at} wrote nothing`);
    at += bytesWritten;
    let skipped = bytesWritten;
    const rest: Buffer[] = [];
    for (const buffer of remaining) {
      if (skipped >= buffer.length) {
        skipped -= buffer.length;
        continue;
      }
      rest.push(skipped > 0 ? buffer.subarray(skipped) : buffer);
      skipped = 0;
    }
    remaining = rest;
  }
}
