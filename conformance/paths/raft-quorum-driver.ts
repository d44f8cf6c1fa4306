/**
 * Carries one plan (raft-quorum-plan.ts) out against a real node: a fresh
 * node 1 whose other voters are the test's peer servers. For every step it
 * causes the stimulus, then waits until the node's quorum machine has taken
 * exactly the planned events (read from the node's transition trace: time is
 * never asserted, only waited on) and checks what the node shows:
 * - its machine's state before and after each event (role, epoch, vote,
 *   leader, log, high watermark, voters, grants, replica progress);
 * - its answer to the test's request (error code, vote granted, epoch,
 *   leader, high watermark, entries);
 * - the requests it sent the test's peers (Vote of which epoch and kind,
 *   BeginQuorumEpoch, EndQuorumEpoch, Fetch at which position), and no others;
 * - its answers to AddRaftVoter and RemoveRaftVoter when the machine gives them;
 * - DescribeQuorum while it leads, otherwise the epoch, leader and high
 *   watermark its refusal of a stale fetch names (raft-quorum-observations.ts);
 * - its quorum-state file (epoch, vote, leader).
 * A difference is a Disagreement naming the path, the step, what was expected
 * and what the node did. A node whose real clock ran past what the path's
 * abstract time allows (it took another transition from the same state, or
 * acted on a timer first) is a TimingMiss, and the suite runs that path again.
 */
import { createServer } from "node:net";
import { clusterIdOfVoters, type VoterEndpoint } from "../../impl/cluster/voters.ts";
import { type Event, raftQuorumMachine } from "../../machines/raft-quorum.ts";
import { transitionKey } from "../../machines/testing/coverage.ts";
import type { Model, Snapshot } from "../../machines/testing/raft-quorum-models.ts";
import { makeDataDir, removeDataDir } from "../support/broker-process.ts";
import { seedDataDir } from "./quorum-data-dir.ts";
import { type NodeStep, NodeUnderTest, type QuorumTimeouts } from "./quorum-node.ts";
import { NodeClient } from "./quorum-node-client.ts";
import { PeerServer, type ReceivedRequest } from "./quorum-peer.ts";
import { answerChangingNothing, fetchAnswer, replicatedRecords, voteAnswer } from "./quorum-peer-answers.ts";
import {
  answerMismatch,
  describedMismatch,
  describeEvent,
  probedMismatch,
  readQuorumState,
  requestOf,
  sameEvent,
} from "./raft-quorum-observations.ts";
import type { Plan, PlannedStep } from "./raft-quorum-steps.ts";
import { agedAsMuch, canonical, sameView, stateView, timeView, viewDifference } from "./raft-quorum-views.ts";

export class Disagreement extends Error {
  override readonly name = "Disagreement";
}

export class TimingMiss extends Error {
  override readonly name = "TimingMiss";
}

export interface RunSettings {
  timeouts: QuorumTimeouts;
  /** How long anything the node does on its own (not on a timer) may take before the test gives up. */
  settleMs: number;
}

const quorumStatePollMs = 20;

export async function runPlan(plan: Plan, model: Model, settings: RunSettings): Promise<void> {
  const run = new PlanRun(plan, model, settings);
  try {
    await run.start();
    for (let index = 0; index < plan.steps.length; index++) await run.step(index);
  } finally {
    await run.stop();
  }
}

