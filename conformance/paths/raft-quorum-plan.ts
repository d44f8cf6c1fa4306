/**
 * How a generated path of the Raft quorum machine becomes real stimuli for
 * one node whose peers the test plays. Planning runs the path through a model
 * of the node (raft-quorum-node-model.ts: its machine and what its runtime
 * does around it), so that every step knows its stimulus, the machine events
 * the node will take for it, in order, and what the node must show after.
 * Nothing here does I/O: raft-quorum-driver.ts carries a plan out.
 *
 * A generated event becomes, by kind:
 * - vote.requested, leader.announced, leader.resigned, replica.fetched: a
 *   Vote, BeginQuorumEpoch, EndQuorumEpoch or metadata Fetch the test sends
 *   as that peer (one the node fences or finds diverging reaches no state);
 * - vote.answered: the peer's answer to the node's Vote request of that kind;
 * - fetch.answered, and a follower's log.appended and voters.changed: the
 *   leader's answer to the node's fetch, with the entry in it (the node then
 *   also takes that answer as fetch.answered);
 * - a leader's log.appended: a BrokerRegistration from a broker that never
 *   fetches, whose record is the one the controller appends;
 * - voter.addRequested, voter.removeRequested: AddRaftVoter, RemoveRaftVoter;
 * - election.timedOut, clock.ticked: waiting on the node's own timers;
 * - node.shutdownRequested: SIGTERM.
 * The node's controller also writes records of its own (its registration,
 * then its unfencing) as its epoch commits: those are steps of their own.
 *
 * Path events are derived again from the node's state by their place in the
 * model's alphabet (the model's own event functions), because the
 * controller's records move the leader's log end, which the generated paths
 * do not know of: "voter 2 fetched up to the log end" keeps meaning that.
 * Events with no transition and no wire stimulus (a leader's stale report of
 * its own log, a truncation below the high watermark, an answer to a request
 * never sent) change nothing and are left out. A step the node cannot be
 * made to take faithfully makes the whole path Unrealizable, with the reason.
 */
import { isDeepStrictEqual } from "node:util";
import { transition } from "xstate";
import { type Context, type Event, raftQuorumMachine } from "../../machines/raft-quorum.ts";
import { type Model, startOf, stateName } from "../../machines/testing/raft-quorum-models.ts";
import { NodeModel, type StepEffects } from "./raft-quorum-node-model.ts";
import {
  type ExpectedAnswer,
  type Plan,
  type PlannedStep,
  type PlanSettings,
  type ReplicatedEntry,
  type Stimulus,
  Unrealizable,
} from "./raft-quorum-steps.ts";

/** Rough durations, only to rank paths by cost. */
const estimatedMs = { start: 1_500, electionTimeout: 3_000, agingTick: 1_100, tick: 150, step: 80 } as const;

const errorCodes = { NONE: 0, NOT_LEADER_OR_FOLLOWER: 6, FENCED_LEADER_EPOCH: 74 } as const;

export function planPath(model: Model, pathEvents: readonly Event[], settings: PlanSettings): Plan {
  const { initial } = startOf({ ...model, prefix: [] });
  const node = new NodeModel(model, initial, settings.peers);
  const planner = new PathPlanner(node, settings);
  planner.settle();
  let generated = initial;
  let position = 0;
  try {
    for (const event of model.prefix) {
      // A prefix fetch "at the log end" keeps meaning that when the controller's records moved the end.
      planner.realize(relativeToEnd(event, generated.context, node.context));
      [generated] = transition(raftQuorumMachine, generated, event);
      position++;
    }
    for (const event of pathEvents) {
      const alphabet = model.events(generated.context, stateName(generated));
      const index = alphabet.findIndex((candidate) => isDeepStrictEqual(candidate, event));
      if (index < 0)
        throw new Error(`${model.name}: ${JSON.stringify(event)} is not in the model's alphabet`);
      planner.realize(model.events(node.context, node.role)[index]!);
      [generated] = transition(raftQuorumMachine, generated, event);
      position++;
    }
    planner.finish();
  } catch (error) {
    if (error instanceof Unrealizable) error.atEvent = position;
    throw error;
  }
  const steps = planner.steps;
  return {
    model: model.name,
    generated: [...model.prefix, ...pathEvents],
    initial,
    steps,
    transitions: new Set(steps.flatMap((step) => step.events.flatMap((taken) => taken.transitions))),
    costMs: estimatedMs.start + steps.reduce((total, step) => total + costOf(step), 0),
  };
}

