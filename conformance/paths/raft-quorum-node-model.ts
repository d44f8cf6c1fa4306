/**
 * The node under test as far as the test can know it: its quorum machine,
 * and what its runtime does around the machine that decides which stimuli
 * are possible and what the node sends: the requests waiting at each of the
 * test's peers (the node reads answers in request order per connection), the
 * follower's one fetch at a time (FollowerFetcher), its election timer
 * (ElectionTimers: no wait at all for the only voter), its log's epochs (the
 * leader's fetch check), and the controller's own records (its registration
 * once its epoch commits, its unfencing once that commits; one decision at a
 * time, each after the one before has committed).
 */
import { transition } from "xstate";
import { epochStartsOf, fetchDivergence } from "../../machines/log-divergence.ts";
import {
  type Context,
  committedInOwnEpoch,
  type Event,
  type MembershipError,
  membershipErrorCodes,
  raftQuorumMachine,
} from "../../machines/raft-quorum.ts";
import { transitionKey } from "../../machines/testing/coverage.ts";
import { type Model, type Snapshot, stateName } from "../../machines/testing/raft-quorum-models.ts";
import type {
  MembershipAnswer,
  NodeRequest,
  PersistedQuorumState,
  PlannedStep,
  ReplicatedEntry,
} from "./raft-quorum-steps.ts";
import { Unrealizable } from "./raft-quorum-steps.ts";

export const nodeId = 1;

type FetchRequest = Extract<NodeRequest, { kind: "fetch" }>;
type FetchAnswer = Extract<Event, { type: "fetch.answered" }>;

/** What stepping the machine made the node send and answer. */
export interface StepEffects {
  sent: PlannedStep["sent"];
  membershipAnswers: MembershipAnswer[];
  /** The machine's answer to an inbound Vote request. */
  voteAnswer: { epoch: number; granted: boolean } | null;
}

export class NodeModel {
  snapshot: Snapshot;
  /** Per peer: the node's requests on its quorum connection, unanswered, oldest first. */
  private readonly queues: Map<number, NodeRequest[]>;
  /** The peer holding the follower's one fetch, if any. */
  private fetchingFrom: number | null = null;
  private observerCursor = 0;
  /** The epoch of every entry in the node's log. */
  private readonly logEpochs: number[];
  /** Offsets of the controller's records: its registration, its unfencing, and the test's brokers'. */
  private readonly controller = {
    registration: null as number | null,
    unfencing: null as number | null,
    brokers: [] as number[],
  };
  /** The controller's registration was cut off by a lost leadership: what it does next depends on timing. */
  private controllerInterrupted = false;
  private nextBrokerId = 100;
  /** Voter changes the test asked for and the node has not answered yet, oldest first. */
  private readonly membershipWaiting: Array<{ change: "add" | "remove"; nodeId: number }> = [];
  persisted: PersistedQuorumState | null;
  readonly fetchedThisLeadership = new Set<number>();
  /** Clock ticks that aged a contact since the election timer was last set. */
  agingTicksSinceReset = 0;
  /** The election timer fires at once: the only voter's, or cut short by EndQuorumEpoch. */
  private timerImmediate: boolean;

  constructor(
    model: Model,
    initial: Snapshot,
    private readonly peers: readonly number[],
  ) {
    this.snapshot = initial;
    this.queues = new Map(peers.map((peer) => [peer, []]));
    const log = model.input.log ?? { lastEpoch: 0, endOffset: 0 };
    this.logEpochs = Array.from({ length: log.endOffset }, () => log.lastEpoch);
    this.persisted =
      model.input.persisted === undefined ? null : { ...model.input.persisted, leaderId: null };
    // The initial state's entry set the timer: at once for the only voter.
    this.timerImmediate = isOnlyVoter(initial.context);
  }

  get context(): Context {
    return this.snapshot.context;
  }

  get role(): string {
    return stateName(this.snapshot);
  }

  /** Steps one machine event and does what the runtime does with its actions; returns the transitions taken. */
  step(event: Event, effects: StepEffects): string[] {
    const previous = this.snapshot;
    const transitions = raftQuorumMachine
      .getTransitionData(previous as never, event as never)
      .map(transitionKey);
    const [next, actions] = transition(raftQuorumMachine, previous, event);
    this.snapshot = next;
    const leads = stateName(next) === "leader";
    if (stateName(previous) === "leader" && (!leads || previous.context.epoch !== next.context.epoch)) {
      this.leadershipEnded(previous.context);
    }
    if (leads && stateName(previous) !== "leader") this.fetchedThisLeadership.clear();
    if (leads && event.type === "replica.fetched" && event.epoch === next.context.epoch) {
      this.fetchedThisLeadership.add(event.replicaId);
    }
    if (event.type === "log.appended" && transitions.length > 0) {
      // What the leader wrote, or a follower took from its leader, in the event's epoch.
      while (this.logEpochs.length < event.endOffset) this.logEpochs.push(event.lastEpoch);
    }
    for (const action of actions)
      this.act(action.type, (action.params ?? {}) as Record<string, unknown>, event, effects);
    return transitions;
  }

