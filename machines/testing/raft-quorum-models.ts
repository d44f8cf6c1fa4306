/**
 * The bounded models of the Raft quorum machine that paths are generated
 * from: each starts from a reachable snapshot (its input and a prefix of
 * events) and sends a small alphabet of events chosen for the states it
 * explores. The machine's own path test checks every edge of these graphs
 * against restated rules; the conformance suite (conformance/paths) drives
 * the same paths against a real node. Together the models reach every state
 * and take every transition.
 */
import { initialTransition, type SnapshotFrom, transition } from "xstate";
import { createTestModel } from "xstate/graph";
import { type Context, type Event, type Input, raftQuorumMachine } from "../raft-quorum.ts";
import type { PathLike } from "./coverage.ts";

export type Snapshot = SnapshotFrom<typeof raftQuorumMachine>;

export const config = { fetchTimeoutMs: 100, checkQuorumTimeoutMs: 150 };
/** Clock events step by this much: one step makes a leader's contact stale, two lose check-quorum. */
export const tickMs = 100;

export interface Model {
  name: string;
  input: Input;
  /** Events that lead from the initial snapshot to where the model starts exploring. */
  prefix: Event[];
  events: (context: Context, state: string) => Event[];
  stopWhen: (context: Context) => boolean;
  /** The graph's size, asserted so a change to the machine or the model shows up: edges, shortest and simple paths. */
  paths: { edges: number; shortest: number; simple: number };
  /** Simple paths grow exponentially: they get a tighter bound, and optionally fewer events. */
  simple?: { stopWhen: (context: Context) => boolean; keep?: (event: Event) => boolean };
}

export const threeVoters: Input = {
  nodeId: 1,
  voters: [1, 2, 3],
  config,
  // A non-empty log lets a candidate be behind it.
  persisted: { epoch: 1, votedFor: null },
  log: { lastEpoch: 1, endOffset: 2 },
  highWatermark: 2,
};

export function upToDate(context: Context) {
  return { lastEpoch: context.log.lastEpoch, endOffset: context.log.endOffset };
}

export function fetchAt(context: Context, replicaId: number): Event {
  return {
    type: "replica.fetched",
    replicaId,
    epoch: context.epoch,
    fetchOffset: context.log.endOffset,
    lastFetchedEpoch: context.log.lastEpoch,
    nowMs: context.nowMs,
  };
}

export const electionRound: Event[] = [
  { type: "election.timedOut" },
  { type: "vote.answered", voterId: 2, epoch: 1, granted: true, preVote: true },
  { type: "vote.answered", voterId: 2, epoch: 2, granted: true, preVote: false },
];

/** The leader's context right after electionRound, for events the prefixes send. */
export const afterElection = {
  epoch: 2,
  log: { lastEpoch: 2, endOffset: 3 },
  nowMs: 0,
} as Context;

