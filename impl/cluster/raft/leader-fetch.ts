/**
 * The leader's side of Fetch, as the quorum model's receiveFetch: an older
 * epoch is fenced with the current one; a newer epoch is stepped into the
 * machine, which adopts it; a position that does not match the leader's log is
 * answered with the diverging epoch and its end (nothing recorded, since it
 * says nothing of the replica's progress); otherwise the replica's progress is
 * stepped (replica.fetched) and the answer carries the entries from the fetch
 * offset and the high watermark. A fetch with nothing new (no entries, and
 * no high watermark the replica was not sent yet) is held (the long poll)
 * until the leader appends, its high watermark moves, its leadership ends,
 * or the wait runs out.
 */
import { fetchDivergence } from "../../../machines/log-divergence.ts";
import type { ScheduledTask } from "./clock.ts";
import { type RaftCore, replyAfterEffects } from "./core.ts";
import type { FetchErrorName, FetchRequest, FetchResponse } from "./raft-transport.ts";

interface HeldFetch {
  request: FetchRequest;
  epoch: number;
  answer: { resolve(value: FetchResponse): void; reject(error: Error): void };
  timer: ScheduledTask;
}

/** What the leader knows of a replica beyond the machine's progress: for DescribeQuorum. */
export interface ReplicaTimes {
  lastFetchMs: number;
  /** The last fetch at which the replica had every entry the leader had. */
  lastCaughtUpMs: number | null;
}

export class LeaderFetches {
  private held = new Set<HeldFetch>();
  private times = new Map<number, ReplicaTimes>();
  /** The high watermark in the last answer to each replica in this leadership. */
  private sentHighWatermarks = new Map<number, number>();

  constructor(private readonly core: RaftCore) {}

  get heldCount(): number {
    return this.held.size;
  }

  replicaTimes(replicaId: number): ReplicaTimes | undefined {
    return this.times.get(replicaId);
  }

  async handle(request: FetchRequest): Promise<FetchResponse> {
    const core = this.core;
    const { answer } = await core.exclusive(async () => {
      // Every append the machine knows of is on disk: the log and the machine agree.
      await core.effects.idle();
      const context = core.context();
      if (request.epoch < context.epoch)
        return { answer: Promise.resolve(this.refusal("FENCED_LEADER_EPOCH")) };
      const fetched = {
        type: "replica.fetched",
        replicaId: request.replicaId,
        epoch: request.epoch,
        fetchOffset: request.fetchOffset,
        lastFetchedEpoch: request.lastFetchedEpoch,
        nowMs: core.clock.nowMs(),
      } as const;
      if (request.epoch > context.epoch) {
        // The machine moves to the newer epoch (and persists it); the answer waits for that.
        core.step(fetched);
        return {
          answer: replyAfterEffects<FetchResponse>(core, "fetch", (reply) =>
            reply.resolve(this.refusal("NOT_LEADER_OR_FOLLOWER")),
          ),
        };
      }
      if (core.role() !== "leader")
        return { answer: Promise.resolve(this.refusal("NOT_LEADER_OR_FOLLOWER")) };
      const diverging = fetchDivergence(
        core.log.epochStarts(),
        core.log.endOffset(),
        request.fetchOffset,
        request.lastFetchedEpoch,
      );
      if (diverging !== null) {
        return {
          answer: Promise.resolve<FetchResponse>({
            errorName: "NONE",
            epoch: context.epoch,
            leaderId: core.nodeId,
            highWatermark: context.highWatermark,
            diverging,
            records: [],
          }),
        };
      }
      const highWatermarkBefore = context.highWatermark;
      core.step(fetched);
      this.recordTimes(request);
      const epoch = context.epoch;
      return {
        answer: replyAfterEffects<FetchResponse>(core, "fetch", (reply) =>
          this.answerOrHold(request, epoch, highWatermarkBefore, reply),
        ),
      };
    });
    return answer;
  }

