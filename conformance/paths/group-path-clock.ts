/**
 * Real time for a path's model time. The model's requests arrive at one
 * instant and its clock jumps to the next deadline; on the broker, requests
 * take a few milliseconds each and every deadline is set from the moment the
 * broker took the request that set it. So the clock keeps, for each model
 * time the path reached, the first and last real moment the broker could
 * have acted at it, and bounds each model deadline by every way it can have
 * been set (a duration the model knows, counted from a model time reached):
 *
 * - to tick to a deadline, the path waits until the latest moment it can
 *   fall, plus the broker timer's margin;
 * - a step is only sound if the broker took it before the earliest moment
 *   the next deadline can fall; if not, the run was too slow to tell
 *   anything, and the path is inconclusive, never a disagreement.
 *
 * The scale (real ms per model ms) keeps the deadlines a model time apart
 * far apart in real time, so this holds under a loaded CPU.
 */
import type { Context } from "../../machines/consumer-group.ts";
import { hasSatisfiedHeartbeat } from "../../machines/consumer-group.ts";

/** A broker timer fires a little after its deadline, later still on a busy CPU. */
const timerMarginMs = 150;

export class TimingError extends Error {}

/** Every deadline the model holds, in model time. */
export function deadlinesOf(context: Context): number[] {
  return [
    ...context.pendingMembers.map((pending) => pending.deadlineMs),
    ...context.members
      .filter((member) => !hasSatisfiedHeartbeat(member))
      .map((member) => member.sessionDeadlineMs),
    ...[
      context.syncDeadlineMs,
      context.rebalanceDeadlineMs,
      context.initialRebalance?.deadlineMs ?? null,
    ].filter((deadline): deadline is number => deadline !== null),
  ];
}

export class PathClock {
  private readonly firstReal = new Map<number, number>();
  private readonly lastReal = new Map<number, number>();

  /**
   * `durationsMs`: every duration a model deadline can be set with (session,
   * rebalance and new-member timeouts, the initial delay); `startedRealMs`:
   * when the broker's group was at the model's start time.
   */
  constructor(
    private readonly scale: number,
    private readonly durationsMs: readonly number[],
    startMs: number,
    startedRealMs: number,
  ) {
    this.reached(startMs, startedRealMs);
  }

  /** The broker acted at model time `modelMs` at real time `realMs`. */
  reached(modelMs: number, realMs: number): void {
    if (!this.firstReal.has(modelMs)) this.firstReal.set(modelMs, realMs);
    this.lastReal.set(modelMs, Math.max(this.lastReal.get(modelMs) ?? realMs, realMs));
  }

  /** The earliest real moment the broker can reach the model deadline `deadlineMs`. */
  earliest(deadlineMs: number): number {
    return this.bound(deadlineMs, this.firstReal, Math.min);
  }

  /** The latest real moment the broker's timer for `deadlineMs` fires. */
  latest(deadlineMs: number): number {
    return this.bound(deadlineMs, this.lastReal, Math.max) + timerMarginMs;
  }

  /**
   * When a tick from `fromMs` to `toMs` has happened on the broker: every
   * deadline due is past, and the model's time has passed since the last step.
   */
  tickTarget(fromMs: number, toMs: number, due: readonly number[]): number {
    const passed = (this.lastReal.get(fromMs) ?? 0) + (toMs - fromMs) * this.scale;
    return Math.max(passed, ...due.map((deadline) => this.latest(deadline)));
  }

  /** Throws TimingError when the broker may already have passed one of these deadlines. */
  assertBefore(deadlinesMs: readonly number[], what: string, nowMs = Date.now()): void {
    for (const deadline of deadlinesMs) {
      if (nowMs >= this.earliest(deadline)) {
        throw new TimingError(
          `${what} came ${nowMs - this.earliest(deadline)} ms too late for deadline ${deadline}`,
        );
      }
    }
  }

  /** How long until the first of these deadlines can fall. */
  timeLeft(deadlinesMs: readonly number[], nowMs = Date.now()): number {
    return Math.min(
      Number.POSITIVE_INFINITY,
      ...deadlinesMs.map((deadline) => this.earliest(deadline) - nowMs),
    );
  }

  private bound(
    deadlineMs: number,
    reachedAt: Map<number, number>,
    pick: (...values: number[]) => number,
  ): number {
    const candidates = this.durationsMs.flatMap((durationMs) => {
      const realMs = reachedAt.get(deadlineMs - durationMs);
      return realMs === undefined ? [] : [realMs + durationMs * this.scale];
    });
    if (candidates.length === 0) throw new Error(`no model time reached sets deadline ${deadlineMs}`);
    return pick(...candidates);
  }
}
