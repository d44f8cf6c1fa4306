/**
 * One node of the metadata quorum: the Raft quorum machine run as an actor,
 * with its effects carried out for real.
 *
 * - Every event reaches the machine through the node's mailbox (serial.ts),
 *   one step at a time. A step's effects are queued as one batch in Ready
 *   order (persist, append, send, apply) on the effect queue, whose single
 *   worker runs them strictly in order (effect-queue.ts, effect-runner.ts).
 * - Inbound requests are methods whose answers are queued behind the effects
 *   of their step, so a vote is answered only once it is persisted.
 * - Timers (election, tick) live here and arrive as events; the follower's
 *   fetch loop (follower-fetcher.ts) and the leader's Fetch handling
 *   (leader-fetch.ts) change the log and tell the machine, as the quorum
 *   model's runtime (spec/models/quorum-runtime.ts) does over plain data.
 *
 * No protocol decision is made here: every one is the machine's.
 */
import { type Actor, createActor } from "xstate";
import type { Context, Event, MembershipError } from "../../../machines/raft-quorum.ts";
import type { Logger } from "../../log.ts";
import type { RaftClock } from "./clock.ts";
import type { RaftCore, RaftRole } from "./core.ts";
import { replyAfterEffects } from "./core.ts";
import { type Deferred, deferred } from "./deferred.ts";
import { describeQuorum, type QuorumDescription } from "./describe-quorum.ts";
import { EffectQueue } from "./effect-queue.ts";
import { runEffect } from "./effect-runner.ts";
import { discardEffect, inReadyOrder, type RaftEffect } from "./effects.ts";
import { ElectionTimers } from "./election-timers.ts";
import { assertRaft, NotLeaderError, RaftBusyError, RaftInvariantError, RaftStoppedError } from "./errors.ts";
import { FollowerFetcher } from "./follower-fetcher.ts";
import { LeaderFetches } from "./leader-fetch.ts";
import { type ActionHost, runtimeMachine } from "./machine-actions.ts";
import { type RaftNodeOptions, type RaftSettings, resolveSettings } from "./options.ts";
import { PendingAppends } from "./pending-appends.ts";
import type { RaftLog } from "./raft-log.ts";
import type {
  FetchRequest,
  FetchResponse,
  LeaderEpochRequest,
  LeaderEpochResponse,
  RaftRpcHandler,
  RaftTransport,
  VoteRequest,
  VoteResponse,
} from "./raft-transport.ts";
import { SerialExecutor } from "./serial.ts";

/** The node as the machine sees it now. */
export interface RaftStatus {
  nodeId: number;
  role: RaftRole;
  epoch: number;
  votedFor: number | null;
  leaderId: number | null;
  voters: number[];
  highWatermark: number;
  logEndOffset: number;
  lastEpoch: number;
}

/** Where the leader's own entries went; resolved once they are committed. */
export interface AppendResult {
  epoch: number;
  baseOffset: number;
  lastOffset: number;
}

/** Effects an inbound request may leave queued at most; beyond it the request is refused as busy. */
const inboundHeadroom = 64;
/** Ticks waiting in the mailbox at most: a tick behind another tick says nothing new. */
const ticksQueuedMax = 1;

interface MembershipRequest {
  kind: "add" | "remove";
  nodeId: number;
  reply: Deferred<MembershipError>;
}

type RaftActor = Actor<ReturnType<typeof runtimeMachine>>;

export class RaftNode implements RaftCore, RaftRpcHandler {
  readonly nodeId: number;
  readonly settings: RaftSettings;
  readonly initialVoters: readonly number[];
  readonly log: RaftLog;
  readonly clock: RaftClock;
  readonly logger: Logger;
  readonly transport: RaftTransport;
  readonly effects: EffectQueue<RaftEffect>;

  private readonly serial = new SerialExecutor();
  private readonly timers: ElectionTimers;
  private readonly leaderFetches: LeaderFetches;
  private readonly follower: FollowerFetcher;
  private readonly pendingAppends: PendingAppends;
  private readonly actor: RaftActor;
  /** The effects of the step being taken; null between steps. */
  private batch: RaftEffect[] | null = null;
  private voteSlot: { candidateId: number; reply: Deferred<VoteResponse> } | null = null;
  private membershipSlot: MembershipRequest | null = null;
  private pendingMembership: MembershipRequest | null = null;
  private ticksQueued = 0;
  /** The leader this node stopped following without leaving its epoch (it timed out on it). */
  private abandonedLeader: { epoch: number; leaderId: number } | null = null;
  private stopped: RaftStoppedError | null = null;
  /** Machine steps taken: the test harness watches it move. */
  steps = 0;

