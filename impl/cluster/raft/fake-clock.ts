/**
 * A clock that moves only when a test says, and a seeded random source, so a
 * cluster of RaftNodes runs the same way every time with no real time passing.
 * `fireNext` fires one due task at a time: the caller lets the work it starts
 * finish before the next one fires, as it would between real timer callbacks.
 */
import type { RaftClock, ScheduledTask } from "./clock.ts";

interface Task {
  dueAtMs: number;
  sequence: number;
  run: () => void;
}

export class FakeClock implements RaftClock {
  private now = 0;
  private sequence = 0;
  private tasks: Task[] = [];
  private seed: number;

  constructor(seed = 1) {
    this.seed = seed >>> 0 || 1;
  }

  nowMs(): number {
    return this.now;
  }

  schedule(run: () => void, delayMs: number): ScheduledTask {
    const task: Task = { dueAtMs: this.now + Math.max(0, delayMs), sequence: this.sequence++, run };
    this.tasks.push(task);
    return { cancel: () => (this.tasks = this.tasks.filter((t) => t !== task)) };
  }

  /** Mulberry32: small, seeded, good enough for jitter. */
  random(): number {
    this.seed = (this.seed + 0x6d2b79f5) >>> 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** How many tasks are scheduled. */
  get pending(): number {
    return this.tasks.length;
  }

  /**
   * Fires the earliest task due at or before `limitMs`, moving the clock to its
   * due time; false (and the clock at `limitMs`) when none is due.
   */
  fireNext(limitMs: number): boolean {
    const next = this.tasks.reduce<Task | null>(
      (best, task) =>
        best === null ||
        task.dueAtMs < best.dueAtMs ||
        (task.dueAtMs === best.dueAtMs && task.sequence < best.sequence)
          ? task
          : best,
      null,
    );
    if (next === null || next.dueAtMs > limitMs) {
      this.now = Math.max(this.now, limitMs);
      return false;
    }
    this.tasks = this.tasks.filter((task) => task !== next);
    this.now = Math.max(this.now, next.dueAtMs);
    next.run();
    return true;
  }
}
