/**
 * Generated paths through the Raft quorum machine, over the bounded models of
 * testing/raft-quorum-models.ts. Every edge of each bounded graph (every event
 * from every reachable state, refusals that change nothing included) is
 * checked against the protocol's rules, restated below independently of the
 * machine; shortest and simple paths are generated and counted on the same
 * graphs. Together the models reach every state and take every transition.
 */
import { describe, expect, it } from "vitest";
import { transition } from "xstate";
import { type Context, type Event, raftQuorumMachine } from "./raft-quorum.ts";
import { Coverage, type PathLike } from "./testing/coverage.ts";
import {
  generatedPaths,
  models,
  type Snapshot,
  startOf,
  stateName,
  testModelOf,
} from "./testing/raft-quorum-models.ts";

const sendActions = new Set([
  "sendVoteRequests",
  "sendVoteAnswer",
  "sendBeginQuorumEpoch",
  "sendEndQuorumEpoch",
]);

interface VoteAnswer {
  to: number;
  epoch: number;
  granted: boolean;
  preVote: boolean;
}

/** One edge of the graph with its actions, as the rules below read it. */
interface Step {
  before: Context;
  after: Context;
  from: string;
  to: string;
  event: Event;
  types: string[];
  params: unknown[];
  granted: VoteAnswer[];
}

// The rules restate the protocol independently of the machine's helpers, so a
// broken guard or helper shows up as a broken rule.
const isVoter = (context: Context) => context.voters.includes(context.nodeId);
const isMajority = (ids: number[], voters: number[]) =>
  2 * new Set(ids.filter((id) => voters.includes(id))).size > voters.length;
const offsetOf = (context: Context, id: number) =>
  id === context.nodeId
    ? context.log.endOffset
    : (context.replicaProgress.find((replica) => replica.id === id)?.endOffset ?? 0);
// Kafka's check-quorum timer never expires over a voter set of one.
const heardFromMajority = (context: Context, nowMs: number) =>
  context.voters.length === 1 ||
  isMajority(
    context.voters.filter(
      (id) =>
        id === context.nodeId ||
        context.replicaProgress.some(
          (replica) => replica.id === id && nowMs - replica.lastFetchMs < context.config.checkQuorumTimeoutMs,
        ),
    ),
    context.voters,
  );
const sameVoters = (before: Context, after: Context) =>
  JSON.stringify(before.voters) === JSON.stringify(after.voters);
const grantOf = (step: Step, preVote: boolean) =>
  step.event.type === "vote.answered" &&
  step.event.granted &&
  step.event.preVote === preVote &&
  step.event.epoch === step.before.epoch &&
  step.before.voters.includes(step.event.voterId)
    ? step.event.voterId
    : null;
const completesMajority = (step: Step, preVote: boolean) => {
  const voterId = grantOf(step, preVote);
  return voterId !== null && isMajority([...step.before.grants, voterId], step.before.voters);
};

