/**
 * Drives one generated consumer group path against a real broker: each
 * request event becomes that request from its client's connection, each tick
 * a wait until the broker's deadline has passed, and a write the machine
 * waits for is the broker's own, finished when the answers that follow it
 * come. After every step the answers the machine gives must be the broker's,
 * requests the machine leaves waiting must still wait, and DescribeGroups
 * must show the machine's state, protocol and members. On a cluster, the
 * steps one node cannot take are made with faults (group-cluster.ts).
 */
import { isDeepStrictEqual } from "node:util";
import { describeGroupsApi } from "../../impl/protocol/apis/describe-groups.ts";
import type { Effect, Event } from "../../machines/consumer-group.ts";
import {
  clientOfRequest,
  limits,
  rebalanceTimeoutMs,
  type Snapshot,
  sessionTimeoutMs,
  startMs,
} from "../../machines/testing/consumer-group-paths.ts";
import type { ClusterControl } from "./group-cluster.ts";
import {
  actualDescription,
  describeRequest,
  describeVersion,
  expectedDescription,
  movedGroupDescription,
} from "./group-descriptions.ts";
import type { MemberIds } from "./group-member-ids.ts";
import { deadlinesOf, PathClock, TimingError } from "./group-path-clock.ts";
import type { PathStep } from "./group-path-graph.ts";
import { awaitsWrite, type GroupPath, ownMoveFollows } from "./group-path-selection.ts";
import { actualAnswer, expectedAnswer, isRequest, type Sent, sendRequest } from "./group-requests.ts";
import { sleep, WireClient, within } from "./group-wire.ts";

/** How long an answer the machine gives now may take to come (a write's fsync included). */
const answerTimeoutMs = 5_000;
/** How long the broker may take to show a step in DescribeGroups. */
const describeTimeoutMs = 2_000;
const describeIntervalMs = 50;
/** Time for the broker to take a request that gets no answer yet, before anything else happens. */
const settleMs = 60;
const answerEffects = new Set<Effect["type"]>([
  "answerJoin",
  "answerSync",
  "answerHeartbeat",
  "answerLeave",
  "acceptOffsetCommit",
  "refuseOffsetCommit",
  "answerDelete",
]);

export type PathOutcome =
  | { kind: "agreed" }
  | { kind: "disagreed"; message: string }
  | { kind: "inconclusive"; message: string };

export class Disagreement extends Error {}

export interface PathRunOptions {
  port: number;
  groupId: string;
  /** Real milliseconds per model millisecond. */
  scale: number;
  /** The broker's ids of the members a restored group starts with. */
  ids: MemberIds;
  /** When the broker's group was at the model's start: a restored group's load; a new group starts with the path. */
  startedRealMs?: number;
  /** A restored group exists from the start and is described before the first step. */
  describeInitially: boolean;
  /** On a cluster: how a held write and a moved coordinator are made. */
  cluster?: ClusterControl;
}

