/**
 * One partition this node follows: which leader, in which leader epoch, in
 * which phase (truncating through OffsetForLeaderEpoch, fetching, or stopped
 * until new metadata), and the log changes that answers bring (appends,
 * truncations), run one at a time per partition.
 *
 * The generation moves whenever the partition is re-pointed, stopped or
 * dropped: an answer to a request made in an older generation is ignored, so
 * nothing a previous leader said lands after the partition moved on.
 */
import type { LocalPartition } from "../broker/replica-manager.ts";
import type { Logger } from "../log.ts";
import { isBatchProblem } from "../protocol/record-batch.ts";
import { readReplicatedBatches } from "../storage/replicated-batches.ts";
import { StorageBusyError } from "../storage/sync-scheduler.ts";
import type { FetchPosition } from "./leader-requests.ts";

export type FollowPhase = "truncating" | "fetching" | "stopped";

export type AppendOutcome =
  | { kind: "appended" }
  /** The group commit's queue is full: fetch again after a pause. */
  | { kind: "busy" }
  /** The records cannot be appended (damaged, not continuing the log) or the log failed. */
  | { kind: "failed"; error: Error };

export class FollowedPartition {
  leaderId: number;
  leaderEpoch: number;
  generation = 0;
  phase: FollowPhase = "truncating";
  /** The leader epoch in which truncation through OffsetForLeaderEpoch completed; null before any. */
  truncatedInEpoch: number | null = null;
  /** Not fetched before this time (a pause after a retriable refusal). */
  delayedUntilMs = 0;
  /** Refusals in a row meaning the leader's metadata is behind this node's (the pause grows with them). */
  leaderBehindRefusals = 0;
  private work: Promise<void> = Promise.resolve();

  constructor(
    readonly local: LocalPartition,
    leaderId: number,
    leaderEpoch: number,
    private readonly logger: Logger,
  ) {
    this.leaderId = leaderId;
    this.leaderEpoch = leaderEpoch;
  }

  get name(): string {
    return this.local.name;
  }

  /** Runs `operation` after every log change queued before it. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.work.then(operation);
    this.work = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once no log change for this partition is running or queued. */
  idle(): Promise<void> {
    return this.work;
  }

  /** Starts a new generation: answers to requests made before are ignored from now on. */
  advanceGeneration(): void {
    this.generation += 1;
  }

  isCurrent(generation: number, phase: FollowPhase): boolean {
    return this.generation === generation && this.phase === phase;
  }

  /** The latest epoch in the log's leader-epoch cache (Kafka's log.latestEpoch), -1 when none. */
  latestEpoch(): number {
    const epochs = this.local.log.leaderEpochs;
    return epochs.length === 0 ? -1 : epochs[epochs.length - 1]!.epoch;
  }

  /** Where the next fetch starts: the log end, with the epoch of what the log holds last. */
  fetchPosition(): FetchPosition {
    const log = this.local.log;
    return {
      topic: this.local.topic.name,
      partition: this.local.partitionId,
      currentLeaderEpoch: this.leaderEpoch,
      fetchOffset: log.logEndOffset,
      lastFetchedEpoch: this.latestEpoch(),
      logStartOffset: log.logStartOffset,
    };
  }

  /**
   * Truncates to `offset` (at or past the end this only drops an epoch entry
   * at the end, as Kafka's truncateTo does) and lowers the high watermark
   * with it. Returns the log end after.
   */
  async truncateTo(offset: bigint, why: string): Promise<bigint> {
    const log = this.local.log;
    const before = log.logEndOffset;
    if (offset < this.local.highWatermark) {
      // Kafka allows it (an unclean election), but it drops records this replica counted as committed.
      this.logger.warn(
        { partition: this.name, to: String(offset), highWatermark: String(this.local.highWatermark), why },
        "truncating below the high watermark",
      );
    }
    await log.truncateTo(offset);
    this.local.clampHighWatermarkToLogEnd();
    if (log.logEndOffset !== before) this.local.logEndMoved();
    return log.logEndOffset;
  }

  /** Empties the log and restarts it at the leader's log start, which lies past this log's end. */
  async restartAt(offset: bigint): Promise<void> {
    await this.local.log.truncateFullyAndStartAt(offset);
    // Kafka's truncateFullyAndStartAt moves the high watermark to the new end, here the new start.
    this.local.advanceHighWatermark(offset);
    this.local.logEndMoved();
  }

  /**
   * Appends what the leader sent (whole batches, checked by appendAsFollower
   * before a byte is written), waits until it is durable, so the next fetch
   * offset tells the leader what this replica holds durably, and takes the
   * leader's high watermark as far as this log reaches.
   */
  async append(records: Buffer, leaderHighWatermark: bigint, generation: number): Promise<AppendOutcome> {
    const log = this.local.log;
    const batches = readReplicatedBatches(records);
    if (isBatchProblem(batches)) {
      return { kind: "failed", error: new Error(`the leader sent damaged batches: ${batches.detail}`) };
    }
    if (batches.length > 0) {
      await log.waitForAppendRoom(records.length);
      if (!this.isCurrent(generation, "fetching")) return { kind: "appended" };
      let durable: Promise<void>;
      try {
        durable = log.appendAsFollower(records, batches).durable;
      } catch (error) {
        if (error instanceof StorageBusyError) return { kind: "busy" };
        return { kind: "failed", error: error instanceof Error ? error : new Error(String(error)) };
      }
      try {
        await durable;
      } catch (error) {
        return { kind: "failed", error: error instanceof Error ? error : new Error(String(error)) };
      }
    }
    if (leaderHighWatermark >= 0n && this.isCurrent(generation, "fetching")) {
      this.local.followLeaderHighWatermark(leaderHighWatermark);
    }
    if (batches.length > 0) this.local.logEndMoved();
    return { kind: "appended" };
  }
}