const rules: Array<[rule: string, holds: (step: Step) => boolean]> = [
  ["epoch never decreases", ({ before, after }) => after.epoch >= before.epoch],
  [
    "at most one vote per epoch",
    ({ before, after }) =>
      after.epoch !== before.epoch || before.votedFor === null || after.votedFor === before.votedFor,
  ],
  [
    "votedFor only set by a vote cast in its epoch",
    ({ before, after, granted }) =>
      after.votedFor === null ||
      (after.votedFor === before.votedFor && after.epoch === before.epoch) ||
      (after.votedFor === after.nodeId && after.epoch === before.epoch + 1) ||
      granted.some(
        (answer) => !answer.preVote && answer.to === after.votedFor && answer.epoch === after.epoch,
      ),
  ],
  [
    "a granted vote is the recorded vote",
    ({ after, granted }) =>
      granted.every(
        (answer) => answer.preVote || (answer.to === after.votedFor && answer.epoch === after.epoch),
      ),
  ],
  [
    "a pre-vote records no vote",
    ({ before, after, granted }) =>
      !granted.some((answer) => answer.preVote) ||
      (after.epoch === before.epoch ? after.votedFor === before.votedFor : after.votedFor === null),
  ],
  [
    "grants only to candidates at least as up to date, whether or not its own log lists it as a voter",
    ({ before, event, granted }) =>
      granted.length === 0 ||
      (event.type === "vote.requested" &&
        (event.lastEpoch > before.log.lastEpoch ||
          (event.lastEpoch === before.log.lastEpoch && event.endOffset >= before.log.endOffset))),
  ],
  [
    "a follower that heard from its leader within the fetch timeout grants no pre-vote",
    ({ before, after, from, granted }) =>
      !(
        from === "follower" &&
        after.epoch === before.epoch &&
        before.lastLeaderContactMs !== null &&
        before.nowMs - before.lastLeaderContactMs < before.config.fetchTimeoutMs
      ) || granted.length === 0,
  ],
  [
    "candidacy follows a majority of pre-votes in the epoch",
    (step) => step.to !== "candidate" || step.from === "candidate" || completesMajority(step, true),
  ],
  [
    "leadership follows a majority of votes, or the node is the only voter",
    (step) =>
      step.to !== "leader" ||
      step.from === "leader" ||
      completesMajority(step, false) ||
      (step.event.type === "election.timedOut" &&
        JSON.stringify(step.before.voters) === `[${step.before.nodeId}]`),
  ],
  [
    "a grant that completes a majority is acted on",
    (step) =>
      !(step.from === "prospective" && completesMajority(step, true)) &&
      !(step.from === "candidate" && completesMajority(step, false))
        ? true
        : step.to === (step.from === "prospective" ? "candidate" : "leader"),
  ],
  [
    "an election timeout makes a voter prospective, the only voter a leader",
    ({ before, from, to, event }) =>
      event.type !== "election.timedOut" ||
      !["unattached", "follower", "resigned"].includes(from) ||
      !isVoter(before) ||
      to === (before.voters.length === 1 ? "leader" : "prospective"),
  ],
  ["only voters' grants are counted", ({ after }) => after.grants.every((id) => after.voters.includes(id))],
  [
    "an observer never stands for election",
    ({ after, to }) => isVoter(after) || (to !== "prospective" && to !== "candidate"),
  ],
  [
    "leaderId only in leader (itself) or follower (another node)",
    ({ after, to }) =>
      to === "leader"
        ? after.leaderId === after.nodeId
        : to === "follower"
          ? after.leaderId !== null && after.leaderId !== after.nodeId
          : after.leaderId === null,
  ],
  [
    "a follower follows the leader named by a message of its epoch",
    ({ before, after, to, event }) =>
      to !== "follower" ||
      (after.leaderId === before.leaderId && after.epoch === before.epoch) ||
      ((event.type === "leader.announced" || event.type === "fetch.answered") &&
        event.leaderId === after.leaderId &&
        event.epoch === after.epoch),
  ],
  [
    "only the leader's fetch answers and resignation touch a follower's leader contact",
    ({ before, after, from, to, event }) =>
      !(
        from === "follower" &&
        to === "follower" &&
        after.leaderId === before.leaderId &&
        after.epoch === before.epoch
      ) ||
      after.lastLeaderContactMs === before.lastLeaderContactMs ||
      ((event.type === "fetch.answered" || event.type === "leader.resigned") &&
        event.leaderId === before.leaderId),
  ],
  [
    "leader state only in leader",
    ({ after, to }) =>
      to === "leader" || (after.pendingVoterChange === null && after.epochStartOffset === null),
  ],
  ["high watermark within the log", ({ after }) => after.highWatermark <= after.log.endOffset],
  ["high watermark never decreases", ({ before, after }) => after.highWatermark >= before.highWatermark],
  [
    "a leader's high watermark is held by a majority and covers its own epoch",
    ({ before, after, to }) =>
      to !== "leader" ||
      after.highWatermark === before.highWatermark ||
      (after.highWatermark > after.epochStartOffset! &&
        isMajority(
          after.voters.filter((id) => offsetOf(after, id) >= after.highWatermark),
          after.voters,
        )),
  ],
  [
    "a leader's high watermark reaches what a majority holds in its epoch",
    ({ after, from, to }) => {
      if (from !== "leader" || to !== "leader") return true;
      const offsets = after.voters.map((id) => offsetOf(after, id)).sort((a, b) => b - a);
      const quorumOffset = offsets[Math.floor(after.voters.length / 2)] ?? 0;
      return quorumOffset <= after.epochStartOffset! || after.highWatermark >= quorumOffset;
    },
  ],
  [
    "a leader's log never shrinks and a fetch beyond it is no progress",
    ({ before, after, from, to, event }) =>
      !(from === "leader" && to === "leader") ||
      (after.log.endOffset >= before.log.endOffset &&
        (event.type !== "replica.fetched" ||
          event.fetchOffset <= before.log.endOffset ||
          JSON.stringify(after.replicaProgress) === JSON.stringify(before.replicaProgress))),
  ],
  [
    "check quorum: a leader resigns on a tick exactly when no majority fetched in time or its removal committed",
    ({ before, from, to, event }) =>
      from !== "leader" ||
      event.type !== "clock.ticked" ||
      (to === "resigned") ===
        (!heardFromMajority(before, Math.max(before.nowMs, event.nowMs)) ||
          (!isVoter(before) && before.pendingVoterChange === null)),
  ],
  [
    "membership changes one voter at a time, committed epoch, caught-up newcomer, never to no voter",
    ({ before, after, from, to }) => {
      if (!(from === "leader" && to === "leader") || sameVoters(before, after)) return true;
      const added = after.voters.filter((id) => !before.voters.includes(id));
      const removed = before.voters.filter((id) => !after.voters.includes(id));
      const newcomer = before.replicaProgress.find((replica) => replica.id === added[0]);
      return (
        before.highWatermark > before.epochStartOffset! &&
        before.pendingVoterChange === null &&
        added.length + removed.length === 1 &&
        after.voters.length > 0 &&
        (added.length === 0 ||
          (newcomer !== undefined &&
            newcomer.endOffset >= before.log.endOffset &&
            before.nowMs - newcomer.lastFetchMs < before.config.fetchTimeoutMs))
      );
    },
  ],
  [
    "a membership change completes, answered, exactly when its voters record commits",
    ({ before, after, from, to, types, params }) => {
      if (!(from === "leader" && to === "leader")) return true;
      // The record is the one pending, or the one this step appended at the old log end.
      const recordOffset = sameVoters(before, after)
        ? before.pendingVoterChange?.offset
        : before.log.endOffset;
      if (recordOffset === undefined) return true;
      const committed = after.highWatermark > recordOffset;
      const answered = types.some(
        (type, index) =>
          type === "answerMembershipRequest" && (params[index] as { error: string }).error === "NONE",
      );
      return (after.pendingVoterChange === null) === committed && answered === committed;
    },
  ],
  [
    "grants exactly as Kafka's canGrantVote, after moving to a newer epoch",
    ({ before, from, event, granted }) => {
      if (event.type !== "vote.requested") return true;
      const newer = event.epoch > before.epoch;
      const role = newer ? "unattached" : from;
      const votedFor = newer ? null : before.votedFor;
      const upToDate =
        event.lastEpoch > before.log.lastEpoch ||
        (event.lastEpoch === before.log.lastEpoch && event.endOffset >= before.log.endOffset);
      const leaderFresh =
        before.lastLeaderContactMs !== null &&
        before.nowMs - before.lastLeaderContactMs < before.config.fetchTimeoutMs;
      const grants =
        event.epoch >= before.epoch &&
        upToDate &&
        (role === "unattached" || role === "prospective"
          ? event.preVote || votedFor === null || votedFor === event.candidateId
          : role === "candidate"
            ? event.preVote
            : role === "follower" && event.preVote && !leaderFresh);
      return granted.length === (grants ? 1 : 0);
    },
  ],
  [
    "a message of a newer epoch moves the node to it",
    ({ before, after, event }) =>
      !("epoch" in event) ||
      event.epoch <= before.epoch ||
      ("leaderId" in event && event.type !== "leader.resigned" && event.leaderId === before.nodeId) ||
      after.epoch === event.epoch,
  ],
  [
    "a node without a leader follows the leader named for its epoch",
    ({ before, from, to, event }) =>
      !(event.type === "leader.announced" || event.type === "fetch.answered") ||
      event.epoch !== before.epoch ||
      event.leaderId === before.nodeId ||
      from === "leader" ||
      from === "follower" ||
      to === "follower",
  ],
  [
    "a follower takes its leader's fetch answers and its replicated appends",
    ({ before, after, from, event }) =>
      from !== "follower" ||
      (event.type === "fetch.answered" && event.epoch === before.epoch && event.leaderId === before.leaderId
        ? after.lastLeaderContactMs === event.nowMs
        : event.type === "log.appended" && event.endOffset >= before.highWatermark
          ? after.log.endOffset === event.endOffset
          : true),
  ],
  [
    "a leader records fetches within its log and its own appends",
    ({ before, after, from, event }) =>
      from !== "leader" ||
      (event.type === "replica.fetched" &&
      event.epoch === before.epoch &&
      event.fetchOffset <= before.log.endOffset &&
      event.lastFetchedEpoch <= before.log.lastEpoch
        ? after.replicaProgress.some(
            (replica) => replica.id === event.replicaId && replica.endOffset === event.fetchOffset,
          )
        : event.type === "log.appended" &&
            event.endOffset >= before.log.endOffset &&
            event.lastEpoch === before.epoch
          ? after.log.endOffset === event.endOffset
          : true),
  ],
  [
    "a leader accepts a membership request exactly when Kafka would, else answers Kafka's error",
    ({ before, after, from, event, types, params }) => {
      if (
        from !== "leader" ||
        (event.type !== "voter.addRequested" && event.type !== "voter.removeRequested")
      ) {
        return true;
      }
      const adding = event.type === "voter.addRequested";
      const isMember = before.voters.includes(event.nodeId);
      const newcomer = before.replicaProgress.find((replica) => replica.id === event.nodeId);
      const caughtUp =
        newcomer !== undefined &&
        newcomer.endOffset >= before.log.endOffset &&
        before.nowMs - newcomer.lastFetchMs < before.config.fetchTimeoutMs;
      const expected =
        before.highWatermark <= before.epochStartOffset! || before.pendingVoterChange !== null
          ? "REQUEST_TIMED_OUT"
          : adding
            ? isMember
              ? "DUPLICATE_VOTER"
              : caughtUp
                ? "accepted"
                : "REQUEST_TIMED_OUT"
            : isMember && before.voters.length > 1
              ? "accepted"
              : "VOTER_NOT_FOUND";
      const answer = params[types.indexOf("answerMembershipRequest")] as { error: string } | undefined;
      const accepted = types.includes("appendVotersRecord") && !sameVoters(before, after);
      return expected === "accepted" ? accepted : !accepted && answer?.error === expected;
    },
  ],
  [
    "a new epoch, vote or leader is persisted before anything is sent",
    ({ before, after, types, params }) => {
      if (
        after.epoch === before.epoch &&
        after.votedFor === before.votedFor &&
        (after.leaderId === null || after.leaderId === before.leaderId)
      ) {
        return true;
      }
      // The last persist carries the final state (the only voter persists its candidacy, then its leadership).
      const persistIndex = types.lastIndexOf("persistQuorumState");
      const firstSend = types.findIndex((type) => sendActions.has(type));
      return (
        JSON.stringify(params[persistIndex]) ===
          JSON.stringify({ epoch: after.epoch, votedFor: after.votedFor, leaderId: after.leaderId }) &&
        (firstSend < 0 || persistIndex < firstSend)
      );
    },
  ],
];

