/**
 * Time and randomness for the Raft runtime. The machine never reads a clock;
 * the runtime turns time into events (election.timedOut, clock.ticked) through
 * this, so tests run every timer on a clock they move by hand (fake-clock.ts).
 * The shape matches the peer client's clock, plus `random` for the jitter.
 */

import { systemClock } from "../peer-options.ts";

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

/** The peer client's monotonic clock, so a wall-clock step cannot shorten or stretch a timeout. */
export const systemRaftClock: RaftClock = { ...systemClock, random: () => Math.random() };
