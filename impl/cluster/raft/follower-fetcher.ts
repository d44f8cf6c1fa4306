/**
 * The follower's fetch loop. While the machine follows a leader, fetch from it
 * at the log end with the last epoch. An observer that knows no leader
 * (unattached, or a leader that removed itself and resigned) asks the voters
 * in turn, whose answers name the leader. Each answer is applied as the
 * quorum model's receiveFetchAnswer: an answer from another epoch or leader is
 * stepped as fetch.answered (the machine follows a newer leader); a diverging
 * answer truncates the log (truncationOffset) and steps log.appended; entries
 * are appended as a follower, then log.appended, voters.changed if the latest
 * voters entry changed, then fetch.answered with the leader's high watermark.
 * Each answer is applied in the node's mailbox after the effects queued before
 * it, so the log changes only while the machine cannot step. Network errors
 * and refusals back off; a change of role, epoch or leader cuts a wait short.
 */
import { truncationOffset } from "../../../machines/log-divergence.ts";
import { sortedIds } from "../../../machines/raft-quorum.ts";
import type { RaftCore } from "./core.ts";
import { assertRaft, RaftStoppedError } from "./errors.ts";
import type { FetchRequest, FetchResponse } from "./raft-transport.ts";

interface FetchPlan {
  to: number;
  request: FetchRequest;
  /** The state version the plan was made in. */
  version: number;
}

export class FollowerFetcher {
  private version = 0;
  private waiters = new Set<() => void>();
  private started = false;
  private stopped = false;
  private failures = 0;
  private observerCursor = 0;
  /** Fetch answers applied: the test harness watches it move. */
  answers = 0;