/**
 * The rules over one step, with the step's actions. All of them are
 * step-local, so checking every edge of the bounded graph checks every path.
 */
function stepViolations(previous: Snapshot, event: Event, next: Snapshot): string[] {
  const [, actions] = transition(raftQuorumMachine, previous, event);
  const step: Step = {
    before: previous.context,
    after: next.context,
    from: stateName(previous),
    to: stateName(next),
    event,
    types: actions.map((action) => action.type),
    params: actions.map((action) => action.params),
    granted: actions
      .filter((action) => action.type === "sendVoteAnswer")
      .map((action) => action.params as VoteAnswer)
      .filter((answer) => answer.granted),
  };
  return rules
    .filter(([, holds]) => !holds(step))
    .map(([rule]) => `${rule}: ${step.from} --${JSON.stringify(event)}--> ${step.to}`);
}

/** The one cross-step rule, over a whole path: each epoch sees at most one vote. */
function pathViolations(path: PathLike): string[] {
  const votes = new Map<number, number>();
  const violations: string[] = [];
  for (const step of path.steps) {
    const { epoch, votedFor } = (step.state as Snapshot).context;
    if (votedFor === null) continue;
    if ((votes.get(epoch) ?? votedFor) !== votedFor) violations.push(`two votes in epoch ${epoch}`);
    votes.set(epoch, votedFor);
  }
  return violations;
}

