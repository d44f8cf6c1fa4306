/**
 * One consumer group on its coordinator: the group machine
 * (machines/consumer-group.ts) run as an actor, with its effects carried out
 * here. The machine decides membership, generations, who leads, what every
 * request is answered and when the group is written; this class only turns
 * requests into events (with the time and the member id the machine cannot
 * make), answers the requests the machine's actions name, writes the group
 * to `__consumer_offsets` and reports back, and wakes the machine at the next
 * deadline it holds.
 */
import { randomUUID } from "node:crypto";
import { type Actor, createActor } from "xstate";
import {
  consumerGroupMachine,
  type Event,
  type GroupRecord,
  type HeartbeatRequest,
  type Input,
  type JoinAnswer,
  type JoinRequest,
  type LeaveAnswer,
  type LeaveRequest,
  type Limits,
  nextDeadlineMs,
  type OffsetCommitRequest,
  type StoredGroup,
  type SyncAnswer,
  type SyncRequest,
} from "../../machines/consumer-group.ts";
import type { Logger } from "../log.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import type { TransitionTrace } from "../trace/transition-trace.ts";

/** Requests the runtime fills in itself: their id, the time, and for a join the id a new member would get. */
type Without<T> = Omit<T, "requestId" | "nowMs">;

export interface GroupRuntimeOptions {
  groupId: string;
  limits: Limits;
  storedGroup: StoredGroup | null;
  /** Writes the group record; resolves with NONE once committed, or a coordinator error. */
  persist(record: GroupRecord): Promise<number>;
  /** Writes the group's tombstone; resolves with NONE once committed, or a coordinator error. */
  writeTombstone(groupId: string): Promise<number>;
  /** The group reached Dead (deleted, or unloaded): the coordinator forgets it. */
  onDead(): void;
  logger: Logger;
  nowMs?: () => number;
  /** The transition trace (`--trace`), which records every step of the group's machine. */
  trace?: TransitionTrace;
}

type Answer = JoinAnswer | SyncAnswer | LeaveAnswer | number;

/**
 * A request the group could not take: the error code to answer it with
 * (NOT_COORDINATOR once the group was unloaded or deleted under it).
 */
export type Refused = number;

/** Kafka's member ids: the client id (or a static member's instance id), "-", a random UUID. */
export function newMemberId(clientId: string, groupInstanceId: string | null): string {
  return `${groupInstanceId ?? clientId}-${randomUUID()}`;
}

export class GroupRuntime {
  private readonly actor: Actor<typeof consumerGroupMachine>;
  private readonly waiting = new Map<number, (answer: Answer) => void>();
  private nextRequestId = 1;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The write of the group's tombstones once the machine has deleted it. */
  private tombstone: Promise<number> | null = null;
  private readonly nowMs: () => number;
  private readonly logger: Logger;
  /** The state and generation last logged; null until the machine's first snapshot. */
  private lastLogged: { state: string; generationId: number } | null = null;

  constructor(private readonly options: GroupRuntimeOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.logger = options.logger.child({ group: options.groupId });
    const answer = (requestId: number, value: Answer) => {
      const resolve = this.waiting.get(requestId);
      this.waiting.delete(requestId);
      resolve?.(value);
    };
    const machine = consumerGroupMachine.provide({
      actions: {
        answerJoin: (_, params) => answer(params.requestId, params),
        answerSync: (_, params) => answer(params.requestId, params),
        answerHeartbeat: (_, params) => answer(params.requestId, params.errorCode),
        answerLeave: (_, params) => answer(params.requestId, params),
        acceptOffsetCommit: (_, params) => answer(params.requestId, ErrorCode.NONE),
        refuseOffsetCommit: (_, params) => answer(params.requestId, params.errorCode),
        answerDelete: (_, params) => answer(params.requestId, params.errorCode),
        persistGroup: (_, record) => this.persist(record),
        writeGroupTombstone: (_, params) => this.writeTombstone(params.groupId),
      },
    });
    const input: Input = {
      ...options.limits,
      groupId: options.groupId,
      nowMs: this.nowMs(),
      storedGroup: options.storedGroup,
    };
    const trace = options.trace;
    this.actor = createActor(machine, {
      input,
      ...(trace === undefined ? {} : { inspect: trace.inspector("consumer-group", options.groupId) }),
    });
    this.actor.subscribe({
      next: (snapshot) => this.observed(String(snapshot.value), snapshot.context.generationId),
      error: (error) => this.logger.error({ err: error }, "consumer group machine failed"),
    });
    this.actor.start();
    this.schedule();
  }

  get snapshot() {
    return this.actor.getSnapshot();
  }

  /** The group's state as DescribeGroups and ListGroups name it. */
  get state(): string {
    const snapshot = this.actor.getSnapshot();
    return snapshot.status === "done" ? "Dead" : String(snapshot.value);
  }