function costOf(step: PlannedStep): number {
  if (step.stimulus.kind === "electionTimeout") return estimatedMs.electionTimeout;
  if (step.stimulus.kind !== "tick") return estimatedMs.step;
  return agesContacts(step.before.context, step.after.context) ? estimatedMs.agingTick : estimatedMs.tick;
}

/** Whether a tick from `before` to `after` makes a contact the node keeps older than a fetch timeout or check quorum. */
function agesContacts(before: Context, after: Context): boolean {
  const aged = (atMs: number, limitMs: number) =>
    before.nowMs - atMs < limitMs && after.nowMs - atMs >= limitMs;
  const { fetchTimeoutMs, checkQuorumTimeoutMs } = before.config;
  if (before.lastLeaderContactMs !== null && aged(before.lastLeaderContactMs, fetchTimeoutMs)) return true;
  return before.replicaProgress.some(
    (replica) => aged(replica.lastFetchMs, fetchTimeoutMs) || aged(replica.lastFetchMs, checkQuorumTimeoutMs),
  );
}

function relativeToEnd(event: Event, generated: Context, node: Context): Event {
  if (event.type !== "replica.fetched" || event.fetchOffset !== generated.log.endOffset) return event;
  return { ...event, fetchOffset: node.log.endOffset, lastFetchedEpoch: node.log.lastEpoch };
}

class PathPlanner {
  readonly steps: PlannedStep[] = [];
  /** The node takes this by itself at once: the next step can only be it. */
  private mustBeNext: "election.timedOut" | "clock.ticked" | null = null;
  private exited = false;

  constructor(
    private readonly node: NodeModel,
    private readonly settings: PlanSettings,
  ) {}

  /** Plans one generated event, or nothing when it changes nothing and has no stimulus. */
  realize(event: Event): void {
    if (this.exited) throw new Unrealizable("the node has exited: nothing follows its shutdown");
    if (this.mustBeNext !== null && event.type !== this.mustBeNext) {
      throw new Unrealizable(
        `the node takes ${this.mustBeNext} by itself before ${event.type} could reach it`,
      );
    }
    const changes =
      raftQuorumMachine.getTransitionData(this.node.snapshot as never, event as never).length > 0;
    switch (event.type) {
      case "vote.requested":
      case "leader.announced":
      case "leader.resigned":
      case "replica.fetched":
        this.inbound(event);
        break;
      case "vote.answered":
        this.voteAnswer(event, changes);
        break;
      case "fetch.answered":
        this.fetchAnswer(event, changes, event, []);
        break;
      case "log.appended":
        if (changes) this.logAppended(event);
        break;
      case "voters.changed":
        if (changes) this.votersChanged(event);
        break;
      case "voter.addRequested":
      case "voter.removeRequested":
        this.voterChange(event, changes);
        break;
      case "election.timedOut":
        // A leader has no election timer, and a timer that changes nothing is not worth its wait.
        if (changes) this.take(event, { kind: "electionTimeout" }, [], [event]);
        break;
      case "clock.ticked":
        this.tick(event);
        break;
      case "node.shutdownRequested":
        // `chronik start` handles SIGTERM only once the broker has started.
        if (!this.node.brokerStarted())
          throw new Unrealizable("SIGTERM before the broker has started is not a graceful shutdown");
        this.take(event, { kind: "shutdown" }, [], [event]);
        this.exited = true;
        break;
    }
  }

  finish(): void {
    if (this.mustBeNext !== null) {
      throw new Unrealizable(
        `the path ends where the node takes ${this.mustBeNext} by itself at once`,
        this.mustBeNext,
      );
    }
  }

  /** A request the test sends; the node's handler fences an older epoch before its machine sees it. */
  private inbound(
    event: Extract<
      Event,
      { type: "vote.requested" | "leader.announced" | "leader.resigned" | "replica.fetched" }
    >,
  ): void {
    const context = this.node.context;
    switch (event.type) {
      case "vote.requested": {
        const { type: _type, ...request } = event;
        this.take(event, { kind: "vote", ...request }, [], [event]);
        return;
      }
      case "leader.announced":
      case "leader.resigned": {
        const kind = event.type === "leader.announced" ? "beginQuorumEpoch" : "endQuorumEpoch";
        const fenced = event.epoch < context.epoch;
        this.take(event, { kind, leaderId: event.leaderId, epoch: event.epoch }, [], fenced ? [] : [event]);
        return;
      }
      case "replica.fetched": {
        const { replicaId, epoch, fetchOffset, lastFetchedEpoch } = event;
        // LeaderFetches: an older epoch is fenced, the same epoch refused by a node that does not lead
        // and answered with the divergence by one that does, all without a step.
        const stepped =
          epoch > context.epoch ||
          (epoch === context.epoch &&
            this.node.role === "leader" &&
            !this.node.divergesAt(fetchOffset, lastFetchedEpoch));
        this.take(
          event,
          { kind: "fetch", replicaId, epoch, fetchOffset, lastFetchedEpoch },
          [],
          stepped ? [event] : [],
        );
        return;
      }
    }
  }