  constructor(private readonly core: RaftCore) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.loop();
  }

  /** The role, epoch or leader changed: make a new plan now. */
  notify(): void {
    this.version++;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  stop(): void {
    this.stopped = true;
    this.notify();
  }

  private get running(): boolean {
    return !this.stopped && !this.core.isStopped;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let plan: FetchPlan | null;
      try {
        plan = await this.core.exclusive(async () => {
          await this.core.effects.idle();
          return this.plan();
        });
      } catch (error) {
        this.failed(error);
        return;
      }
      if (plan === null) {
        await this.waitForChange(this.version, null);
        continue;
      }
      let response: FetchResponse;
      try {
        response = await this.core.transport.fetch(plan.to, plan.request);
      } catch (error) {
        this.core.logger.debug({ to: plan.to, err: error }, "raft fetch failed");
        await this.backOff(plan.version);
        continue;
      }
      let progressed: boolean;
      try {
        progressed = await this.core.exclusive(() => this.receive(plan, response));
      } catch (error) {
        this.failed(error);
        return;
      }
      this.answers++;
      if (progressed) this.failures = 0;
      else await this.backOff(plan.version);
    }
  }

  private plan(): FetchPlan | null {
    const core = this.core;
    const context = core.context();
    const role = core.role();
    let to: number | null = null;
    if (role === "follower" && context.leaderId !== null && context.leaderId !== core.nodeId) {
      to = context.leaderId;
    } else if ((role === "unattached" || role === "resigned") && !context.voters.includes(core.nodeId)) {
      // An observer that knows no leader asks the voters; a leader removed from the voters is one too
      // (resigned has no election timeout for an observer, so nothing else would find it a leader).
      const voters = context.voters.filter((id) => id !== core.nodeId);
      if (voters.length > 0) to = voters[this.observerCursor++ % voters.length]!;
    }
    if (to === null) return null;
    return {
      to,
      version: this.version,
      request: {
        replicaId: core.nodeId,
        epoch: context.epoch,
        fetchOffset: core.log.endOffset(),
        lastFetchedEpoch: core.log.lastEpoch(),
        maxWaitMs: core.settings.fetchMaxWaitMs,
        maxEntries: core.settings.fetchEntriesMax,
      },
    };
  }

  /** Applies one answer; false when it brought nothing (a refusal naming no leader, a stale answer). */
  private async receive(plan: FetchPlan, response: FetchResponse): Promise<boolean> {
    const core = this.core;
    await core.effects.idle();
    const context = core.context();
    if (response.errorName !== "NONE") {
      // The node answering names the leader it knows: the machine decides whether to follow it.
      const hint = core.leaderHint(plan.to, response.leaderId, response.epoch);
      if (hint === null) return false;
      core.step(hint);
      return this.version !== plan.version;
    }
    assertRaft(response.leaderId !== null, "a fetch answer names its leader", () => `answer from ${plan.to}`);
    const answered = {
      type: "fetch.answered",
      leaderId: response.leaderId,
      epoch: response.epoch,
      highWatermark: response.highWatermark,
      nowMs: core.clock.nowMs(),
    } as const;
    const current = response.epoch === context.epoch && context.leaderId === response.leaderId;
    if (!current) {
      // A leader of another epoch: follow it first; its entries come with the next fetch.
      if (response.epoch < context.epoch) return false;
      core.step(answered);
      return true;
    }
    const endOffset = core.log.endOffset();
    if (response.diverging !== null) {
      const end = truncationOffset(core.log.epochStarts(), endOffset, response.diverging);
      if (end >= endOffset) return false;
      assertRaft(
        end >= context.highWatermark,
        "a follower never truncates committed entries",
        () => `truncating to ${end} below the high watermark ${context.highWatermark}`,
      );
      await core.log.truncateTo(end);
      core.logger.info(
        {
          epoch: context.epoch,
          leaderId: response.leaderId,
          divergingEpoch: response.diverging.epoch,
          divergingEndOffset: response.diverging.endOffset,
          from: endOffset,
          to: end,
        },
        "raft log truncated",
      );
      this.logChanged();
      return true;
    }
    // An answer to an older position, overtaken: its entries would not line up.
    if (plan.request.fetchOffset !== endOffset) return false;
    if (response.records.length > 0) {
      this.checkEntries(response, endOffset);
      await core.log.appendAsFollower(response.records);
      this.logChanged();
    }
    core.step(answered);
    return true;
  }

  private checkEntries(response: FetchResponse, fetchOffset: number): void {
    let epoch = this.core.log.lastEpoch();
    response.records.forEach((entry, i) => {
      assertRaft(
        entry.offset === fetchOffset + i && entry.epoch >= epoch && entry.epoch <= response.epoch,
        "a leader's entries continue the follower's log",
        () =>
          `entry ${i} at offset ${entry.offset} epoch ${entry.epoch}, expected offset ${fetchOffset + i}, ` +
          `epoch ${epoch}..${response.epoch}`,
      );
      epoch = entry.epoch;
    });
  }

  /** The log changed under the machine: tell it, and its voters if the latest voters entry changed. */
  private logChanged(): void {
    const core = this.core;
    core.step({ type: "log.appended", endOffset: core.log.endOffset(), lastEpoch: core.log.lastEpoch() });
    const voters = sortedIds(core.log.latestVoters() ?? core.initialVoters);
    const before = core.context().voters;
    if (voters.join() !== before.join()) {
      core.logger.info({ from: before, to: voters, epoch: core.context().epoch }, "raft voters changed");
      core.step({ type: "voters.changed", voters });
    }
  }

  private backOff(version: number): Promise<void> {
    this.failures++;
    const { fetchBackoffMs, fetchBackoffMaxMs } = this.core.settings;
    const delayMs = Math.min(fetchBackoffMaxMs, fetchBackoffMs * 2 ** Math.min(this.failures - 1, 20));
    return this.waitForChange(version, delayMs);
  }

  /** Until the state changes past `version`, or `delayMs` passes (forever when null), or the loop stops. */
  private waitForChange(version: number, delayMs: number | null): Promise<void> {
    if (this.version !== version || !this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = delayMs === null ? null : this.core.clock.schedule(() => done(), delayMs);
      const done = () => {
        timer?.cancel();
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
    });
  }

  private failed(error: unknown): void {
    if (error instanceof RaftStoppedError || !this.running) return;
    this.core.fail(error instanceof Error ? error : new Error(String(error)));
  }
}
