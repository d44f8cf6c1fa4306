/**
 * The leader's own appends waiting to commit. One resolves once the high
 * watermark passes its last entry (after the owner applied up to there); all
 * fail with NOT_LEADER_OR_FOLLOWER when the leadership they were appended in
 * ends first, since a later leader may truncate them.
 */
import { deferred } from "./deferred.ts";
import { NotLeaderError, RaftBusyError } from "./errors.ts";

interface Waiting {
  epoch: number;
  lastOffset: number;
  resolve(): void;
  reject(error: Error): void;
}

export class PendingAppends {
  private waiting: Waiting[] = [];

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.waiting.length;
  }

  /** Throws RaftBusyError when the bound is reached, before anything is appended. */
  checkRoom(): void {
    if (this.waiting.length >= this.limit) {
      throw new RaftBusyError(`${this.waiting.length} appends already wait for commit (pendingAppendsMax)`);
    }
  }

  add(epoch: number, lastOffset: number): Promise<void> {
    const wait = deferred<void>();
    this.waiting.push({ epoch, lastOffset, resolve: () => wait.resolve(), reject: wait.reject });
    return wait.promise;
  }

  committed(highWatermark: number): void {
    const done = this.waiting.filter((w) => w.lastOffset < highWatermark);
    if (done.length === 0) return;
    this.waiting = this.waiting.filter((w) => w.lastOffset >= highWatermark);
    for (const w of done) w.resolve();
  }

  /** Leadership of `epoch` ended: its uncommitted appends may never commit. */
  leadershipEnded(epoch: number, leaderId: number | null, currentEpoch: number): void {
    const lost = this.waiting.filter((w) => w.epoch <= epoch);
    this.waiting = this.waiting.filter((w) => w.epoch > epoch);
    for (const w of lost) {
      w.reject(
        new NotLeaderError(
          leaderId,
          currentEpoch,
          `leadership of epoch ${w.epoch} ended before offset ${w.lastOffset} committed`,
        ),
      );
    }
  }

  rejectAll(error: Error): void {
    const all = this.waiting;
    this.waiting = [];
    for (const w of all) w.reject(error);
  }
}