  /** Reads the quorum-state file and starts the node in its persisted epoch, with its persisted vote. */
  static async start(options: RaftNodeOptions): Promise<RaftNode> {
    const persisted = await options.quorumState.read();
    return new RaftNode(options, persisted === null ? undefined : persisted);
  }

  private constructor(
    private readonly options: RaftNodeOptions,
    persisted: { epoch: number; votedFor: number | null } | undefined,
  ) {
    this.nodeId = options.nodeId;
    this.settings = resolveSettings(options.settings);
    this.initialVoters = [...options.initialVoters];
    this.log = options.log;
    this.clock = options.clock;
    this.logger = options.logger.child({ raftNode: options.nodeId });
    this.transport = options.transport;
    this.pendingAppends = new PendingAppends(this.settings.pendingAppendsMax);
    this.leaderFetches = new LeaderFetches(this);
    this.follower = new FollowerFetcher(this);
    const deps = {
      core: this,
      quorumState: options.quorumState,
      leaderFetches: this.leaderFetches,
      pendingAppends: this.pendingAppends,
      onCommitted: options.onCommitted,
    };
    this.effects = new EffectQueue<RaftEffect>({
      capacity: this.settings.effectQueueMax,
      run: (effect) => runEffect(deps, effect),
      discard: discardEffect,
      onFailure: (error, effect) => this.fail(error, effect.type),
    });
    this.timers = new ElectionTimers(this.clock, this.settings, {
      electionTimedOut: (isCurrent) => {
        this.exclusive(() => {
          if (isCurrent()) this.step({ type: "election.timedOut" });
        }).catch(() => undefined);
      },
      ticked: () => {
        if (this.ticksQueued >= ticksQueuedMax) return;
        this.ticksQueued++;
        this.exclusive(() => {
          this.ticksQueued--;
          this.step({ type: "clock.ticked", nowMs: this.clock.nowMs() });
        }).catch(() => undefined);
      },
    });

    this.actor = createActor(runtimeMachine(this.actionHost(), options.machine), {
      ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
      input: {
        nodeId: this.nodeId,
        voters: this.log.latestVoters() ?? [...this.initialVoters],
        config: {
          fetchTimeoutMs: this.settings.fetchTimeoutMs,
          checkQuorumTimeoutMs: this.settings.checkQuorumTimeoutMs,
        },
        ...(persisted === undefined
          ? {}
          : { persisted: { epoch: persisted.epoch, votedFor: persisted.votedFor } }),
        log: { lastEpoch: this.log.lastEpoch(), endOffset: this.log.endOffset() },
        highWatermark: options.highWatermark ?? 0,
        nowMs: this.clock.nowMs(),
      },
    });
    this.actor.subscribe({ error: (error) => this.fail(asError(error), "machine") });
    this.batch = [];
    this.actor.start();
    this.enqueue(this.takeBatch());
    const context = this.context();
    this.logger.info(
      {
        epoch: context.epoch,
        votedFor: context.votedFor,
        voters: context.voters,
        logEndOffset: context.log.endOffset,
        lastEpoch: context.log.lastEpoch,
        highWatermark: context.highWatermark,
      },
      "raft node started",
    );
    this.timers.startTicking();
    this.follower.start();
  }

  // ---- The machine's view -------------------------------------------------------------------------

  role(): RaftRole {
    return this.actor.getSnapshot().value as RaftRole;
  }

  context(): Context {
    return this.actor.getSnapshot().context;
  }

  get isStopped(): boolean {
    return this.stopped !== null;
  }

  status(): RaftStatus {
    const context = this.context();
    return {
      nodeId: this.nodeId,
      role: this.role(),
      epoch: context.epoch,
      votedFor: context.votedFor,
      leaderId: context.leaderId,
      voters: [...context.voters],
      highWatermark: context.highWatermark,
      logEndOffset: context.log.endOffset,
      lastEpoch: context.log.lastEpoch,
    };
  }

  // ---- Inbound requests ---------------------------------------------------------------------------