export const models: Model[] = [
  {
    name: "election among three voters",
    paths: { edges: 1031, shortest: 32, simple: 1275 },
    input: threeVoters,
    prefix: [],
    events: (context, state) => {
      const epoch = context.epoch;
      return [
        { type: "election.timedOut" },
        { type: "vote.requested", candidateId: 2, epoch, ...upToDate(context), preVote: true },
        { type: "vote.requested", candidateId: 2, epoch, ...upToDate(context), preVote: false },
        { type: "vote.requested", candidateId: 3, epoch, ...upToDate(context), preVote: false },
        { type: "vote.requested", candidateId: 2, epoch: epoch + 1, ...upToDate(context), preVote: false },
        { type: "vote.requested", candidateId: 2, epoch: epoch + 1, ...upToDate(context), preVote: true },
        {
          type: "vote.requested",
          candidateId: 3,
          epoch: epoch + 1,
          lastEpoch: 0,
          endOffset: 0,
          preVote: false,
        },
        { type: "vote.requested", candidateId: 3, epoch, lastEpoch: 0, endOffset: 0, preVote: true },
        { type: "vote.answered", voterId: 2, epoch, granted: true, preVote: state === "prospective" },
        { type: "vote.answered", voterId: 3, epoch: epoch + 1, granted: false, preVote: false },
        // Answers that must not count: refused, of the other kind, stale, or from a non-voter.
        { type: "vote.answered", voterId: 3, epoch, granted: false, preVote: state === "prospective" },
        { type: "vote.answered", voterId: 3, epoch, granted: true, preVote: state !== "prospective" },
        {
          type: "vote.answered",
          voterId: 3,
          epoch: epoch - 1,
          granted: true,
          preVote: state === "prospective",
        },
        { type: "vote.answered", voterId: 4, epoch, granted: true, preVote: state === "prospective" },
        { type: "leader.announced", leaderId: 1, epoch: epoch + 1 },
        { type: "leader.announced", leaderId: 2, epoch },
        { type: "leader.announced", leaderId: 2, epoch: epoch + 1 },
        { type: "leader.resigned", leaderId: 2, epoch: epoch + 1 },
        { type: "fetch.answered", leaderId: 2, epoch, highWatermark: 2, nowMs: 0 },
        { type: "fetch.answered", leaderId: 3, epoch: epoch + 1, highWatermark: 2, nowMs: 0 },
        {
          type: "replica.fetched",
          replicaId: 2,
          epoch: epoch + 1,
          fetchOffset: 0,
          lastFetchedEpoch: 0,
          nowMs: 0,
        },
        { type: "voter.addRequested", nodeId: 4 },
        { type: "voter.removeRequested", nodeId: 3 },
        { type: "node.shutdownRequested" },
      ];
    },
    stopWhen: (context) => context.epoch >= 3,
    simple: {
      stopWhen: (context) => context.epoch >= 3,
      keep: (event) =>
        ["election.timedOut", "vote.answered", "leader.announced", "node.shutdownRequested"].includes(
          event.type,
        ),
    },
  },
  {
    name: "leadership",
    paths: { edges: 907, shortest: 118, simple: 190 },
    input: threeVoters,
    prefix: electionRound,
    events: (context) => [
      fetchAt(context, 2),
      fetchAt(context, 3),
      // A fetch past the leader's log end, and a stale report of its own log: neither is progress.
      { ...fetchAt(context, 3), fetchOffset: context.log.endOffset + 1 },
      { type: "log.appended", endOffset: context.log.endOffset - 1, lastEpoch: context.epoch },
      { type: "clock.ticked", nowMs: context.nowMs + tickMs },
      { type: "log.appended", endOffset: context.log.endOffset + 1, lastEpoch: context.epoch },
      { type: "node.shutdownRequested" },
      // A leader has no election timer; one that resigned has, and stands again when it fires.
      { type: "election.timedOut" },
    ],
    stopWhen: (context) => context.nowMs > 2 * tickMs || context.log.endOffset > 4,
    simple: { stopWhen: (context) => context.nowMs > tickMs || context.log.endOffset > 3 },
  },
  {
    name: "membership",
    paths: { edges: 1776, shortest: 233, simple: 212 },
    input: threeVoters,
    // Elected at epoch 2 with its leader-change record at offset 2; voter 2 and observer 4 fetched it.
    prefix: [...electionRound, fetchAt(afterElection, 2), fetchAt(afterElection, 4)],
    events: (context) => [
      fetchAt(context, 2),
      fetchAt(context, 3),
      fetchAt(context, 4),
      { type: "clock.ticked", nowMs: context.nowMs + tickMs },
      { type: "voter.addRequested", nodeId: 4 },
      { type: "voter.addRequested", nodeId: 2 },
      { type: "voter.removeRequested", nodeId: 1 },
      { type: "voter.removeRequested", nodeId: 3 },
    ],
    stopWhen: (context) => context.nowMs > tickMs || context.log.endOffset > 4,
    simple: { stopWhen: (context) => context.nowMs > 0 || context.log.endOffset > 4 },
  },
  {
    // KIP-853's two-voter corner: only voter 2 can commit the leader's removal, so the leader stays until it does.
    name: "leader removing itself from two voters",
    paths: { edges: 44, shortest: 8, simple: 23 },
    input: { ...threeVoters, voters: [1, 2] },
    // Elected at epoch 2 with voter 2's grants, its leader-change record committed by voter 2, then its
    // removal. Voter 2 fetches the log end three times: a real leader's controller appends a record of its
    // own as each commits (its registration, then its unfencing) and takes voter changes only after both.
    prefix: [
      ...electionRound,
      fetchAt(afterElection, 2),
      fetchAt(afterElection, 2),
      fetchAt(afterElection, 2),
      { type: "voter.removeRequested", nodeId: 1 },
    ],
    events: (context) => [
      { type: "clock.ticked", nowMs: context.nowMs + tickMs },
      fetchAt(context, 2),
      // Voter 2 fetches without the voters record: alive, yet the removal stays uncommitted.
      { ...fetchAt(context, 2), fetchOffset: context.highWatermark },
    ],
    stopWhen: (context) => context.nowMs > 3 * tickMs,
    simple: { stopWhen: (context) => context.nowMs > 3 * tickMs },
  },
  {
    name: "follower",
    paths: { edges: 1116, shortest: 139, simple: 132 },
    input: threeVoters,
    prefix: [{ type: "leader.announced", leaderId: 2, epoch: 2 }],
    events: (context) => [
      { type: "election.timedOut" },
      {
        type: "fetch.answered",
        leaderId: 2,
        epoch: context.epoch,
        highWatermark: context.log.endOffset,
        nowMs: context.nowMs,
      },
      { type: "clock.ticked", nowMs: context.nowMs + tickMs },
      { type: "vote.requested", candidateId: 3, epoch: context.epoch, ...upToDate(context), preVote: true },
      { type: "log.appended", endOffset: context.log.endOffset + 1, lastEpoch: context.epoch },
      { type: "log.appended", endOffset: context.highWatermark - 1, lastEpoch: context.epoch },
      { type: "voters.changed", voters: context.voters.includes(1) ? [2, 3] : [1, 2, 3] },
      { type: "voters.changed", voters: [1] },
      { type: "leader.resigned", leaderId: 2, epoch: context.epoch },
      // Another node of the same epoch is not the leader: it neither resigns nor answers for it.
      { type: "leader.resigned", leaderId: 3, epoch: context.epoch },
      { type: "fetch.answered", leaderId: 3, epoch: context.epoch, highWatermark: 0, nowMs: context.nowMs },
    ],
    stopWhen: (context) => context.epoch > 2 || context.nowMs > tickMs || context.log.endOffset > 3,
    simple: {
      stopWhen: (context) => context.epoch > 2 || context.nowMs > 0 || context.log.endOffset > 2,
      keep: (event) => !("leaderId" in event) || event.leaderId === 2,
    },
  },
  {
    name: "single voter",
    paths: { edges: 1097, shortest: 137, simple: 98 },
    input: { nodeId: 1, voters: [1], config },
    prefix: [],
    events: (context) => [
      { type: "election.timedOut" },
      { type: "node.shutdownRequested" },
      { type: "leader.announced", leaderId: 2, epoch: context.epoch + 1 },
      fetchAt(context, 2),
      { type: "log.appended", endOffset: context.log.endOffset + 1, lastEpoch: context.epoch },
      { type: "voter.addRequested", nodeId: 2 },
      { type: "voter.removeRequested", nodeId: 2 },
      { type: "voter.removeRequested", nodeId: 1 },
    ],
    stopWhen: (context) => context.epoch > 2 || context.log.endOffset > 3,
    simple: { stopWhen: (context) => context.epoch > 1 || context.log.endOffset > 2 },
  },
  {
    name: "election among five voters",
    paths: { edges: 35, shortest: 6, simple: 34 },
    input: { nodeId: 1, voters: [1, 2, 3, 4, 5], config },
    prefix: [],
    events: (context, state) => [
      { type: "election.timedOut" },
      ...[2, 3].map(
        (voterId): Event => ({
          type: "vote.answered",
          voterId,
          epoch: context.epoch,
          granted: true,
          preVote: state === "prospective",
        }),
      ),
    ],
    stopWhen: (context) => context.epoch > 1,
    simple: { stopWhen: (context) => context.epoch > 1 },
  },
];

