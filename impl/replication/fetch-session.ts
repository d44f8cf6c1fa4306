/**
 * One leader's fetch session (Kafka's fetcher thread per source broker): a
 * loop that, for every partition followed from that leader, first settles
 * truncation (OffsetForLeaderEpoch) for those that start a new leader epoch,
 * then sends one Fetch for all the others and applies each answer to its
 * partition: records appended, a diverging epoch truncated, the leader's
 * high watermark followed. The leader holds a fetch that finds nothing new
 * for up to maxWaitMs, so the loop needs no timer of its own while fetching.
 *
 * Failures, as Kafka's fetcher treats them: a request that gets no answer
 * pauses the whole session (doubling, bounded); NOT_LEADER_OR_FOLLOWER and
 * FENCED_LEADER_EPOCH stop the partition until its metadata changes;
 * OFFSET_OUT_OF_RANGE asks the leader where its log ends and starts
 * (fetchOffsetAndTruncate); any other refusal pauses that partition.
 */
import { isPeerFailure } from "../cluster/peer-errors.ts";
import type { Logger } from "../log.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import type { FollowedPartition } from "./followed-partition.ts";
import {
  type EpochAnswer,
  type FetchAnswer,
  LeaderAnswerError,
  type LeaderRequests,
} from "./leader-requests.ts";
import {
  catchUpBackoffMs,
  networkBackoffMs,
  type ReplicaFetcherSettings,
} from "./replica-fetcher-settings.ts";
import { followerTruncation } from "./truncation.ts";

/** Refusals that mean the leader's metadata is behind this node's: it will know soon. */
const leaderBehindErrors: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
]);

/** What a session needs from the fetchers that own it. */
export interface SessionHost {
  readonly settings: ReplicaFetcherSettings;
  readonly requests: LeaderRequests;
  readonly logger: Logger;
  isClosed(): boolean;
  /** Calls `abandon` once if the fetchers close first; the returned function cancels that. */
  onClose(abandon: () => void): () => void;
  /** The session's loop ended (no partitions left, or closing). */
  sessionEnded(session: LeaderSession): void;
  /** Truncation in this generation is done: the partition fetches from now on. */
  startedFetching(partition: FollowedPartition, generation: number, truncationOffset: bigint): void;
  /** Stops the partition, if still in `generation`, until `follow` is called for it again. */
  stop(partition: FollowedPartition, generation: number, reason: string, error?: unknown): void;
}

interface Asked {
  partition: FollowedPartition;
  generation: number;
}

export class LeaderSession {
  private readonly members = new Set<FollowedPartition>();
  private failures = 0;
  private pausedUntilMs = 0;
  private wakeUp: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(
    readonly leaderId: number,
    private readonly host: SessionHost,
  ) {}

  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  add(partition: FollowedPartition): void {
    this.members.add(partition);
    this.running ??= this.loop();
    this.wake();
  }

  remove(partition: FollowedPartition): void {
    this.members.delete(partition);
    this.wake();
  }