  /** This leadership began: no replica has fetched in it yet. */
  leadershipStarted(): void {
    this.times.clear();
    this.sentHighWatermarks.clear();
  }

  /** The leader's log now ends at `endOffset`: held fetches below it have entries to take. */
  appended(endOffset: number): void {
    for (const held of [...this.held]) if (held.request.fetchOffset < endOffset) this.release(held);
  }

  /** The high watermark moved, or the leadership ended: every held fetch is answered. */
  releaseAll(): void {
    for (const held of [...this.held]) this.release(held);
  }

  stop(error: Error): void {
    for (const held of [...this.held]) {
      this.held.delete(held);
      held.timer.cancel();
      held.answer.reject(error);
    }
  }

  private recordTimes(request: FetchRequest): void {
    const nowMs = this.core.clock.nowMs();
    const caughtUp = request.fetchOffset >= this.core.log.endOffset();
    const before = this.times.get(request.replicaId);
    this.times.set(request.replicaId, {
      lastFetchMs: nowMs,
      lastCaughtUpMs: caughtUp ? nowMs : (before?.lastCaughtUpMs ?? null),
    });
  }

  private async answerOrHold(
    request: FetchRequest,
    epoch: number,
    highWatermarkBefore: number,
    reply: HeldFetch["answer"],
  ): Promise<void> {
    const built = await this.build(request, epoch);
    const waitMs = Math.min(request.maxWaitMs, this.core.settings.fetchMaxWaitMs);
    // The replica must hear of a high watermark it was not sent yet: one that moved while its
    // fetch was on the way (another voter's fetch committed the entries it just appended)
    // would otherwise reach it, and let it apply them, only when the wait runs out.
    const sentBefore = this.sentHighWatermarks.get(request.replicaId);
    const nothingNew =
      built.errorName === "NONE" &&
      built.records.length === 0 &&
      built.highWatermark === highWatermarkBefore &&
      (sentBefore === undefined || built.highWatermark <= sentBefore);
    if (!nothingNew || waitMs <= 0 || this.held.size >= this.core.settings.waitingFetchesMax) {
      this.answer(request, reply, built);
      return;
    }
    const held: HeldFetch = {
      request,
      epoch,
      answer: reply,
      timer: this.core.clock.schedule(() => this.release(held), waitMs),
    };
    this.held.add(held);
  }

  private release(held: HeldFetch): void {
    if (!this.held.delete(held)) return;
    held.timer.cancel();
    this.build(held.request, held.epoch).then(
      (built) => this.answer(held.request, held.answer, built),
      held.answer.reject,
    );
  }

  private answer(request: FetchRequest, reply: HeldFetch["answer"], built: FetchResponse): void {
    if (built.errorName === "NONE") this.sentHighWatermarks.set(request.replicaId, built.highWatermark);
    reply.resolve(built);
  }

  /** The answer as of now: entries from the fetch offset, or a refusal if this leadership is over. */
  private async build(request: FetchRequest, epoch: number): Promise<FetchResponse> {
    const core = this.core;
    if (core.role() !== "leader" || core.context().epoch !== epoch)
      return this.refusal("NOT_LEADER_OR_FOLLOWER");
    const maxEntries = Math.min(request.maxEntries, core.settings.fetchEntriesMax);
    const records = await core.log.read(request.fetchOffset, maxEntries);
    const context = core.context();
    return {
      errorName: "NONE",
      epoch,
      leaderId: core.nodeId,
      highWatermark: context.highWatermark,
      diverging: null,
      records,
    };
  }

  /** An error answer naming this node's epoch and the leader it knows, so the fetcher can find it. */
  private refusal(errorName: FetchErrorName): FetchResponse {
    const context = this.core.context();
    return {
      errorName,
      epoch: context.epoch,
      leaderId: context.leaderId,
      highWatermark: context.highWatermark,
      diverging: null,
      records: [],
    };
  }
}
