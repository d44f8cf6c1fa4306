/**
 * Time and randomness for the Raft runtime. The machine never reads a clock;
 * the runtime turns time into events (election.timedOut, clock.ticked) through
 * this, so tests run every timer on a clock they move by hand (fake-clock.ts).
 * The shape matches the peer client's clock, plus `random` for the jitter.
 */

export interface ScheduledTask {
  cancel(): void;
}

export interface RaftClock {
  /** Milliseconds on a clock that never goes backwards. */
  nowMs(): number;
  schedule(task: () => void, delayMs: number): ScheduledTask;
  /** Uniform in [0, 1): the election timeout's jitter. */
  random(): number;
}

/** Monotonic, so a wall-clock step cannot shorten or stretch a timeout. */
export const systemRaftClock: RaftClock = {
  nowMs: () => performance.now(),
  schedule(task, delayMs) {
    const timer = setTimeout(task, delayMs);
    return { cancel: () => clearTimeout(timer) };
  },
  random: () => Math.random(),
};