  private voteAnswer(event: Extract<Event, { type: "vote.answered" }>, changes: boolean): void {
    const position = this.node.waitingVote(event.voterId, event.preVote);
    if (position < 0) {
      if (!changes) return;
      throw new Unrealizable(
        `vote.answered from ${event.voterId}: the node has no such request waiting there`,
      );
    }
    const { flushes, events } = this.node.answerUpTo(event.voterId, position);
    // The node refuses an answer with a negative epoch as malformed: nothing reaches its machine.
    if (event.epoch >= 0) events.push(event);
    const { voterId: peer, epoch, granted } = event;
    this.take(event, { kind: "answerVote", peer, position, epoch, granted }, flushes, events);
  }

  /** The answer of the leader the node fetches from, with `entries` in it. */
  private fetchAnswer(
    generated: Event,
    changes: boolean,
    answer: Extract<Event, { type: "fetch.answered" }>,
    entries: ReplicatedEntry[],
  ): void {
    const waiting = this.node.waitingFetch();
    if (waiting === null) {
      if (!changes) return;
      throw new Unrealizable(`${generated.type}: the node has no fetch waiting at a peer`);
    }
    const { peer, position, request } = waiting;
    const { flushes, events } = this.node.answerUpTo(peer, position);
    const stepped = this.node.receiveFetchAnswer(request, answer, entries);
    if (stepped.length === 0 && changes) {
      throw new Unrealizable(`${generated.type}: the node's fetch loop would drop this answer`);
    }
    const { leaderId, epoch, highWatermark } = answer;
    const stimulus: Stimulus = {
      kind: "answerFetch",
      peer,
      position,
      leaderId,
      epoch,
      highWatermark,
      entries,
    };
    this.take(generated, stimulus, flushes, [...events, ...stepped]);
  }

  /** The leader's answer as it carries entries: its own epoch, leader and high watermark. */
  private currentLeaderAnswer(): Extract<Event, { type: "fetch.answered" }> {
    const { leaderId, epoch, highWatermark, nowMs } = this.node.context;
    return { type: "fetch.answered", leaderId: leaderId!, epoch, highWatermark, nowMs };
  }

  private logAppended(event: Extract<Event, { type: "log.appended" }>): void {
    const context = this.node.context;
    const atEnd = event.endOffset === context.log.endOffset + 1;
    if (this.node.role === "follower" && atEnd) {
      this.fetchAnswer(event, true, this.currentLeaderAnswer(), [
        { kind: "leaderChange", epoch: event.lastEpoch },
      ]);
      return;
    }
    if (this.node.role !== "leader" || !atEnd || event.lastEpoch !== context.epoch) {
      throw new Unrealizable(`log.appended at ${event.endOffset}: a log grows at its end only`);
    }
    this.take(event, { kind: "registerBroker", brokerId: this.node.registerBroker() }, [], [event]);
  }

  private votersChanged(event: Extract<Event, { type: "voters.changed" }>): void {
    if (this.node.role !== "follower") throw new Unrealizable("only a follower takes voters from its leader");
    const entry: ReplicatedEntry = { kind: "voters", epoch: this.node.context.epoch, voters: event.voters };
    this.fetchAnswer(event, true, this.currentLeaderAnswer(), [entry]);
  }

  private voterChange(
    event: Extract<Event, { type: "voter.addRequested" | "voter.removeRequested" }>,
    changes: boolean,
  ): void {
    if (this.node.role !== "leader") {
      if (!changes) return;
      throw new Unrealizable(
        "a node that does not lead forwards AddRaftVoter and RemoveRaftVoter to the controller: its machine never sees them",
      );
    }
    // The node holds client requests (these are ones) until it has started.
    if (!this.node.brokerStarted()) {
      throw new Unrealizable(
        `${event.type}: AddRaftVoter and RemoveRaftVoter wait until the broker has started`,
      );
    }
    const change = event.type === "voter.addRequested" ? "add" : "remove";
    this.node.askVoterChange(change, event.nodeId);
    this.take(event, { kind: "voterChange", change, nodeId: event.nodeId }, [], [event]);
  }