  private act(type: string, params: Record<string, unknown>, event: Event, effects: StepEffects): void {
    switch (type) {
      case "persistQuorumState":
        this.persisted = params as unknown as PersistedQuorumState;
        return;
      case "appendLeaderChangeRecord":
      case "appendVotersRecord":
        this.logEpochs.push(params.epoch as number);
        return;
      case "sendVoteRequests": {
        const request = params as { epoch: number; preVote: boolean; lastEpoch: number; endOffset: number };
        for (const peer of this.reachable(params.voters as number[])) {
          const { epoch, preVote, lastEpoch, endOffset } = request;
          this.send(peer, { kind: "vote", epoch, preVote, lastEpoch, endOffset }, effects);
        }
        return;
      }
      case "sendBeginQuorumEpoch":
      case "sendEndQuorumEpoch": {
        const kind = type === "sendBeginQuorumEpoch" ? "beginQuorumEpoch" : "endQuorumEpoch";
        for (const peer of this.reachable(params.voters as number[])) {
          this.send(peer, { kind, epoch: params.epoch as number }, effects);
        }
        return;
      }
      case "sendVoteAnswer":
        effects.voteAnswer = { epoch: params.epoch as number, granted: params.granted as boolean };
        return;
      case "answerMembershipRequest":
        this.answerMembership(params, event, effects);
        return;
      case "resetElectionTimer":
        this.agingTicksSinceReset = 0;
        this.timerImmediate = isOnlyVoter(this.context);
        return;
      case "shortenElectionTimer":
        this.timerImmediate = true;
        return;
    }
  }

  /** RaftNode answers the request being stepped first (its slot), then the one waiting for its commit. */
  private answerMembership(params: Record<string, unknown>, event: Event, effects: StepEffects): void {
    const change = params.kind as "add" | "remove";
    const thisStep = event.type === "voter.addRequested" || event.type === "voter.removeRequested";
    const positions = this.membershipWaiting.flatMap((waiting, position) =>
      waiting.change === change && waiting.nodeId === params.nodeId ? [position] : [],
    );
    const position = thisStep ? positions[positions.length - 1] : positions[0];
    if (position === undefined) return;
    this.membershipWaiting.splice(position, 1);
    effects.membershipAnswers.push({
      change,
      nodeId: params.nodeId as number,
      errorCode: membershipErrorCodes[params.error as MembershipError],
      thisStep,
    });
  }

  askVoterChange(change: "add" | "remove", voterId: number): void {
    this.membershipWaiting.push({ change, nodeId: voterId });
  }

  private leadershipEnded(context: Context): void {
    const uncommitted = (offset: number | null) => offset !== null && context.highWatermark <= offset;
    if (uncommitted(this.controller.registration) || uncommitted(this.controller.unfencing)) {
      this.controllerInterrupted = true;
    }
  }

  /** Voters the test runs a server for: the node reaches no one else. */
  private reachable(voters: readonly number[]): number[] {
    return voters.filter((id) => this.peers.includes(id));
  }

  private send(peer: number, request: NodeRequest, effects: StepEffects): void {
    this.queues.get(peer)!.push(request);
    effects.sent.push({ peer, request });
  }

  // ---- Requests waiting at the peers ------------------------------------------------------------

  /** Where the newest Vote request of that kind waits at `peer`, or -1. */
  waitingVote(peer: number, preVote: boolean): number {
    const queue = this.queues.get(peer) ?? [];
    for (let position = queue.length - 1; position >= 0; position--) {
      const request = queue[position]!;
      if (request.kind === "vote" && request.preVote === preVote) return position;
    }
    return -1;
  }

  /** The follower's fetch the test holds, if any. */
  waitingFetch(): { peer: number; position: number; request: FetchRequest } | null {
    if (this.fetchingFrom === null) return null;
    const queue = this.queues.get(this.fetchingFrom)!;
    const position = queue.findIndex((request) => request.kind === "fetch");
    return { peer: this.fetchingFrom, position, request: queue[position] as FetchRequest };
  }

  /**
   * Answers the requests before `position` at `peer` with ones that change
   * nothing, and the one at `position`; returns the earlier ones and the
   * events the node takes for them (a refused vote, which no state counts).
   */
  answerUpTo(peer: number, position: number): { flushes: PlannedStep["flushes"]; events: Event[] } {
    const queue = this.queues.get(peer)!;
    const answered = queue.splice(0, position + 1);
    const flushes = answered.slice(0, position).map((request, index) => ({ peer, position: index, request }));
    const events: Event[] = [];
    for (const request of answered) {
      if (request.kind === "fetch") this.fetchingFrom = null;
    }
    for (const { request } of flushes) {
      if (request.kind !== "vote") continue;
      events.push({
        type: "vote.answered",
        voterId: peer,
        epoch: request.epoch,
        granted: false,
        preVote: request.preVote,
      });
    }
    return { flushes, events };
  }