  join(request: Omit<Without<JoinRequest>, "newMemberId">): Promise<JoinAnswer | Refused> {
    const memberId = newMemberId(request.clientId, request.groupInstanceId);
    return this.ask((requestId, nowMs) => ({
      type: "group.joinRequested",
      ...request,
      newMemberId: memberId,
      requestId,
      nowMs,
    })) as Promise<JoinAnswer | Refused>;
  }

  sync(request: Without<SyncRequest>): Promise<SyncAnswer | Refused> {
    return this.ask((requestId, nowMs) => ({
      type: "group.syncRequested",
      ...request,
      requestId,
      nowMs,
    })) as Promise<SyncAnswer | Refused>;
  }

  heartbeat(request: Without<HeartbeatRequest>): Promise<number> {
    return this.ask((requestId, nowMs) => ({
      type: "group.heartbeatRequested",
      ...request,
      requestId,
      nowMs,
    })) as Promise<number>;
  }

  leave(request: Without<LeaveRequest>): Promise<LeaveAnswer | Refused> {
    return this.ask((requestId, nowMs) => ({
      type: "group.leaveRequested",
      ...request,
      requestId,
      nowMs,
    })) as Promise<LeaveAnswer | Refused>;
  }

  /** Whether the machine lets this commit through: NONE, or the error to answer every partition with. */
  mayCommitOffsets(request: Without<OffsetCommitRequest>): Promise<number> {
    return this.ask((requestId, nowMs) => ({
      type: "offsets.commitRequested",
      ...request,
      requestId,
      nowMs,
    })) as Promise<number>;
  }

  /**
   * DeleteGroups: the machine decides (only an empty group goes); an accepted
   * deletion is answered once its tombstones are committed.
   */
  async delete(): Promise<number> {
    const decided = (await this.ask((requestId) => ({ type: "group.deleteRequested", requestId }))) as number;
    if (decided !== ErrorCode.NONE || this.tombstone === null) return decided;
    return this.tombstone;
  }

  /** The coordinator lost the group's partition: the machine answers what waits NOT_COORDINATOR and ends. */
  unload(): void {
    this.send({ type: "coordinator.unloaded" });
    this.stop();
  }

  private ask(event: (requestId: number, nowMs: number) => Event): Promise<Answer> {
    if (this.actor.getSnapshot().status !== "active") {
      // Deleted or unloaded a moment ago: the client finds the group's coordinator again.
      return Promise.resolve(ErrorCode.NOT_COORDINATOR);
    }
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      this.waiting.set(requestId, resolve);
      this.send(event(requestId, this.nowMs()));
    });
  }

  private send(event: Event): void {
    if (this.actor.getSnapshot().status !== "active") return;
    this.actor.send(event);
    this.schedule();
    if (this.actor.getSnapshot().status === "done") this.stop();
  }

  private persist(record: GroupRecord): void {
    const generationId = record.generationId;
    this.options.persist(record).then(
      (errorCode) =>
        this.send(
          errorCode === ErrorCode.NONE
            ? { type: "group.persisted", generationId, nowMs: this.nowMs() }
            : { type: "group.persistFailed", generationId, errorCode, nowMs: this.nowMs() },
        ),
      (error: unknown) => {
        this.logger.error({ err: error, generationId }, "writing the group failed");
        this.send({
          type: "group.persistFailed",
          generationId,
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
          nowMs: this.nowMs(),
        });
      },
    );
  }

  private writeTombstone(groupId: string): void {
    this.tombstone = this.options.writeTombstone(groupId).then(
      (errorCode) => {
        if (errorCode !== ErrorCode.NONE) {
          this.logger.warn({ errorCode }, "writing the deleted group's tombstone failed");
        }
        return errorCode;
      },
      (error: unknown) => {
        this.logger.error({ err: error }, "writing the deleted group's tombstone failed");
        return ErrorCode.UNKNOWN_SERVER_ERROR;
      },
    );
  }

  /** One timer per group, at the earliest deadline the machine holds (sessions, rebalance, initial delay). */
  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const snapshot = this.actor.getSnapshot();
    if (snapshot.status !== "active") return;
    const deadline = nextDeadlineMs(snapshot.context);
    if (deadline === null) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.send({ type: "clock.ticked", nowMs: this.nowMs() });
      },
      Math.max(0, deadline - this.nowMs()),
    );
    this.timer.unref();
  }

  private stop(): void {
    // Reaching Dead on an unload stops the runtime before unload itself asks to.
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.actor.getSnapshot().status === "active") this.actor.stop();
    this.options.trace?.stopped("consumer-group", this.options.groupId);
    // Anything still waiting is answered as a node that no longer coordinates the group answers.
    for (const resolve of this.waiting.values()) resolve(ErrorCode.NOT_COORDINATOR);
    this.waiting.clear();
    this.options.onDead();
  }

  private observed(state: string, generationId: number): void {
    const last = this.lastLogged;
    this.lastLogged = { state, generationId };
    if (last === null || (state === last.state && generationId === last.generationId)) return;
    const members = this.actor.getSnapshot().context.members.length;
    this.logger.info({ from: last.state, to: state, generationId, members }, "consumer group state changed");
  }
}