/** A free TCP port on loopback for node 1; the voters list names it before the node binds it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

type Expected = { event: Event; after: Snapshot };

class PlanRun {
  private readonly peers = new Map<number, PeerServer>();
  private node: NodeUnderTest | null = null;
  private client: NodeClient | null = null;
  private dataDir: string | null = null;
  /** The node's trace steps up to here are matched to the plan. */
  private cursor = 0;
  /** Per peer: how many of the node's requests were matched to the plan. */
  private readonly accounted = new Map<number, number>();
  private readonly voterChanges: Array<{
    change: "add" | "remove";
    nodeId: number;
    answer: Promise<number | Error>;
    done: boolean;
  }> = [];
  private stepIndex = -1;
  private exited = false;

  constructor(
    private readonly plan: Plan,
    private readonly model: Model,
    private readonly settings: RunSettings,
  ) {}

  async start(): Promise<void> {
    for (const id of this.model.input.voters) {
      if (id === 1) continue;
      this.peers.set(id, await PeerServer.listen(id));
      this.accounted.set(id, 0);
    }
    const port = await freePort();
    const voters: VoterEndpoint[] = this.model.input.voters.map((id) => ({
      nodeId: id,
      host: "127.0.0.1",
      port: id === 1 ? port : this.peers.get(id)!.port,
    }));
    this.dataDir = await makeDataDir();
    await seedDataDir(this.dataDir, this.model.input);
    this.node = await NodeUnderTest.start({
      dataDir: this.dataDir,
      port,
      voters,
      timeouts: this.settings.timeouts,
    });
    this.client = new NodeClient(port, clusterIdOfVoters(voters));
    const first = await this.node.waitForStep("machine start", 0, () => true, this.settings.settleMs);
    this.compareState("the node's initial state", this.plan.initial, first.after);
    this.cursor = 1;
  }

  async stop(): Promise<void> {
    if (this.node !== null && !this.exited) await this.node.kill();
    for (const peer of this.peers.values()) await peer.close();
    if (this.dataDir !== null) await removeDataDir(this.dataDir);
  }

  async step(index: number): Promise<void> {
    this.stepIndex = index;
    const step = this.plan.steps[index]!;
    // What the node does by itself (a timer, a controller's record) may have happened already: this step waits for it.
    if (!["controllerRecord", "electionTimeout", "tick"].includes(step.stimulus.kind))
      this.quietSince(step.before);
    this.flush(step);
    const answer = this.stimulate(step);
    // Awaited below; a failure before then must not leave it unhandled when the node is killed.
    answer?.catch(() => undefined);
    await this.expectEvents(step);
    await this.expectAnswer(step, answer);
    // The node moves on by itself right after some steps (a controller's record, a timer with no wait):
    // it is observed once it has.
    const settling = step.nodeMovesOn || this.plan.steps[index + 1]?.stimulus.kind === "controllerRecord";
    await this.expectSent(step, settling);
    await this.expectVoterChangeAnswers(step);
    if (!this.exited && !settling) await this.expectObservedState(step);
    if (!settling) await this.expectQuorumState(step);
  }

  // ---- Stimuli ----------------------------------------------------------------------------------

  private unanswered(peer: number): ReceivedRequest[] {
    return this.peers.get(peer)!.received.filter((request) => !request.answered);
  }

  private flush(step: PlannedStep): void {
    const byPeer = new Map<number, ReceivedRequest[]>();
    for (const { peer, position } of step.flushes) {
      const requests = byPeer.get(peer) ?? this.unanswered(peer);
      byPeer.set(peer, requests);
      const request = requests[position];
      if (request === undefined)
        this.disagree(`peer ${peer} holds no request at position ${position} to answer first`);
      this.peers.get(peer)!.answer(request, answerChangingNothing(request));
    }
  }

  /** Causes the step's stimulus; resolves with the node's answer when it is a request. */
  private stimulate(step: PlannedStep): Promise<unknown> | null {
    const stimulus = step.stimulus;
    const client = this.client!;
    switch (stimulus.kind) {
      case "vote":
        return client.vote(stimulus);
      case "beginQuorumEpoch":
        return client.beginQuorumEpoch(stimulus.leaderId, stimulus.epoch);
      case "endQuorumEpoch":
        return client.endQuorumEpoch(stimulus.leaderId, stimulus.epoch);
      case "fetch":
        return client.fetch(stimulus);
      case "answerVote": {
        const request = this.requestAt(stimulus.peer, stimulus.position, step);
        this.peers.get(stimulus.peer)!.answer(request, voteAnswer(stimulus.epoch, stimulus.granted));
        return null;
      }
      case "answerFetch": {
        const request = this.requestAt(stimulus.peer, stimulus.position, step);
        const fetchOffset = Number(
          request.kind === "fetch" ? request.body.topics[0]!.partitions[0]!.fetchOffset : -1,
        );
        const records = replicatedRecords(
          stimulus.entries,
          fetchOffset,
          stimulus.leaderId,
          step.before.context.voters,
        );
        this.peers.get(stimulus.peer)!.answer(
          request,
          fetchAnswer({
            errorCode: 0,
            leaderId: stimulus.leaderId,
            epoch: stimulus.epoch,
            highWatermark: stimulus.highWatermark,
            records,
          }),
        );
        return null;
      }
      case "voterChange": {
        const asked =
          stimulus.change === "add" ? client.addVoter(stimulus.nodeId) : client.removeVoter(stimulus.nodeId);
        this.voterChanges.push({
          change: stimulus.change,
          nodeId: stimulus.nodeId,
          answer: asked.catch((error: unknown) =>
            error instanceof Error ? error : new Error(String(error)),
          ),
          done: false,
        });
        return null;
      }
      case "registerBroker":
        // Answered only once its record commits, which a later step may or may not bring.
        client.registerBroker(stimulus.brokerId).catch(() => undefined);
        return null;
      case "shutdown":
        return this.node!.stop().then((code) => {
          this.exited = true;
          return code;
        });
      case "controllerRecord":
      case "electionTimeout":
      case "tick":
        return null;
    }
  }

  /** The node's unanswered request at `position` on `peer`, counted before this step's flushes. */
  private requestAt(peer: number, position: number, step: PlannedStep): ReceivedRequest {
    const flushed = step.flushes.filter((flush) => flush.peer === peer).length;
    const request = this.unanswered(peer)[position - flushed];
    if (request === undefined) this.disagree(`peer ${peer} holds no request at position ${position}`);
    return request;
  }

  // ---- The node's steps -------------------------------------------------------------------------

  /** Only clock ticks that change nothing may happen between steps. */
  private quietSince(expected: Snapshot): void {
    const node = this.node!;
    for (; this.cursor < node.steps.length; this.cursor++) {
      const taken = node.steps[this.cursor]!;
      if (!isIdleTick(taken)) this.unexpected(taken, `nothing before the step (state ${expected.value})`);
    }
  }

  private async expectEvents(step: PlannedStep): Promise<void> {
    let before = step.before;
    const waitMs =
      step.stimulus.kind === "electionTimeout"
        ? 2 * this.settings.timeouts.electionTimeoutMs + this.settings.settleMs
        : step.stimulus.kind === "tick"
          ? 2 * this.settings.timeouts.fetchTimeoutMs + this.settings.settleMs
          : this.settings.settleMs;
    for (const expected of step.events) {
      if (expected.event.type === "clock.ticked") await this.expectTick(expected, waitMs);
      else await this.expectEvent(before, expected, waitMs);
      before = expected.after;
    }
  }

  /** The next step the node takes, other than idle ticks, must be `expected`. */
  private async expectEvent(before: Snapshot, expected: Expected, waitMs: number): Promise<void> {
    const node = this.node!;
    const taken = await node
      .waitForStep(expected.event.type, this.cursor, (candidate) => !isIdleTick(candidate), waitMs)
      .catch((error: Error) =>
        this.disagree(`the node did not take ${describeEvent(expected.event)}: ${error.message}`),
      );
    if (!sameEvent(expected.event, taken.event)) this.unexpected(taken, describeEvent(expected.event));
    this.compareState(`before ${describeEvent(expected.event)}`, before, taken.before!);
    // The same machine from the same state (but for its clock) with the same event: a different
    // transition can only come from the clock, which ran past what the path's abstract time allows.
    const planned = transitionsOf(before, expected.event);
    const took = transitionsOf(raftQuorumMachine.resolveState(taken.before!), taken.event as Event);
    if (!sameView(planned, took)) {
      throw new TimingMiss(
        `${this.where()}: the node's clock (${canonical(timeView(taken.before!.context))}) made it take ${took.join(", ") || "no transition"} ` +
          `where the path's (${canonical(timeView(before.context))}) takes ${planned.join(", ") || "none"}`,
      );
    }
    this.compareState(`after ${describeEvent(expected.event)}`, expected.after, taken.after);
    this.cursor = taken.index + 1;
  }

  /**
   * A tick of the path's abstract clock: waits for a tick of the node's own
   * clock since the last step after which as much time has passed as in the
   * model after its tick (every contact the model now counts as old is old
   * on the node), in the role the model ends in (a leader that loses its
   * quorum resigns on that tick). Whether the node's clock then ran further
   * than the model's shows in the transitions of the steps that follow.
   */
  private async expectTick(expected: Expected, waitMs: number): Promise<void> {
    const node = this.node!;
    const want = timeView(expected.after.context);
    const role = String(expected.after.value);
    const taken = await node
      .waitForStep(
        "the tick's time",
        this.cursor,
        (candidate) => {
          if (candidate.event.type !== "clock.ticked") this.unexpected(candidate, `the tick to ${role}`);
          const roleAfter = String(candidate.after.value);
          if (roleAfter !== String(candidate.before?.value) && roleAfter !== role) {
            this.unexpected(candidate, `the tick to ${role}`);
          }
          return roleAfter === role && agedAsMuch(want, timeView(candidate.after.context));
        },
        waitMs,
      )
      .catch((error: Error) => {
        if (error instanceof TimingMiss || error instanceof Disagreement) throw error;
        return this.disagree(`the tick to ${role} never came: ${error.message}`);
      });
    this.compareState("after the tick", expected.after, taken.after);
    this.cursor = taken.index + 1;
  }

  private compareState(what: string, expected: Snapshot, actual: NodeStep["after"]): void {
    const want = stateView(String(expected.value), expected.context);
    const got = stateView(String(actual.value), actual.context);
    if (!sameView(want, got)) this.disagree(`${what}: ${viewDifference(want, got)}`);
  }

  private unexpected(taken: NodeStep, instead: string): never {
    const roleChanged = taken.before !== null && String(taken.before.value) !== String(taken.after.value);
    const timed =
      taken.event.type === "election.timedOut" || (taken.event.type === "clock.ticked" && roleChanged);
    const message = `the node took ${describeEvent(taken.event as Event)} (to ${taken.after.value}) where the path expects ${instead}`;
    if (timed) throw new TimingMiss(`${this.where()}: ${message}`);
    this.disagree(message);
  }

  // ---- What the node answered and sent ----------------------------------------------------------

  private async expectAnswer(step: PlannedStep, pending: Promise<unknown> | null): Promise<void> {
    if (pending === null) return;
    const answer = await withTimeout(pending, this.settings.settleMs, "the node's answer");
    if (step.stimulus.kind === "shutdown") {
      if (answer !== 0) this.disagree(`the node exited with ${String(answer)} after SIGTERM, not 0`);
      return;
    }
    const mismatch = step.answer === null ? null : answerMismatch(step.answer, answer);
    if (mismatch !== null) this.disagree(mismatch);
  }

  /** The node's requests to the peers in this step; `movesOn`: what it sends next by itself may be in already. */
  private async expectSent(step: PlannedStep, movesOn: boolean): Promise<void> {
    for (const [peerId, peer] of this.peers) {
      const expected = step.sent.filter((sent) => sent.peer === peerId).map((sent) => sent.request);
      const from = this.accounted.get(peerId)!;
      const deadline = Date.now() + this.settings.settleMs;
      while (peer.received.length < from + expected.length) {
        if (Date.now() > deadline) {
          this.disagree(
            `peer ${peerId} got ${peer.received.length - from} of the node's ${expected.length} requests: ${JSON.stringify(expected)}`,
          );
        }
        await Promise.race([peer.changed(), sleep(this.settings.settleMs)]);
      }
      for (const [offset, request] of expected.entries()) {
        const received = peer.received[from + offset]!;
        const actual = requestOf(received);
        if (!sameView(request, actual)) {
          this.disagree(
            `peer ${peerId} got ${JSON.stringify(actual)} from the node, expected ${JSON.stringify(request)}`,
          );
        }
      }
      if (!movesOn && peer.received.length > from + expected.length) {
        const extra = peer.received.slice(from + expected.length).map(requestOf);
        this.disagree(`peer ${peerId} got requests the path does not explain: ${JSON.stringify(extra)}`);
      }
      if (peer.problems.length > 0) this.disagree(peer.problems.join("; "));
      this.accounted.set(peerId, from + expected.length);
    }
  }

  private async expectVoterChangeAnswers(step: PlannedStep): Promise<void> {
    for (const expected of step.membershipAnswers) {
      const matches = (change: (typeof this.voterChanges)[number]) =>
        !change.done && change.change === expected.change && change.nodeId === expected.nodeId;
      const asked = expected.thisStep
        ? this.voterChanges.filter(matches).at(-1)
        : this.voterChanges.find(matches);
      if (asked === undefined) continue;
      asked.done = true;
      // A shutdown closes the listener before the machine answers: the connection goes, not the answer.
      if (this.exited) continue;
      const answer = await withTimeout(
        asked.answer,
        this.settings.settleMs,
        `the ${expected.change} voter answer`,
      );
      if (answer !== expected.errorCode) {
        this.disagree(
          `${expected.change} voter ${expected.nodeId} answered ${String(answer)}, expected error ${expected.errorCode}`,
        );
      }
    }
  }

  // ---- What the node shows ----------------------------------------------------------------------

  private async expectObservedState(step: PlannedStep): Promise<void> {
    const mismatch =
      String(step.after.value) === "leader"
        ? describedMismatch(step, await this.client!.describeQuorum())
        : probedMismatch(step.after.context, await this.client!.probe());
    if (mismatch !== null) this.disagree(mismatch);
  }

  /** The quorum-state file holds what the machine last asked to persist; written before anything is sent. */
  private async expectQuorumState(step: PlannedStep): Promise<void> {
    const deadline = Date.now() + this.settings.settleMs;
    for (;;) {
      const persisted = await readQuorumState(this.dataDir!);
      if (sameView<unknown>(step.persisted, persisted)) return;
      if (Date.now() > deadline) {
        this.disagree(
          `the quorum-state file holds ${JSON.stringify(persisted)}, expected ${JSON.stringify(step.persisted)}`,
        );
      }
      await sleep(quorumStatePollMs);
    }
  }

  private where(): string {
    const step = this.plan.steps[this.stepIndex];
    return `${this.plan.model}, step ${this.stepIndex + 1} of ${this.plan.steps.length} (${step?.stimulus.kind}${
      step?.generated ? ` for ${describeEvent(step.generated)}` : ""
    })`;
  }

  private disagree(message: string): never {
    const path = this.plan.generated.map(describeEvent).join(" → ");
    throw new Disagreement(`${this.where()}: ${message}\n  path: ${path}`);
  }
}

function transitionsOf(snapshot: Snapshot, event: Event): string[] {
  return raftQuorumMachine.getTransitionData(snapshot as never, event as never).map(transitionKey);
}

function isIdleTick(step: NodeStep): boolean {
  return (
    step.event.type === "clock.ticked" &&
    step.before !== null &&
    String(step.before.value) === String(step.after.value)
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Disagreement(`${what} did not come within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