  /** FollowerFetcher.receive of an answer without error, as the events the node takes. */
  receiveFetchAnswer(
    request: FetchRequest,
    answer: FetchAnswer,
    entries: readonly ReplicatedEntry[],
  ): Event[] {
    const context = this.context;
    const current = answer.epoch === context.epoch && context.leaderId === answer.leaderId;
    // A leader of another epoch is followed first; its entries would come with the next fetch.
    if (!current) return answer.epoch < context.epoch ? [] : [answer];
    // An answer to an older position, overtaken: its entries would not line up.
    if (request.fetchOffset !== context.log.endOffset) return [];
    const events: Event[] = [];
    if (entries.length > 0) {
      const lastEpoch = entries[entries.length - 1]!.epoch;
      events.push({ type: "log.appended", endOffset: context.log.endOffset + entries.length, lastEpoch });
      const voters = [...entries].reverse().find((entry) => entry.kind === "voters");
      if (voters?.kind === "voters") {
        const sorted = [...new Set(voters.voters)].sort((a, b) => a - b);
        if (sorted.join() !== context.voters.join()) events.push({ type: "voters.changed", voters: sorted });
      }
    }
    events.push(answer);
    return events;
  }

  /** Whether the node, leading, answers a fetch at that position with where the logs diverge. */
  divergesAt(fetchOffset: number, lastFetchedEpoch: number): boolean {
    if (fetchOffset === 0) return false;
    const starts = epochStartsOf(this.logEpochs);
    return fetchDivergence(starts, this.logEpochs.length, fetchOffset, lastFetchedEpoch) !== null;
  }

  /** FollowerFetcher.plan, once the fetch before was answered: a follower fetches from its leader, an observer from the voters in turn. */
  nextFetch(): { peer: number; request: NodeRequest } | null {
    if (this.fetchingFrom !== null) return null;
    const context = this.context;
    let peer: number | null = null;
    if (this.role === "follower" && context.leaderId !== null && context.leaderId !== nodeId) {
      peer = context.leaderId;
    } else if ((this.role === "unattached" || this.role === "resigned") && !context.voters.includes(nodeId)) {
      const voters = context.voters.filter((id) => id !== nodeId);
      if (voters.length > 0) {
        if (voters.some((id) => !this.peers.includes(id))) {
          throw new Unrealizable("an observer would try voters the test runs no server for, at its own pace");
        }
        peer = voters[this.observerCursor++ % voters.length]!;
      }
    }
    if (peer === null || !this.peers.includes(peer)) return null;
    const request: NodeRequest = {
      kind: "fetch",
      epoch: context.epoch,
      fetchOffset: context.log.endOffset,
      lastFetchedEpoch: context.log.lastEpoch,
    };
    this.queues.get(peer)!.push(request);
    this.fetchingFrom = peer;
    return { peer, request };
  }

  // ---- The controller ---------------------------------------------------------------------------

  /** The record the controller writes by itself now, if any: its registration, then its unfencing. */
  dueControllerRecord(): "registration" | "unfencing" | null {
    const context = this.context;
    const { controller } = this;
    if (this.role !== "leader" || !committedInOwnEpoch(context)) return null;
    if (this.controllerInterrupted) {
      throw new Unrealizable(
        "the controller's own records, cut off by a lost leadership, race when it leads again",
      );
    }
    if (controller.registration === null) {
      controller.registration = context.log.endOffset;
      return "registration";
    }
    if (controller.unfencing === null && context.highWatermark > controller.registration) {
      controller.unfencing = context.log.endOffset;
      return "unfencing";
    }
    return null;
  }

  /** Broker.start has finished: the controller's records of this node are committed. */
  brokerStarted(): boolean {
    const { unfencing } = this.controller;
    return unfencing !== null && this.context.highWatermark > unfencing;
  }

  /** Registers a test broker's record, once every controller record before it has committed. */
  registerBroker(): number {
    const busy = this.controller.brokers.some((offset) => offset >= this.context.highWatermark);
    if (!this.brokerStarted() || busy) {
      throw new Unrealizable("the controller writes a record only once each before it has committed");
    }
    this.controller.brokers.push(this.context.log.endOffset);
    return this.nextBrokerId++;
  }

  // ---- What the node does next by itself --------------------------------------------------------

  /** A timer that fires at once and changes the node's role: the next step can only be that one. */
  imminentTimer(): "election.timedOut" | "clock.ticked" | null {
    const [ticked] = transition(raftQuorumMachine, this.snapshot, {
      type: "clock.ticked",
      nowMs: this.context.nowMs,
    });
    if (stateName(ticked) !== this.role) return "clock.ticked";
    // A leader has no election timer.
    if (this.role === "leader") this.timerImmediate = false;
    const [timedOut] = transition(raftQuorumMachine, this.snapshot, { type: "election.timedOut" });
    return this.timerImmediate && stateName(timedOut) !== this.role ? "election.timedOut" : null;
  }
}

function isOnlyVoter(context: Context): boolean {
  return context.voters.length === 1 && context.voters[0] === nodeId;
}