describe("raft quorum paths", () => {
  const coverage = new Coverage(raftQuorumMachine);

  for (const model of models) {
    it(`${model.name}: every step keeps the invariants`, () => {
      const { initial, start, prefixPath } = startOf(model);
      coverage.record(initial, prefixPath);
      const testModel = testModelOf(model, start);
      const violations: string[] = [];

      // Every event of the alphabet from every reachable state, self-loops included (no path shows those).
      let edges = 0;
      for (const { state, transitions } of Object.values(testModel.getAdjacencyMap())) {
        const outgoing = Object.values(transitions) as Array<{ event: Event; state: Snapshot }>;
        for (const { event, state: next } of outgoing) {
          violations.push(...stepViolations(state, event, next));
          coverage.record(state, { steps: [{ event, state: next }] });
          edges++;
        }
      }

      const { shortest, simple } = generatedPaths(model, start, testModel);
      for (const path of [...shortest, ...simple]) {
        violations.push(...pathViolations(path));
        coverage.record(start, path);
      }
      expect(violations.slice(0, 10)).toEqual([]);
      expect({ edges, shortest: shortest.length, simple: simple.length }).toEqual(model.paths);
      console.log(
        `${model.name}: ${edges} edges, ${shortest.length} shortest paths, ${simple.length} simple paths`,
      );
    });
  }

  it("reaches every state and takes every transition", () => {
    console.log(coverage.report("raft quorum"));
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions()).toEqual([]);
  });
});