  /** Vote (52): answered once the vote (or the newer epoch) is persisted. */
  async handleVote(request: VoteRequest): Promise<VoteResponse> {
    const { answer } = await this.exclusive(() => {
      this.checkRoom();
      const reply = deferred<VoteResponse>();
      this.voteSlot = { candidateId: request.candidateId, reply };
      this.step({ type: "vote.requested", ...request });
      if (this.voteSlot !== null) {
        // The machine always answers a vote request; should it not, the request is refused.
        this.voteSlot = null;
        this.enqueue([this.replyEffect("vote", reply, () => this.voteRefusal())]);
      }
      return { answer: reply.promise };
    });
    return answer;
  }

  /** BeginQuorumEpoch (53): the machine follows the announced leader if its epoch allows. */
  handleBeginQuorumEpoch(request: LeaderEpochRequest): Promise<LeaderEpochResponse> {
    return this.leaderEpochRequest("beginQuorumEpoch", request, {
      type: "leader.announced",
      leaderId: request.leaderId,
      epoch: request.epoch,
    });
  }

  /** EndQuorumEpoch (54): the leader resigned; the machine shortens its election timer. */
  handleEndQuorumEpoch(request: LeaderEpochRequest): Promise<LeaderEpochResponse> {
    return this.leaderEpochRequest("endQuorumEpoch", request, {
      type: "leader.resigned",
      leaderId: request.leaderId,
      epoch: request.epoch,
    });
  }