export async function runPath(path: GroupPath, options: PathRunOptions): Promise<PathOutcome> {
  const run = new PathRun(path, options);
  try {
    await run.all();
    return { kind: "agreed" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return error instanceof TimingError ? { kind: "inconclusive", message } : { kind: "disagreed", message };
  } finally {
    run.close();
  }
}

function eventText(event: Event): string {
  const { type, ...fields } = event;
  return `${type} ${JSON.stringify(fields)}`;
}

/** Every duration a model deadline is set with; a group without members has a rebalance timeout of 0. */
const deadlineDurationsMs = [
  0,
  sessionTimeoutMs,
  rebalanceTimeoutMs,
  limits.groupInitialRebalanceDelayMs,
  limits.groupNewMemberJoinTimeoutMs,
];

class PathRun {
  private clock!: PathClock;
  private readonly clients = new Map<string, WireClient>();
  /** Requests sent and not answered yet, by the machine's request id. */
  private readonly waiting = new Map<number, Sent>();
  private writesHeld = false;
  private where = "start";

  constructor(
    private readonly path: GroupPath,
    private readonly options: PathRunOptions,
  ) {}

  async all(): Promise<void> {
    const { scale, startedRealMs } = this.options;
    this.clock = new PathClock(scale, deadlineDurationsMs, startMs, startedRealMs ?? Date.now());
    let before = this.path.initial;
    if (this.options.describeInitially) await this.checkDescription(before, []);
    for (const [index, step] of this.path.steps.entries()) {
      this.where = `${this.path.name}, step ${index + 1} of ${this.path.steps.length}: ${eventText(step.event)}`;
      await this.step(before, step, this.path.steps[index + 1]?.event);
      before = step.state;
    }
  }

  close(): void {
    if (this.writesHeld) this.options.cluster?.releaseWrites();
    for (const client of this.clients.values()) client.close();
  }

  private async step(before: Snapshot, { event, effects, state: after }: PathStep, next: Event | undefined) {
    const modelMs = event.type === "clock.ticked" ? event.nowMs : before.context.nowMs;
    const pendingDeadlines = deadlinesOf(before.context).filter((deadline) => deadline > modelMs);
    await this.stimulate(before, event, after, next, pendingDeadlines);
    for (const effect of effects) {
      if (answerEffects.has(effect.type)) await this.checkAnswer(effect, pendingDeadlines);
    }
    if (isRequest(event) && this.waiting.has(event.requestId)) await sleep(settleMs);
    // The broker leaves `after` by itself at once: what waits on that move is checked with its step.
    if (ownMoveFollows(after, next) === true) return this.clock.reached(modelMs, Date.now());
    for (const [requestId, sent] of this.waiting) {
      if (sent.pending.settled()) {
        const answer = await sent.pending.answer;
        this.disagree(
          pendingDeadlines,
          `request ${requestId} must still wait, but the broker answered ${JSON.stringify(answer)}`,
        );
      }
    }
    await this.checkDescription(after, pendingDeadlines, event.type === "coordinator.unloaded");
    this.clock.reached(modelMs, Date.now());
    const ahead =
      after.status === "active" ? deadlinesOf(after.context).filter((deadline) => deadline > modelMs) : [];
    this.clock.assertBefore(ahead, "the step's end");
  }

  /** What makes the broker take the event. */
  private async stimulate(
    before: Snapshot,
    event: Event,
    after: Snapshot,
    next: Event | undefined,
    pendingDeadlines: readonly number[],
  ): Promise<void> {
    const cluster = this.options.cluster;
    switch (event.type) {
      case "clock.ticked": {
        const due = deadlinesOf(before.context).filter((deadline) => deadline <= event.nowMs);
        await sleep(this.clock.tickTarget(before.context.nowMs, event.nowMs, due) - Date.now());
        const earliest = due.map((deadline) => this.clock.earliest(deadline));
        this.clock.reached(event.nowMs, Math.min(Date.now(), ...earliest));
        return;
      }
      // The broker makes the write itself; the answers that follow show it done.
      case "group.persisted":
      case "group.persistFailed":
        if (this.writesHeld) cluster?.releaseWrites();
        this.writesHeld = false;
        return;
      case "coordinator.unloaded":
        if (cluster === undefined) throw new Error("only a cluster moves a coordinator");
        await cluster.moveCoordinator();
        this.clock.assertBefore(pendingDeadlines, "the coordinator's move");
        return;
      default: {
        // Every other event is a client's request.
        this.clock.assertBefore(pendingDeadlines, "the request");
        if (awaitsWrite(after) && ownMoveFollows(after, next) === false) {
          if (cluster === undefined) throw new Error("only a cluster holds a write under way");
          cluster.holdWrites();
          this.writesHeld = true;
        }
        const { groupId, ids, scale } = this.options;
        this.waiting.set(event.requestId, await sendRequest(event, this.client(event), groupId, ids, scale));
      }
    }
  }

  /** The client that makes the request: a join names it, other requests by their id; the rest is an admin's. */
  private client(event: Event & { requestId: number }): WireClient {
    return this.clientNamed(
      event.type === "group.joinRequested"
        ? event.clientId
        : (clientOfRequest(event.requestId)?.name ?? "admin"),
    );
  }

  private clientNamed(name: string): WireClient {
    let client = this.clients.get(name);
    if (client === undefined) {
      client = new WireClient(this.options.port, name);
      this.clients.set(name, client);
    }
    return client;
  }

  private async checkAnswer(effect: Effect, pendingDeadlines: readonly number[]): Promise<void> {
    const requestId = (effect.params as { requestId: number }).requestId;
    const sent = this.waiting.get(requestId);
    if (sent === undefined)
      throw new Error(`${this.where}: the machine answers request ${requestId}, never sent`);
    this.waiting.delete(requestId);
    const expected = expectedAnswer(effect, sent);
    const response = await within(sent.pending.answer, answerTimeoutMs, `request ${requestId}`).catch(
      (error: Error) =>
        this.disagree(
          pendingDeadlines,
          `expected ${JSON.stringify(expected)} for request ${requestId}: ${error.message}`,
        ),
    );
    const actual = actualAnswer(response, sent, expected, this.options.ids);
    if (!isDeepStrictEqual(actual, expected)) {
      this.disagree(
        pendingDeadlines,
        `request ${requestId} answered\n  expected ${JSON.stringify(expected)}\n  got      ${JSON.stringify(actual)}`,
      );
    }
  }

  /**
   * DescribeGroups until it shows the machine's group, for as long as no
   * deadline can interfere; a coordinator the group moved away from says only
   * NOT_COORDINATOR.
   */
  private async checkDescription(state: Snapshot, pendingDeadlines: readonly number[], moved = false) {
    const expected = moved ? movedGroupDescription : expectedDescription(state);
    const admin = this.clientNamed("admin");
    const giveUpAt = Date.now() + Math.min(describeTimeoutMs, this.clock.timeLeft(pendingDeadlines));
    for (;;) {
      const request = describeRequest(this.options.groupId);
      const response = await admin.ask(describeGroupsApi, describeVersion, request, answerTimeoutMs);
      const actual = actualDescription(response, expected, this.options.ids);
      if (isDeepStrictEqual(actual, expected)) return;
      if (Date.now() >= giveUpAt) {
        this.disagree(
          pendingDeadlines,
          `DescribeGroups\n  expected ${JSON.stringify(expected)}\n  got      ${JSON.stringify(actual)}`,
        );
      }
      await sleep(describeIntervalMs);
    }
  }

  /** A difference is a disagreement only if the broker took the step before any deadline could interfere. */
  private disagree(pendingDeadlines: readonly number[], message: string): never {
    this.clock.assertBefore(pendingDeadlines, `${this.where}: ${message}\n(the check)`);
    throw new Disagreement(`${this.where}: ${message}`);
  }
}