export function stateName(snapshot: Snapshot): string {
  return String(snapshot.value);
}

export function startOf(model: Model): { initial: Snapshot; start: Snapshot; prefixPath: PathLike } {
  const [initial] = initialTransition(raftQuorumMachine, model.input);
  let start = initial;
  const steps: PathLike["steps"][number][] = [];
  for (const event of model.prefix) {
    [start] = transition(raftQuorumMachine, start, event);
    steps.push({ event, state: start });
  }
  return { initial, start, prefixPath: { steps } };
}

/** Concrete states: the role and the whole context, whatever path reached them. */
export function concreteState(snapshot: Snapshot): string {
  return JSON.stringify([snapshot.value, snapshot.context]);
}

export function alphabetOf(model: Model, start: Snapshot): Set<Event["type"]> {
  return new Set(model.events(start.context, stateName(start)).map((event) => event.type));
}

export function testModelOf(model: Model, start: Snapshot) {
  const alphabet = alphabetOf(model, start);
  return createTestModel(raftQuorumMachine, {
    events: (snapshot) => model.events(snapshot.context, stateName(snapshot)),
    // The graph sends a bare `{ type }` for any accepted event the model leaves out: drop those.
    filterEvents: (_, event) => alphabet.has(event.type),
    fromState: start,
    stopWhen: (snapshot) => model.stopWhen(snapshot.context),
    serializeState: concreteState,
  });
}