  private tick(event: Extract<Event, { type: "clock.ticked" }>): void {
    const before = this.node.snapshot;
    const [after] = transition(raftQuorumMachine, before, event);
    if (this.node.role !== "leader" && agesContacts(before.context, after.context)) {
      this.node.agingTicksSinceReset++;
      if (this.node.agingTicksSinceReset > this.settings.ticksPerElectionTimeout) {
        throw new Unrealizable("the node's election timer runs out before this much time has passed");
      }
    }
    this.take(event, { kind: "tick" }, [], [event]);
  }

  /** Steps the node through `events`, records the step, then what the node does after it by itself. */
  private take(
    generated: Event | null,
    stimulus: Stimulus,
    flushes: PlannedStep["flushes"],
    events: Event[],
  ): void {
    const before = this.node.snapshot;
    const effects: StepEffects = { sent: [], membershipAnswers: [], voteAnswer: null };
    const taken = events.map((event) => {
      const transitions = this.node.step(event, effects);
      return { event, after: this.node.snapshot, transitions };
    });
    const next = this.node.nextFetch();
    if (next !== null) effects.sent.push(next);
    this.steps.push({
      generated,
      stimulus,
      flushes,
      events: taken,
      before,
      after: this.node.snapshot,
      answer: this.answerTo(stimulus, before.context, effects),
      sent: effects.sent,
      membershipAnswers: effects.membershipAnswers,
      persisted: this.node.persisted,
      fetchedThisLeadership: [...this.node.fetchedThisLeadership].sort((a, b) => a - b),
      nodeMovesOn: false,
    });
    this.settle();
  }

  /** The controller's own records, as separate steps; then whether a timer leaves the next step no choice. */
  settle(): void {
    const record = this.node.dueControllerRecord();
    if (record !== null) {
      const { log, epoch } = this.node.context;
      const appended: Event = { type: "log.appended", endOffset: log.endOffset + 1, lastEpoch: epoch };
      this.take(null, { kind: "controllerRecord", record }, [], [appended]);
      return;
    }
    this.mustBeNext = this.node.imminentTimer();
    const last = this.steps[this.steps.length - 1];
    if (last !== undefined) last.nodeMovesOn = this.mustBeNext !== null;
  }

  /** The node's answer to a request of the test's, as built after its step. */
  private answerTo(stimulus: Stimulus, before: Context, effects: StepEffects): ExpectedAnswer | null {
    const after = this.node.context;
    const leaderId = after.leaderId ?? -1;
    switch (stimulus.kind) {
      case "vote": {
        const answer = effects.voteAnswer;
        if (answer === null) throw new Error("the machine answers every vote request");
        return {
          kind: "vote",
          errorCode: errorCodes.NONE,
          granted: answer.granted,
          leaderId,
          epoch: answer.epoch,
        };
      }
      case "beginQuorumEpoch":
      case "endQuorumEpoch": {
        const errorCode = stimulus.epoch < before.epoch ? errorCodes.FENCED_LEADER_EPOCH : errorCodes.NONE;
        return { kind: "leaderEpoch", errorCode, leaderId, epoch: after.epoch };
      }
      case "fetch": {
        const answer = {
          kind: "fetch" as const,
          leaderId,
          epoch: after.epoch,
          highWatermark: after.highWatermark,
        };
        const refused = { ...answer, diverging: false, entries: 0 };
        if (stimulus.epoch < before.epoch) return { ...refused, errorCode: errorCodes.FENCED_LEADER_EPOCH };
        if (stimulus.epoch > before.epoch || stateName(this.node.snapshot) !== "leader") {
          return { ...refused, errorCode: errorCodes.NOT_LEADER_OR_FOLLOWER };
        }
        const diverging = this.node.divergesAt(stimulus.fetchOffset, stimulus.lastFetchedEpoch);
        const entries = diverging ? 0 : after.log.endOffset - stimulus.fetchOffset;
        return { ...answer, errorCode: errorCodes.NONE, diverging, entries };
      }
      default:
        return null;
    }
  }
}