  /** Cuts a pause short so the loop plans again. */
  wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }

  private get nowMs(): number {
    return this.host.settings.clock.nowMs();
  }

  private async loop(): Promise<void> {
    while (!this.host.isClosed() && this.members.size > 0) {
      const now = this.nowMs;
      if (now < this.pausedUntilMs) {
        await this.pause(this.pausedUntilMs - now);
        continue;
      }
      const ready = [...this.members].filter((partition) => partition.delayedUntilMs <= now);
      const truncating = ready.filter((partition) => partition.phase === "truncating");
      if (truncating.length > 0) {
        await this.truncate(truncating);
        continue;
      }
      const fetching = ready.filter((partition) => partition.phase === "fetching");
      if (fetching.length > 0) {
        await this.fetch(fetching);
        continue;
      }
      const delays = [...this.members].map((partition) => partition.delayedUntilMs).filter((at) => at > now);
      await this.pause(delays.length === 0 ? null : Math.min(...delays) - now);
    }
    // Synchronously after the check: a partition added from here on gets a new session.
    this.host.sessionEnded(this);
  }

  private pause(delayMs: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        task?.cancel();
        if (this.wakeUp === done) this.wakeUp = null;
        resolve();
      };
      const task = delayMs === null ? null : this.host.settings.clock.schedule(done, delayMs);
      this.wakeUp = done;
    });
  }

  /** The partitions of `candidates` still here and in `phase`, once no log change of theirs is running. */
  private async settled(candidates: FollowedPartition[], phase: "truncating" | "fetching"): Promise<Asked[]> {
    await Promise.all(candidates.map((partition) => partition.idle()));
    return candidates
      .filter((partition) => this.members.has(partition) && partition.phase === phase)
      .map((partition) => ({ partition, generation: partition.generation }));
  }

  /** Sends one request; null when it failed (the session pauses) or the fetchers closed. */
  private async request<T>(send: () => Promise<T>): Promise<T | null> {
    if (this.host.isClosed()) return null;
    // Closing abandons a request in flight (a fetch may be held for maxWaitMs); its answer is dropped.
    const outcome = await new Promise<{ answer: T } | { error: unknown } | null>((resolve) => {
      const cancel = this.host.onClose(() => resolve(null));
      send().then(
        (answer) => {
          cancel();
          resolve({ answer });
        },
        (error: unknown) => {
          cancel();
          resolve({ error });
        },
      );
    });
    if (outcome === null) return null;
    if ("error" in outcome) {
      this.failures += 1;
      const pauseMs = networkBackoffMs(this.host.settings, this.failures);
      this.pausedUntilMs = this.nowMs + pauseMs;
      const level =
        isPeerFailure(outcome.error) || outcome.error instanceof LeaderAnswerError ? "warn" : "error";
      this.host.logger[level](
        { leader: this.leaderId, err: outcome.error, pauseMs, failures: this.failures },
        "replica fetch request failed",
      );
      return null;
    }
    this.failures = 0;
    return outcome.answer;
  }

  /** Runs a log change for one partition; a throw stops that partition (undefined), never the loop. */
  private change<T>(asked: Asked, operation: () => Promise<T>): Promise<T | undefined> {
    return asked.partition.run(operation).catch((error: unknown) => {
      this.host.stop(asked.partition, asked.generation, "replication failed", error);
      return undefined;
    });
  }

  private delay(
    partition: FollowedPartition,
    why: string,
    pauseMs = this.host.settings.errorBackoffMs,
  ): void {
    partition.delayedUntilMs = this.nowMs + pauseMs;
    this.host.logger.debug(
      { partition: partition.name, leader: this.leaderId, why, pauseMs },
      "partition fetch paused",
    );
  }

  /** A refusal from the leader: stop on fencing or a leader that is not one, pause otherwise. */
  private refused(asked: Asked, errorCode: number): void {
    if (errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || errorCode === ErrorCode.FENCED_LEADER_EPOCH) {
      this.host.stop(asked.partition, asked.generation, errorName(errorCode));
      return;
    }
    if (leaderBehindErrors.has(errorCode)) {
      // The leader has not applied the metadata this node has (the topic is new to it, or the epoch):
      // it catches up within milliseconds, so the follower asks again soon, backing off towards
      // replica.fetch.backoff.ms only if it does not.
      asked.partition.leaderBehindRefusals++;
      this.delay(
        asked.partition,
        errorName(errorCode),
        catchUpBackoffMs(this.host.settings, asked.partition.leaderBehindRefusals),
      );
      return;
    }
    this.delay(asked.partition, errorName(errorCode));
  }

  private async truncate(candidates: FollowedPartition[]): Promise<void> {
    const asked: Array<Asked & { leaderEpoch: number }> = [];
    for (const entry of await this.settled(candidates, "truncating")) {
      const leaderEpoch = entry.partition.latestEpoch();
      if (leaderEpoch >= 0) {
        asked.push({ ...entry, leaderEpoch });
        continue;
      }
      // No epochs to ask about: Kafka truncates such a replica to its high watermark.
      await this.change(entry, async () => {
        if (!entry.partition.isCurrent(entry.generation, "truncating")) return;
        const end = await entry.partition.truncateTo(entry.partition.local.highWatermark, "no leader epochs");
        this.host.startedFetching(entry.partition, entry.generation, end);
      });
    }
    if (asked.length === 0) return;
    const questions = asked.map(({ partition, leaderEpoch }) => ({
      topic: partition.local.topic.name,
      partition: partition.local.partitionId,
      currentLeaderEpoch: partition.leaderEpoch,
      leaderEpoch,
    }));
    const answers = await this.request(() =>
      this.host.requests.endOffsetsForEpochs(this.leaderId, questions),
    );
    if (answers === null) return;
    await Promise.all(
      asked.map((entry, i) => this.change(entry, () => this.applyEpochEnd(entry, answers[i]))),
    );
  }

  private async applyEpochEnd(asked: Asked, answer: EpochAnswer | undefined): Promise<void> {
    const { partition, generation } = asked;
    if (!partition.isCurrent(generation, "truncating")) return;
    if (answer === undefined) return this.delay(partition, "no OffsetForLeaderEpoch answer for it");
    if (answer.errorCode !== ErrorCode.NONE) return this.refused(asked, answer.errorCode);
    const truncation = followerTruncation(partition.local.log, answer);
    const end = await partition.truncateTo(truncation.offset, "OffsetForLeaderEpoch");
    if (truncation.complete) {
      this.host.startedFetching(partition, generation, end);
      return;
    }
    // Kafka's intermediate truncation: the leader named an epoch this log lacks; ask again with the new latest.
    this.host.logger.info(
      {
        partition: partition.name,
        leader: this.leaderId,
        leaderAnswer: answer.epoch,
        truncatedTo: String(end),
      },
      "truncated to the end of an earlier epoch; asking the leader again",
    );
  }

  private async fetch(candidates: FollowedPartition[]): Promise<void> {
    const asked = (await this.settled(candidates, "fetching")).map((entry) => ({
      ...entry,
      position: entry.partition.fetchPosition(),
    }));
    if (asked.length === 0) return;
    const positions = asked.map((entry) => entry.position);
    const answers = await this.request(() => this.host.requests.fetch(this.leaderId, positions));
    if (answers === null) return;
    const outOfRange: Asked[] = [];
    await Promise.all(
      asked.map((entry, i) =>
        this.change(entry, async () => {
          const answer = answers[i];
          if (answer?.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
            if (entry.partition.isCurrent(entry.generation, "fetching")) outOfRange.push(entry);
            return;
          }
          await this.applyFetched(entry, entry.position.fetchOffset, answer);
        }),
      ),
    );
    // Its questions to the leader go outside the partition's queue of log changes, which stopFollowing awaits.
    for (const entry of outOfRange) await this.outOfRange(entry);
  }

  private async applyFetched(
    asked: Asked,
    fetchOffset: bigint,
    answer: FetchAnswer | undefined,
  ): Promise<void> {
    const { partition, generation } = asked;
    if (!partition.isCurrent(generation, "fetching")) return;
    if (answer === undefined) return this.delay(partition, "no fetch answer for it");
    // Only this session changes a followed log, and not while a fetch is out: a moved end is a stale answer.
    if (partition.local.log.logEndOffset !== fetchOffset) return;
    if (answer.errorCode !== ErrorCode.NONE) return this.refused(asked, answer.errorCode);
    if (answer.diverging !== null) {
      const truncation = followerTruncation(partition.local.log, answer.diverging);
      const end = await partition.truncateTo(truncation.offset, "diverging epoch");
      this.host.logger.info(
        {
          partition: partition.name,
          leader: this.leaderId,
          divergingEpoch: answer.diverging.epoch,
          divergingEndOffset: String(answer.diverging.endOffset),
          truncatedTo: String(end),
        },
        "log diverged from the leader's; truncated",
      );
      return;
    }
    partition.leaderBehindRefusals = 0;
    const outcome = await partition.append(answer.records, answer.highWatermark, generation);
    if (outcome.kind === "busy") this.delay(partition, "the group commit queue is full");
    if (outcome.kind === "failed") this.host.stop(partition, generation, "append refused", outcome.error);
  }

  /**
   * Kafka's fetchOffsetAndTruncate: a leader whose log ends below this one
   * (an unclean election) is truncated to; a leader whose log starts past
   * this one's end (retention ran while this replica was away) is started
   * over at; otherwise the refusal was momentary and the fetch is repeated.
   */
  private async outOfRange(asked: Asked): Promise<void> {
    const { partition, generation } = asked;
    const ref = { topic: partition.local.topic.name, partition: partition.local.partitionId };
    const epoch = partition.leaderEpoch;
    const question = { ...ref, currentLeaderEpoch: epoch, leaderEpoch: epoch };
    const ends = await this.request(() => this.host.requests.endOffsetsForEpochs(this.leaderId, [question]));
    if (ends === null || !partition.isCurrent(generation, "fetching")) return;
    const leaderEnd = ends[0];
    if (leaderEnd === undefined) return this.delay(partition, "no OffsetForLeaderEpoch answer for it");
    if (leaderEnd.errorCode !== ErrorCode.NONE) return this.refused(asked, leaderEnd.errorCode);
    const fields = { partition: partition.name, leader: this.leaderId };
    const truncated = await this.change(asked, async () => {
      const localEnd = partition.local.log.logEndOffset;
      if (!partition.isCurrent(generation, "fetching") || leaderEnd.endOffset < 0n) return false;
      if (leaderEnd.endOffset >= localEnd) return false;
      this.host.logger.warn(
        { ...fields, logEndOffset: String(localEnd), leaderEndOffset: String(leaderEnd.endOffset) },
        "leader's log ends below this replica's; truncating to it",
      );
      await partition.truncateTo(leaderEnd.endOffset, "offset out of range");
      return true;
    });
    if (truncated !== false) return;
    const start = await this.request(() => this.host.requests.logStartOffset(this.leaderId, ref, epoch));
    if (start === null || !partition.isCurrent(generation, "fetching")) return;
    if (start.errorCode !== ErrorCode.NONE) return this.refused(asked, start.errorCode);
    const restarted = await this.change(asked, async () => {
      const localEnd = partition.local.log.logEndOffset;
      if (!partition.isCurrent(generation, "fetching") || start.offset <= localEnd) return false;
      this.host.logger.warn(
        { ...fields, logEndOffset: String(localEnd), leaderLogStartOffset: String(start.offset) },
        "leader's log starts past this replica's end; starting over there",
      );
      await partition.restartAt(start.offset);
      return true;
    });
    if (restarted === false) this.delay(partition, "offset out of range, though both ends agree it is not");
  }
}