type TestModel = ReturnType<typeof testModelOf>;
type GeneratedPath = ReturnType<TestModel["getShortestPaths"]>[number];

/** The model's shortest paths (one to every state of its graph) and its simple paths, within their bounds. */
export function generatedPaths(
  model: Model,
  start: Snapshot,
  testModel: TestModel = testModelOf(model, start),
): { shortest: GeneratedPath[]; simple: GeneratedPath[] } {
  const shortest = testModel.getShortestPaths();
  const alphabet = alphabetOf(model, start);
  const keep = model.simple?.keep ?? (() => true);
  const simple = model.simple
    ? testModel.getSimplePaths({
        stopWhen: (snapshot: Snapshot) => model.simple!.stopWhen(snapshot.context),
        filterEvents: (_: Snapshot, event: Event) => alphabet.has(event.type) && keep(event),
      })
    : [];
  return { shortest, simple };
}

/**
 * Every edge of the model's graph (every event from every reachable state,
 * refusals that change nothing included, which no shortest or simple path
 * holds) as a path: a shortest path to the edge's source, found breadth-first
 * over the adjacency map itself, then the edge.
 */
export function edgePaths(
  model: Model,
  start: Snapshot,
  testModel: TestModel = testModelOf(model, start),
): Array<{ source: Snapshot; events: Event[] }> {
  const adjacency = new Map(Object.entries(testModel.getAdjacencyMap()));
  const edgesOf = (key: string) =>
    Object.values(adjacency.get(key)?.transitions ?? {}) as Array<{ event: Event; state: Snapshot }>;
  const toSource = new Map<string, Event[]>([[concreteState(start), []]]);
  const queue = [concreteState(start)];
  for (let index = 0; index < queue.length; index++) {
    const key = queue[index]!;
    for (const { event, state } of edgesOf(key)) {
      const next = concreteState(state);
      if (toSource.has(next)) continue;
      toSource.set(next, [...toSource.get(key)!, event]);
      queue.push(next);
    }
  }
  const edges: Array<{ source: Snapshot; events: Event[] }> = [];
  for (const [key, { state }] of adjacency) {
    const prefix = toSource.get(key);
    if (prefix === undefined) continue;
    for (const { event } of edgesOf(key))
      edges.push({ source: state as Snapshot, events: [...prefix, event] });
  }
  return edges;
}

/** A generated path's events, without the graph's initial step. */
export function eventsOf(path: { steps: ReadonlyArray<{ event: unknown }> }): Event[] {
  // The graph's first step is the machine's start, which is no event a path sends.
  return path.steps
    .map((step) => step.event as { type: string })
    .filter((event): event is Event => event.type !== "xstate.init");
}