  /** Fetch (1) of the metadata log from another replica: see leader-fetch.ts. */
  handleFetch(request: FetchRequest): Promise<FetchResponse> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    return this.leaderFetches.handle(request);
  }

  /** DescribeQuorum (55), as the machine and this leader's fetches know the quorum now. */
  async describeQuorum(): Promise<QuorumDescription> {
    if (this.stopped !== null) throw this.stopped;
    return describeQuorum(this.role(), this.context(), this.clock.nowMs(), (id) =>
      this.leaderFetches.replicaTimes(id),
    );
  }

  /** AddRaftVoter (80): resolves with the machine's answer, once the change commits or is refused. */
  addVoter(nodeId: number): Promise<MembershipError> {
    return this.membershipChange("add", nodeId);
  }

  /** RemoveRaftVoter (81). */
  removeVoter(nodeId: number): Promise<MembershipError> {
    return this.membershipChange("remove", nodeId);
  }

  /**
   * The leader's own entries (the controller's metadata records): appended
   * durably at the log end in this leader's epoch, resolved once committed.
   * Rejects with NotLeaderError when this node does not lead, or stops leading
   * before the entries commit.
   */
  async append(payloads: readonly Uint8Array[]): Promise<AppendResult> {
    if (payloads.length === 0) throw new Error("raft append: no entries");
    const { committed, result } = await this.exclusive(async () => {
      this.pendingAppends.checkRoom();
      this.checkRoom();
      // The leader-change entry (and any voters entry) the machine counted are on disk first.
      await this.effects.idle();
      const context = this.context();
      if (this.role() !== "leader") {
        throw new NotLeaderError(context.leaderId, context.epoch, "only the leader appends");
      }
      assertRaft(
        this.log.endOffset() === context.log.endOffset,
        "the leader's log ends where its machine says",
        () => `log ends at ${this.log.endOffset()}, machine says ${context.log.endOffset}`,
      );
      const epoch = context.epoch;
      const entries = payloads.map((payload) => ({ kind: "data" as const, payload }));
      let written: Awaited<ReturnType<RaftLog["appendAsLeader"]>>;
      try {
        written = await this.log.appendAsLeader(entries, epoch);
      } catch (error) {
        this.fail(asError(error), "append");
        throw error;
      }
      const baseOffset = context.log.endOffset;
      const lastOffset = baseOffset + payloads.length - 1;
      assertRaft(
        written.length === payloads.length &&
          written[0]!.offset === baseOffset &&
          this.log.endOffset() === lastOffset + 1,
        "the log appends at its end",
        () => `${payloads.length} entries for ${baseOffset} written at ${written[0]?.offset}`,
      );
      const committed = this.pendingAppends.add(epoch, lastOffset);
      this.step({ type: "log.appended", endOffset: this.log.endOffset(), lastEpoch: epoch });
      this.leaderFetches.appended(this.log.endOffset());
      return { committed, result: { epoch, baseOffset, lastOffset } };
    });
    await committed;
    return result;
  }

  // ---- Life cycle ---------------------------------------------------------------------------------

  /** Graceful: the machine resigns (a leader tells the voters, EndQuorumEpoch), then the node stops. */
  async shutdown(): Promise<void> {
    if (this.stopped !== null) return;
    try {
      await this.exclusive(() => this.step({ type: "node.shutdownRequested" }));
      await this.effects.idle();
    } catch {
      // Stopped or failed meanwhile: nothing more to tell anyone.
    }
    this.stop("shut down");
  }

  /**
   * Stops at once, as a crash would, keeping only what is already durable:
   * queued effects are dropped and every waiting caller is refused.
   */
  stop(reason = "stopped"): void {
    if (this.stopped !== null) return;
    const error = new RaftStoppedError(this.nodeId, reason);
    this.stopped = error;
    this.timers.stop();
    this.follower.stop();
    this.effects.stop(error);
    this.leaderFetches.stop(error);
    this.pendingAppends.rejectAll(error);
    this.pendingMembership?.reply.reject(error);
    this.pendingMembership = null;
    this.actor.stop();
    this.logger.info({ reason }, "raft node stopped");
  }

  fail(error: Error, during = "runtime"): void {
    if (this.stopped !== null) return;
    this.logger.error({ err: error, during }, "raft node failed; stopping");
    this.stop(`failed during ${during}: ${error.message}`);
    this.options.onFatal?.(error);
  }

  /** Resolves once the mailbox and the effect queue are empty (for tests and orderly shutdown). */
  async whenIdle(): Promise<void> {
    if (this.stopped !== null) return;
    await this.serial.run(() => undefined);
    await this.effects.idle().catch(() => undefined);
  }

  /** Counts every step, effect and applied fetch answer: unchanged across a wait means the node is quiet. */
  get activity(): number {
    return this.steps + this.effects.completed + this.follower.answers;
  }

  // ---- RaftCore -----------------------------------------------------------------------------------

  exclusive<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    return this.serial.run(async () => {
      if (this.stopped !== null) throw this.stopped;
      try {
        return await task();
      } catch (error) {
        if (error instanceof RaftInvariantError) this.fail(error, "invariant");
        throw error;
      }
    });
  }

  step(event: Event): void {
    if (this.stopped !== null) throw this.stopped;
    assertRaft(this.batch === null, "one machine step at a time", () => `${event.type} sent during a step`);
    const before = this.view();
    this.batch = [];
    let effects: RaftEffect[];
    try {
      this.actor.send(event);
    } finally {
      effects = this.takeBatch();
    }
    this.steps++;
    if (this.stopped !== null) return;
    const after = this.view();
    this.enqueue([...effects, ...this.observe(before, after, event)]);
  }

  leaderHint(from: number, leaderId: number | null, epoch: number): Event | null {
    if (leaderId === null || leaderId === this.nodeId) return null;
    const abandoned = this.abandonedLeader;
    if (
      abandoned !== null &&
      abandoned.epoch === epoch &&
      abandoned.leaderId === leaderId &&
      from !== leaderId
    ) {
      return null;
    }
    return { type: "leader.announced", leaderId, epoch };
  }

  enqueue(effects: readonly RaftEffect[]): void {
    try {
      this.effects.pushAll(effects);
    } catch (error) {
      for (const effect of effects) discardEffect(effect, asError(error));
      this.fail(asError(error), "enqueue");
    }
  }

  // ---- Inside -------------------------------------------------------------------------------------

  private actionHost(): ActionHost {
    return {
      collect: (effect) => {
        assertRaft(this.batch !== null, "effects come from a step", () => `${effect.type} outside a step`);
        this.batch.push(effect);
      },
      voteReply: (answer, context) => {
        this.logger.info(
          {
            candidateId: answer.to,
            epoch: answer.epoch,
            preVote: answer.preVote,
            votedFor: context.votedFor,
          },
          answer.granted ? "raft vote granted" : "raft vote refused",
        );
        const slot = this.voteSlot;
        if (slot === null || slot.candidateId !== answer.to) return null;
        this.voteSlot = null;
        return slot.reply;
      },
      membershipReply: (kind, nodeId, _error) => {
        const slot = this.membershipSlot;
        if (slot !== null && slot.kind === kind && slot.nodeId === nodeId) {
          this.membershipSlot = null;
          return slot.reply;
        }
        const pending = this.pendingMembership;
        if (pending !== null && pending.kind === kind && pending.nodeId === nodeId) {
          this.pendingMembership = null;
          return pending.reply;
        }
        return null;
      },
      resetElectionTimer: (context) => this.timers.resetElection(context),
      shortenElectionTimer: () => this.timers.shortenElection(),
    };
  }

  private takeBatch(): RaftEffect[] {
    const batch = this.batch ?? [];
    this.batch = null;
    return inReadyOrder(batch);
  }

  private view() {
    const context = this.context();
    return { role: this.role(), epoch: context.epoch, leaderId: context.leaderId };
  }

  /** Logs the transition and keeps the adapter's parts in step with the machine's role. */
  private observe(
    before: ReturnType<RaftNode["view"]>,
    after: ReturnType<RaftNode["view"]>,
    event: Event,
  ): RaftEffect[] {
    const extra: RaftEffect[] = [];
    const changed =
      before.role !== after.role || before.epoch !== after.epoch || before.leaderId !== after.leaderId;
    if (!changed) return extra;
    if (
      before.leaderId !== null &&
      before.leaderId !== this.nodeId &&
      after.leaderId === null &&
      after.epoch === before.epoch
    ) {
      this.abandonedLeader = { epoch: before.epoch, leaderId: before.leaderId };
    }
    const wasLeading = before.role === "leader";
    const leads = after.role === "leader" && (!wasLeading || before.epoch !== after.epoch);
    if (wasLeading && (after.role !== "leader" || after.epoch !== before.epoch)) {
      extra.push({ type: "leadershipEnded", epoch: before.epoch });
    }
    if (leads) {
      this.timers.cancelElection();
      this.leaderFetches.leadershipStarted();
    }
    const context = this.context();
    this.logger.info(
      {
        role: after.role,
        previousRole: before.role,
        epoch: after.epoch,
        previousEpoch: before.epoch,
        leaderId: after.leaderId,
        votedFor: context.votedFor,
        voters: context.voters,
        logEndOffset: context.log.endOffset,
        lastEpoch: context.log.lastEpoch,
        highWatermark: context.highWatermark,
        cause: event.type,
      },
      transitionMessages[after.role],
    );
    this.follower.notify();
    this.options.onLeadershipChange?.({ ...after, epochStartOffset: context.epochStartOffset });
    return extra;
  }

  private leaderEpochRequest(
    label: string,
    request: LeaderEpochRequest,
    event: Extract<Event, { type: "leader.announced" | "leader.resigned" }>,
  ): Promise<LeaderEpochResponse> {
    return this.exclusive(() => {
      this.checkRoom();
      const fenced = request.epoch < this.context().epoch;
      if (!fenced) this.step(event);
      return {
        answer: replyAfterEffects<LeaderEpochResponse>(this, label, (reply) => {
          const context = this.context();
          reply.resolve({
            errorName: fenced ? "FENCED_LEADER_EPOCH" : "NONE",
            epoch: context.epoch,
            leaderId: context.leaderId,
          });
        }),
      };
    }).then(({ answer }) => answer);
  }

  private async membershipChange(kind: "add" | "remove", nodeId: number): Promise<MembershipError> {
    const { answer } = await this.exclusive(() => {
      this.checkRoom();
      const reply = deferred<MembershipError>();
      this.membershipSlot = { kind, nodeId, reply };
      this.step({ type: kind === "add" ? "voter.addRequested" : "voter.removeRequested", nodeId });
      const accepted = this.membershipSlot;
      this.membershipSlot = null;
      if (accepted !== null) {
        // Appended, not yet committed: answered when it commits or when this leadership ends.
        this.pendingMembership?.reply.reject(
          new RaftInvariantError(
            "one voter change at a time",
            `${kind} ${nodeId} accepted while another waits`,
          ),
        );
        this.pendingMembership = accepted;
        this.logger.info({ kind, nodeId, epoch: this.context().epoch }, "raft voter change accepted");
      }
      return { answer: reply.promise };
    });
    return answer;
  }

  private voteRefusal(): VoteResponse {
    const context = this.context();
    return { voterId: this.nodeId, epoch: context.epoch, granted: false, leaderId: context.leaderId };
  }

  private replyEffect<T>(label: string, reply: Deferred<T>, build: () => T): RaftEffect {
    return { type: "reply", label, run: () => reply.resolve(build()), discard: reply.reject };
  }

  /** Refuses an inbound request before it is stepped when its effects might not fit. */
  private checkRoom(): void {
    if (this.effects.room < inboundHeadroom) {
      throw new RaftBusyError(
        `${this.effects.size} effects queued (effectQueueMax ${this.settings.effectQueueMax})`,
      );
    }
  }
}

const transitionMessages: Record<RaftRole, string> = {
  unattached: "raft unattached",
  prospective: "raft pre-vote started",
  candidate: "raft election started",
  leader: "raft leader elected",
  follower: "raft following leader",
  resigned: "raft resigned",
};

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
