/**
 * The Raft quorum machine's rules, one corner per test, each run as a pure
 * `transition(machine, snapshot, event)` from a snapshot placed in the state
 * the rule is about.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AnyStateNode,
  type AnyTransitionDefinition,
  assign,
  initialTransition,
  type SnapshotFrom,
  transition,
} from "xstate";
import {
  type Context,
  type Event,
  eventDescriptions,
  hasMajority,
  initialContext,
  isLogUpToDate,
  majorityOf,
  nextHighWatermark,
  quorumHighWatermark,
  raftQuorumMachine,
} from "./raft-quorum.ts";

type Machine = typeof raftQuorumMachine;
type Snapshot = SnapshotFrom<Machine>;
type Role = "unattached" | "prospective" | "candidate" | "leader" | "follower" | "resigned";

const config = { fetchTimeoutMs: 100, checkQuorumTimeoutMs: 150 };

function contextWith(overrides: Partial<Context> = {}): Context {
  return { ...initialContext({ nodeId: 1, voters: [1, 2, 3], config }), ...overrides };
}

/** Node 1 of voters 1, 2, 3 placed directly in a role (no entry actions run). */
function snapshotIn(
  role: Role,
  overrides: Partial<Context> = {},
  machine: Machine = raftQuorumMachine,
): Snapshot {
  return machine.resolveState({ value: role, context: contextWith(overrides) });
}

/** A leader of epoch 3 whose leader-change record sits at offset 5, followers not yet fetched it. */
function leaderOfEpoch3(overrides: Partial<Context> = {}, machine?: Machine): Snapshot {
  return snapshotIn(
    "leader",
    {
      epoch: 3,
      votedFor: 1,
      leaderId: 1,
      log: { lastEpoch: 3, endOffset: 6 },
      highWatermark: 4,
      epochStartOffset: 5,
      replicaProgress: [
        { id: 2, endOffset: 4, lastFetchMs: 0 },
        { id: 3, endOffset: 4, lastFetchMs: 0 },
      ],
      ...overrides,
    },
    machine,
  );
}

/** The same leader once voter 2 fetched its leader-change record: its epoch is committed. */
function committedLeader(overrides: Partial<Context> = {}): Snapshot {
  return leaderOfEpoch3({
    highWatermark: 6,
    replicaProgress: [
      { id: 2, endOffset: 6, lastFetchMs: 0 },
      { id: 3, endOffset: 4, lastFetchMs: 0 },
      { id: 4, endOffset: 6, lastFetchMs: 0 },
    ],
    ...overrides,
  });
}

function step(snapshot: Snapshot, event: Event) {
  const [next, actions] = transition(raftQuorumMachine, snapshot, event);
  return {
    next,
    role: String(next.value),
    context: next.context,
    types: actions.map((action) => action.type),
    action: (type: string) => actions.find((action) => action.type === type)?.params,
  };
}

function run(snapshot: Snapshot, events: Event[]) {
  return events.reduce((current, event) => step(current, event).next, snapshot);
}

function voteRequest(overrides: Partial<Extract<Event, { type: "vote.requested" }>> = {}): Event {
  return {
    type: "vote.requested",
    candidateId: 2,
    epoch: 3,
    lastEpoch: 2,
    endOffset: 5,
    preVote: false,
    ...overrides,
  };
}

function fetched(replicaId: number, fetchOffset: number, nowMs = 0, epoch = 3): Event {
  return { type: "replica.fetched", replicaId, epoch, fetchOffset, lastFetchedEpoch: 3, nowMs };
}

describe("votes", () => {
  const log = { lastEpoch: 2, endOffset: 5 };
  it.each([
    {
      rule: "rejects a vote for a candidate whose last epoch is older",
      lastEpoch: 1,
      endOffset: 9,
      granted: false,
    },
    {
      rule: "rejects a vote for a candidate with a shorter log in the same epoch",
      lastEpoch: 2,
      endOffset: 4,
      granted: false,
    },
    {
      rule: "grants a vote to a candidate whose log ends where this one does",
      lastEpoch: 2,
      endOffset: 5,
      granted: true,
    },
    {
      rule: "grants a vote to a candidate with a newer last epoch and a shorter log",
      lastEpoch: 3,
      endOffset: 1,
      granted: true,
    },
  ])("$rule", ({ lastEpoch, endOffset, granted }) => {
    const result = step(snapshotIn("unattached", { epoch: 3, log }), voteRequest({ lastEpoch, endOffset }));
    expect(result.action("sendVoteAnswer")).toEqual({ to: 2, epoch: 3, granted, preVote: false });
    expect(result.context.votedFor).toBe(granted ? 2 : null);
  });

  it("grants at most one vote per epoch", () => {
    const voted = snapshotIn("unattached", { epoch: 3, votedFor: 2, log });
    expect(step(voted, voteRequest({ candidateId: 3 })).action("sendVoteAnswer")).toMatchObject({
      granted: false,
    });
    expect(step(voted, voteRequest({ candidateId: 3 })).context.votedFor).toBe(2);
    // The candidate it voted for may ask again (a lost answer) and gets the same answer.
    expect(step(voted, voteRequest({ candidateId: 2 })).action("sendVoteAnswer")).toMatchObject({
      granted: true,
    });
  });

  it("keeps its vote across a restart: the persisted vote is restored", () => {
    const [restarted] = initialTransition(raftQuorumMachine, {
      nodeId: 1,
      voters: [1, 2, 3],
      config,
      persisted: { epoch: 3, votedFor: 2 },
      log,
    });
    expect(step(restarted, voteRequest({ candidateId: 3 })).action("sendVoteAnswer")).toMatchObject({
      granted: false,
    });
  });

  it("a candidate refuses every other candidate's vote in its epoch", () => {
    const candidate = snapshotIn("candidate", { epoch: 3, votedFor: 1, grants: [1], log });
    expect(step(candidate, voteRequest()).action("sendVoteAnswer")).toMatchObject({ granted: false });
  });

  it("refuses a vote from an older epoch and answers with its own", () => {
    const result = step(snapshotIn("unattached", { epoch: 4, log }), voteRequest({ epoch: 3 }));
    expect(result.action("sendVoteAnswer")).toEqual({ to: 2, epoch: 4, granted: false, preVote: false });
    expect(result.context.epoch).toBe(4);
  });

  it.each(["leader", "resigned"] as const)("a %s grants no vote and no pre-vote in its epoch", (role) => {
    const snapshot = role === "leader" ? leaderOfEpoch3() : snapshotIn(role, { epoch: 3, log });
    for (const preVote of [false, true]) {
      const request = voteRequest({ preVote, lastEpoch: 3, endOffset: 9 });
      expect(step(snapshot, request).action("sendVoteAnswer")).toMatchObject({ granted: false });
    }
  });

  it("grants from non-voters do not count towards a majority", () => {
    const prospective = snapshotIn("prospective", { epoch: 3, grants: [1] });
    const result = step(prospective, {
      type: "vote.answered",
      voterId: 4,
      epoch: 3,
      granted: true,
      preVote: true,
    });
    expect(result.role).toBe("prospective");
    expect(result.context.grants).toEqual([1]);
  });
});

describe("pre-votes", () => {
  it("pre-vote does not bump the epoch and records no vote", () => {
    const result = step(
      snapshotIn("unattached", { epoch: 3 }),
      voteRequest({ preVote: true, lastEpoch: 0, endOffset: 0 }),
    );
    expect(result.action("sendVoteAnswer")).toEqual({ to: 2, epoch: 3, granted: true, preVote: true });
    expect(result.context).toMatchObject({ epoch: 3, votedFor: null });
    expect(result.types).not.toContain("persistQuorumState");
  });

  it("a prospective node asks for pre-votes in its current epoch", () => {
    const result = step(snapshotIn("unattached", { epoch: 3 }), { type: "election.timedOut" });
    expect(result.role).toBe("prospective");
    expect(result.context.epoch).toBe(3);
    expect(result.action("sendVoteRequests")).toEqual({
      epoch: 3,
      preVote: true,
      lastEpoch: 0,
      endOffset: 0,
      voters: [2, 3],
    });
    expect(result.types).not.toContain("persistQuorumState");
  });

  it.each([
    {
      rule: "follower that heard from its leader recently refuses a pre-vote",
      contact: 50,
      nowMs: 100,
      granted: false,
    },
    {
      rule: "follower whose leader has been quiet for the fetch timeout grants a pre-vote",
      contact: 50,
      nowMs: 150,
      granted: true,
    },
    {
      rule: "follower that has not fetched from its leader yet grants a pre-vote",
      contact: null,
      nowMs: 0,
      granted: true,
    },
  ])("$rule", ({ contact, nowMs, granted }) => {
    const follower = snapshotIn("follower", { epoch: 3, leaderId: 2, lastLeaderContactMs: contact, nowMs });
    const result = step(follower, voteRequest({ candidateId: 3, preVote: true, lastEpoch: 0, endOffset: 0 }));
    expect(result.action("sendVoteAnswer")).toEqual({ to: 3, epoch: 3, granted, preVote: true });
  });

  it("follower refuses a pre-vote from a candidate whose log is behind even when the leader is quiet", () => {
    const follower = snapshotIn("follower", { epoch: 3, leaderId: 2, log: { lastEpoch: 3, endOffset: 4 } });
    const result = step(follower, voteRequest({ candidateId: 3, preVote: true, lastEpoch: 3, endOffset: 3 }));
    expect(result.action("sendVoteAnswer")).toMatchObject({ granted: false });
  });

  it("a candidate grants pre-votes to up-to-date candidates but keeps its own vote", () => {
    const candidate = snapshotIn("candidate", { epoch: 3, votedFor: 1, grants: [1] });
    const result = step(candidate, voteRequest({ preVote: true, lastEpoch: 0, endOffset: 0 }));
    expect(result.action("sendVoteAnswer")).toMatchObject({ granted: true, preVote: true });
    expect(result.context.votedFor).toBe(1);
  });

  it("a newer epoch in a pre-vote moves the node to it but records no vote", () => {
    const result = step(
      snapshotIn("follower", { epoch: 3, leaderId: 2 }),
      voteRequest({ epoch: 5, preVote: true, lastEpoch: 0, endOffset: 0 }),
    );
    expect(result.role).toBe("unattached");
    expect(result.context).toMatchObject({ epoch: 5, votedFor: null, leaderId: null });
    expect(result.action("sendVoteAnswer")).toEqual({ to: 2, epoch: 5, granted: true, preVote: true });
  });
});

describe("elections", () => {
  it("election timeout moves a voter to prospective, never straight to a new epoch", () => {
    for (const role of ["unattached", "follower", "resigned"] as const) {
      const snapshot = snapshotIn(role, { epoch: 3, leaderId: role === "follower" ? 2 : null });
      expect(step(snapshot, { type: "election.timedOut" })).toMatchObject({
        role: "prospective",
        context: { epoch: 3 },
      });
    }
  });

  it("a majority of pre-votes makes a candidate of the next epoch that votes for itself", () => {
    const result = step(snapshotIn("prospective", { epoch: 3, grants: [1] }), {
      type: "vote.answered",
      voterId: 2,
      epoch: 3,
      granted: true,
      preVote: true,
    });
    expect(result.role).toBe("candidate");
    expect(result.context).toMatchObject({ epoch: 4, votedFor: 1, grants: [1] });
  });

  it("persists quorum state before sending vote requests", () => {
    const result = step(snapshotIn("prospective", { epoch: 3, grants: [1] }), {
      type: "vote.answered",
      voterId: 2,
      epoch: 3,
      granted: true,
      preVote: true,
    });
    expect(result.types.indexOf("persistQuorumState")).toBeLessThan(result.types.indexOf("sendVoteRequests"));
    expect(result.action("persistQuorumState")).toEqual({ epoch: 4, votedFor: 1, leaderId: null });
    expect(result.action("sendVoteRequests")).toEqual({
      epoch: 4,
      preVote: false,
      lastEpoch: 0,
      endOffset: 0,
      voters: [2, 3],
    });
  });

  it("persists its vote before answering the candidate", () => {
    const result = step(
      snapshotIn("unattached", { epoch: 3 }),
      voteRequest({ epoch: 4, lastEpoch: 0, endOffset: 0 }),
    );
    expect(result.types.slice(0, 2)).toEqual(["persistQuorumState", "sendVoteAnswer"]);
    expect(result.action("persistQuorumState")).toEqual({ epoch: 4, votedFor: 2, leaderId: null });
  });

  it("a majority of votes makes a leader that persists, appends its leader-change record, then announces", () => {
    const candidate = snapshotIn("candidate", {
      epoch: 4,
      votedFor: 1,
      grants: [1],
      log: { lastEpoch: 3, endOffset: 7 },
    });
    const result = step(candidate, {
      type: "vote.answered",
      voterId: 3,
      epoch: 4,
      granted: true,
      preVote: false,
    });
    expect(result.role).toBe("leader");
    expect(result.types).toEqual(["persistQuorumState", "appendLeaderChangeRecord", "sendBeginQuorumEpoch"]);
    expect(result.action("appendLeaderChangeRecord")).toEqual({
      epoch: 4,
      offset: 7,
      leaderId: 1,
      voters: [1, 2, 3],
    });
    expect(result.context).toMatchObject({
      leaderId: 1,
      epochStartOffset: 7,
      log: { lastEpoch: 4, endOffset: 8 },
    });
  });

  it("a pre-vote answer does not count in a real election, nor a stale one", () => {
    const candidate = snapshotIn("candidate", { epoch: 4, votedFor: 1, grants: [1] });
    for (const answer of [
      { type: "vote.answered", voterId: 2, epoch: 4, granted: true, preVote: true },
      { type: "vote.answered", voterId: 2, epoch: 3, granted: true, preVote: false },
      { type: "vote.answered", voterId: 2, epoch: 4, granted: false, preVote: false },
    ] as const) {
      expect(step(candidate, answer).role).toBe("candidate");
    }
  });

  it("a candidate that times out goes back to pre-voting; a prospective one waits unattached", () => {
    const candidate = snapshotIn("candidate", { epoch: 4, votedFor: 1, grants: [1] });
    expect(step(candidate, { type: "election.timedOut" })).toMatchObject({
      role: "prospective",
      context: { epoch: 4, votedFor: 1 },
    });
    const prospective = snapshotIn("prospective", { epoch: 4, grants: [1] });
    expect(step(prospective, { type: "election.timedOut" })).toMatchObject({
      role: "unattached",
      context: { grants: [] },
    });
  });

  it("single voter elects itself", () => {
    const [initial] = initialTransition(raftQuorumMachine, { nodeId: 1, voters: [1], config });
    const result = step(initial, { type: "election.timedOut" });
    expect(result.role).toBe("leader");
    expect(result.context).toMatchObject({ epoch: 1, votedFor: 1, leaderId: 1, epochStartOffset: 0 });
    // Its leader-change record is committed the moment it is appended: it is the whole majority.
    expect(result.context.highWatermark).toBe(1);
    expect(result.types).toEqual([
      "persistQuorumState",
      "persistQuorumState",
      "appendLeaderChangeRecord",
      "applyCommittedRecords",
      "sendBeginQuorumEpoch",
    ]);
  });

  it("observer never starts an election", () => {
    const observer = { nodeId: 4, voters: [1, 2, 3] };
    const unattached = snapshotIn("unattached", observer);
    expect(step(unattached, { type: "election.timedOut" }).role).toBe("unattached");
    const follower = snapshotIn("follower", { ...observer, leaderId: 2 });
    expect(step(follower, { type: "election.timedOut" })).toMatchObject({
      role: "unattached",
      context: { leaderId: null },
    });
  });

  // KIP-853: the candidate decides whose grants count; the voter's own, possibly stale, voter set does not.
  it.each([
    {
      rule: "a node its own log leaves out votes for an up-to-date candidate, once per epoch",
      role: "unattached",
      request: voteRequest(),
      granted: true,
      votedFor: 2,
    },
    {
      rule: "a node its own log leaves out moves to a newer epoch and votes for an up-to-date candidate",
      role: "unattached",
      request: voteRequest({ epoch: 4, lastEpoch: 3, endOffset: 1 }),
      granted: true,
      votedFor: 2,
    },
    {
      rule: "a node its own log leaves out grants a pre-vote, recording no vote",
      role: "unattached",
      request: voteRequest({ preVote: true }),
      granted: true,
      votedFor: null,
    },
    {
      rule: "a follower its own log leaves out grants a pre-vote once its leader is quiet",
      role: "follower",
      request: voteRequest({ candidateId: 3, preVote: true }),
      granted: true,
      votedFor: null,
    },
    {
      rule: "a node its own log leaves out refuses a candidate whose log is behind",
      role: "unattached",
      request: voteRequest({ epoch: 4, lastEpoch: 2, endOffset: 4 }),
      granted: false,
      votedFor: null,
    },
  ] as const)("$rule", ({ role, request, granted, votedFor }) => {
    const leaderId = role === "follower" ? 2 : null;
    const leftOut = snapshotIn(role, { nodeId: 4, epoch: 3, leaderId, log: { lastEpoch: 2, endOffset: 5 } });
    const result = step(leftOut, request);
    expect(result.action("sendVoteAnswer")).toMatchObject({ granted });
    expect(result.context.votedFor).toBe(votedFor);
  });

  it("a stale voters record that leaves a node out does not stop it electing a more up-to-date candidate", () => {
    // The finding of the runtime's soak: voters [1, 5] from an old epoch on node 2, committed voters [1, 2].
    const stale = snapshotIn("unattached", {
      nodeId: 2,
      voters: [1, 5],
      epoch: 2,
      log: { lastEpoch: 2, endOffset: 2 },
    });
    const candidate = { candidateId: 1, epoch: 3, lastEpoch: 3, endOffset: 5 };
    expect(step(stale, voteRequest({ ...candidate, preVote: true })).action("sendVoteAnswer")).toMatchObject({
      granted: true,
      preVote: true,
    });
    const voted = step(stale, voteRequest({ ...candidate, preVote: false }));
    expect(voted.action("sendVoteAnswer")).toEqual({ to: 1, epoch: 3, granted: true, preVote: false });
    expect(voted.action("persistQuorumState")).toEqual({ epoch: 3, votedFor: 1, leaderId: null });
    // It still never stands: only a node its own log lists as a voter does.
    expect(step(voted.next, { type: "election.timedOut" }).role).toBe("unattached");
  });

  it("a node that becomes a voter by a replicated voters record may stand", () => {
    const follower = snapshotIn("follower", { nodeId: 4, epoch: 3, leaderId: 2 });
    const voter = run(follower, [{ type: "voters.changed", voters: [4, 1, 2, 3] }]);
    expect(voter.context.voters).toEqual([1, 2, 3, 4]);
    expect(step(voter, { type: "election.timedOut" }).role).toBe("prospective");
  });
});

describe("epochs", () => {
  const newer: Array<{ event: Event; role: Role; leaderId: number | null }> = [
    { event: voteRequest({ epoch: 7, lastEpoch: 0, endOffset: 0 }), role: "unattached", leaderId: null },
    {
      event: { type: "vote.answered", voterId: 2, epoch: 7, granted: false, preVote: false },
      role: "unattached",
      leaderId: null,
    },
    { event: { type: "leader.announced", leaderId: 2, epoch: 7 }, role: "follower", leaderId: 2 },
    { event: { type: "leader.resigned", leaderId: 2, epoch: 7 }, role: "unattached", leaderId: null },
    { event: fetched(2, 0, 0, 7), role: "unattached", leaderId: null },
    {
      event: { type: "fetch.answered", leaderId: 3, epoch: 7, highWatermark: 0, nowMs: 0 },
      role: "follower",
      leaderId: 3,
    },
  ];
  it.each(newer)(
    "a higher epoch in $event.type moves the leader to it and persists it first",
    ({ event, role, leaderId }) => {
      const result = step(leaderOfEpoch3(), event);
      expect(result.role).toBe(role);
      expect(result.context).toMatchObject({ epoch: 7, leaderId });
      expect(result.types).toContain("persistQuorumState");
      expect(result.action("persistQuorumState")).toMatchObject({ epoch: 7, leaderId });
    },
  );

  it("a candidate that hears of the leader of its epoch follows it, keeping its vote", () => {
    const candidate = snapshotIn("candidate", { epoch: 4, votedFor: 1, grants: [1] });
    const result = step(candidate, { type: "leader.announced", leaderId: 3, epoch: 4 });
    expect(result).toMatchObject({ role: "follower", context: { epoch: 4, votedFor: 1, leaderId: 3 } });
    expect(result.action("persistQuorumState")).toEqual({ epoch: 4, votedFor: 1, leaderId: 3 });
  });

  it("messages from older epochs change nothing", () => {
    const follower = snapshotIn("follower", { epoch: 4, leaderId: 2 });
    for (const event of [
      { type: "leader.announced", leaderId: 3, epoch: 3 },
      { type: "leader.resigned", leaderId: 2, epoch: 3 },
      { type: "fetch.answered", leaderId: 2, epoch: 3, highWatermark: 0, nowMs: 0 },
    ] as const) {
      expect(step(follower, event).next.context).toEqual(follower.context);
    }
  });

  it("a log written in a later epoch than the quorum-state file wins at start, with no vote", () => {
    expect(
      initialContext({
        nodeId: 1,
        voters: [1, 2, 3],
        config,
        persisted: { epoch: 2, votedFor: 3 },
        log: { lastEpoch: 4, endOffset: 9 },
      }),
    ).toMatchObject({ epoch: 4, votedFor: null });
  });
});

describe("followers", () => {
  it("a follower takes the leader's high watermark, never past its own log end, never backwards", () => {
    const follower = snapshotIn("follower", {
      epoch: 3,
      leaderId: 2,
      log: { lastEpoch: 3, endOffset: 5 },
      highWatermark: 2,
    });
    const ahead = step(follower, {
      type: "fetch.answered",
      leaderId: 2,
      epoch: 3,
      highWatermark: 9,
      nowMs: 10,
    });
    expect(ahead.context).toMatchObject({ highWatermark: 5, lastLeaderContactMs: 10 });
    expect(ahead.action("applyCommittedRecords")).toEqual({ highWatermark: 5 });
    const behind = step(ahead.next, {
      type: "fetch.answered",
      leaderId: 2,
      epoch: 3,
      highWatermark: 1,
      nowMs: 20,
    });
    expect(behind.context.highWatermark).toBe(5);
    expect(behind.types).not.toContain("applyCommittedRecords");
  });

  it("a follower never truncates below its high watermark", () => {
    const follower = snapshotIn("follower", {
      epoch: 3,
      leaderId: 2,
      log: { lastEpoch: 3, endOffset: 5 },
      highWatermark: 4,
    });
    expect(step(follower, { type: "log.appended", endOffset: 3, lastEpoch: 3 }).context.log.endOffset).toBe(
      5,
    );
    expect(step(follower, { type: "log.appended", endOffset: 4, lastEpoch: 3 }).context.log.endOffset).toBe(
      4,
    );
  });

  it("EndQuorumEpoch makes a follower ready to elect soon and to grant pre-votes", () => {
    const follower = snapshotIn("follower", { epoch: 3, leaderId: 2, lastLeaderContactMs: 0 });
    const result = step(follower, { type: "leader.resigned", leaderId: 2, epoch: 3 });
    expect(result).toMatchObject({ role: "follower", context: { lastLeaderContactMs: null } });
    expect(result.types).toContain("shortenElectionTimer");
  });
});

describe("leaders", () => {
  it("the high watermark advances only once a majority holds a record of the leader's own epoch", () => {
    const leader = leaderOfEpoch3();
    // Voter 2 reaches offset 5: a majority holds everything below the leader-change record, not the record.
    const before = step(leader, fetched(2, 5));
    expect(before.context.highWatermark).toBe(4);
    const after = step(before.next, fetched(2, 6));
    expect(after.context.highWatermark).toBe(6);
    expect(after.action("applyCommittedRecords")).toEqual({ highWatermark: 6 });
  });

  it("leader ignores fetches beyond its log and fetches of an older epoch", () => {
    const leader = leaderOfEpoch3();
    expect(step(leader, fetched(2, 7)).context).toEqual(leader.context);
    expect(step(leader, fetched(2, 6, 0, 2)).context).toEqual(leader.context);
  });

  it("leader steps down without a majority within check-quorum timeout", () => {
    const leader = leaderOfEpoch3();
    const heardFrom2 = run(leader, [fetched(2, 6, 100)]);
    // Voter 2 fetched 100 ms ago: with the leader itself that is a majority.
    expect(step(heardFrom2, { type: "clock.ticked", nowMs: 200 }).role).toBe("leader");
    const quiet = step(heardFrom2, { type: "clock.ticked", nowMs: 250 });
    expect(quiet.role).toBe("resigned");
    expect(quiet.action("sendEndQuorumEpoch")).toEqual({ epoch: 3, leaderId: 1, voters: [2, 3] });
    expect(quiet.context).toMatchObject({ leaderId: null, epochStartOffset: null, replicaProgress: [] });
  });

  it.each([
    { rule: "a leader alone in its voter set never loses check quorum", voters: [1], removing: null },
    {
      rule: "a leader awaiting its own removal from two voters never loses check quorum",
      voters: [2],
      removing: { kind: "remove", nodeId: 1, offset: 5 } as const,
    },
  ])("$rule", ({ voters, removing }) => {
    const leader = leaderOfEpoch3({ voters, pendingVoterChange: removing });
    expect(step(leader, { type: "clock.ticked", nowMs: 10_000 }).role).toBe("leader");
  });

  it("a leader that left itself out of two voters counts only the other for check quorum", () => {
    const leader = leaderOfEpoch3({ voters: [2, 3] });
    const heardFrom2 = run(leader, [fetched(2, 6, 100)]);
    // Itself no longer counts: voter 2 alone is no majority of [2, 3].
    expect(step(heardFrom2, { type: "clock.ticked", nowMs: 200 }).role).toBe("resigned");
  });

  it("a leader resigns on graceful shutdown and tells the voters", () => {
    const result = step(leaderOfEpoch3(), { type: "node.shutdownRequested" });
    expect(result.role).toBe("resigned");
    expect(result.action("sendEndQuorumEpoch")).toEqual({ epoch: 3, leaderId: 1, voters: [2, 3] });
  });

  it("a follower resigns on shutdown without announcing anything", () => {
    const result = step(snapshotIn("follower", { epoch: 3, leaderId: 2 }), {
      type: "node.shutdownRequested",
    });
    expect(result).toMatchObject({ role: "resigned", context: { leaderId: null } });
    expect(result.types).not.toContain("sendEndQuorumEpoch");
  });
});

describe("membership", () => {
  it("refuses a membership change before a record of its own epoch is committed", () => {
    const result = step(leaderOfEpoch3(), { type: "voter.addRequested", nodeId: 4 });
    expect(result.action("answerMembershipRequest")).toEqual({
      kind: "add",
      nodeId: 4,
      error: "REQUEST_TIMED_OUT",
    });
    expect(result.types).not.toContain("appendVotersRecord");
  });

  it("appends a voters record that takes effect at once, and completes when it commits", () => {
    const added = step(committedLeader(), { type: "voter.addRequested", nodeId: 4 });
    expect(added.action("appendVotersRecord")).toEqual({ epoch: 3, offset: 6, voters: [1, 2, 3, 4] });
    expect(added.types).not.toContain("answerMembershipRequest");
    expect(added.context).toMatchObject({
      voters: [1, 2, 3, 4],
      pendingVoterChange: { kind: "add", nodeId: 4, offset: 6 },
      log: { lastEpoch: 3, endOffset: 7 },
    });
    // Four voters need three copies: the leader and voter 2 are not enough.
    const oneCopy = step(added.next, fetched(2, 7));
    expect(oneCopy.context.highWatermark).toBe(6);
    const committed = step(oneCopy.next, fetched(4, 7));
    expect(committed.context).toMatchObject({ highWatermark: 7, pendingVoterChange: null });
    expect(committed.action("answerMembershipRequest")).toEqual({ kind: "add", nodeId: 4, error: "NONE" });
  });

  it("refuses a second membership change while one is uncommitted", () => {
    const pending = run(committedLeader(), [{ type: "voter.addRequested", nodeId: 4 }]);
    const result = step(pending, { type: "voter.removeRequested", nodeId: 3 });
    expect(result.action("answerMembershipRequest")).toEqual({
      kind: "remove",
      nodeId: 3,
      error: "REQUEST_TIMED_OUT",
    });
    expect(result.context.voters).toEqual([1, 2, 3, 4]);
  });

  it.each([
    {
      rule: "refuses to add a voter twice",
      event: { type: "voter.addRequested", nodeId: 2 },
      error: "DUPLICATE_VOTER",
    },
    {
      rule: "refuses to add a replica that has not caught up",
      event: { type: "voter.addRequested", nodeId: 5 },
      error: "REQUEST_TIMED_OUT",
    },
    {
      rule: "refuses to remove a node that is not a voter",
      event: { type: "voter.removeRequested", nodeId: 4 },
      error: "VOTER_NOT_FOUND",
    },
  ] as const)("$rule", ({ event, error }) => {
    const result = step(committedLeader(), event);
    expect(result.action("answerMembershipRequest")).toMatchObject({ error });
    expect(result.types).not.toContain("appendVotersRecord");
  });

  it("refuses to add a replica whose last fetch is older than the fetch timeout", () => {
    const result = step(committedLeader({ nowMs: 100 }), { type: "voter.addRequested", nodeId: 4 });
    expect(result.action("answerMembershipRequest")).toMatchObject({ error: "REQUEST_TIMED_OUT" });
  });

  it("refuses to remove the last voter", () => {
    const alone = committedLeader({ voters: [1] });
    expect(
      step(alone, { type: "voter.removeRequested", nodeId: 1 }).action("answerMembershipRequest"),
    ).toMatchObject({ error: "VOTER_NOT_FOUND" });
  });

  it("only the leader changes membership", () => {
    for (const role of ["unattached", "follower", "candidate"] as const) {
      const snapshot = snapshotIn(role, { leaderId: role === "follower" ? 2 : null });
      expect(
        step(snapshot, { type: "voter.removeRequested", nodeId: 3 }).action("answerMembershipRequest"),
      ).toEqual({
        kind: "remove",
        nodeId: 3,
        error: "NOT_LEADER_OR_FOLLOWER",
      });
    }
  });

  it("removed leader steps down once the change commits", () => {
    const removing = run(committedLeader(), [{ type: "voter.removeRequested", nodeId: 1 }]);
    expect(removing.context.voters).toEqual([2, 3]);
    // The leader no longer counts itself: both remaining voters must hold the record.
    const one = step(removing, fetched(2, 7));
    expect(one.context.pendingVoterChange).not.toBeNull();
    const both = step(one.next, fetched(3, 7));
    expect(both.action("answerMembershipRequest")).toEqual({ kind: "remove", nodeId: 1, error: "NONE" });
    expect(both.role).toBe("leader");
    const stepDown = step(both.next, { type: "clock.ticked", nowMs: 1 });
    expect(stepDown.role).toBe("resigned");
    expect(stepDown.action("sendEndQuorumEpoch")).toEqual({ epoch: 3, leaderId: 1, voters: [2, 3] });
  });

  it("a leader that removed itself from two voters keeps leading, unheard, until the removal commits", () => {
    // The finding of the runtime's soak: resigning here left voter 2, without the record, needing node 1's vote.
    const twoVoters = committedLeader({
      voters: [1, 2],
      replicaProgress: [{ id: 2, endOffset: 6, lastFetchMs: 0 }],
    });
    const removing = run(twoVoters, [{ type: "voter.removeRequested", nodeId: 1 }]);
    expect(removing.context).toMatchObject({ voters: [2], pendingVoterChange: { nodeId: 1, offset: 6 } });
    const unheard = step(removing, { type: "clock.ticked", nowMs: 10 * config.checkQuorumTimeoutMs });
    expect(unheard.role).toBe("leader");
    expect(unheard.types).not.toContain("sendEndQuorumEpoch");
    const committed = step(unheard.next, fetched(2, 7, 10 * config.checkQuorumTimeoutMs));
    expect(committed.action("answerMembershipRequest")).toEqual({ kind: "remove", nodeId: 1, error: "NONE" });
    const stepDown = step(committed.next, { type: "clock.ticked", nowMs: 10 * config.checkQuorumTimeoutMs });
    expect(stepDown.role).toBe("resigned");
    expect(stepDown.action("sendEndQuorumEpoch")).toEqual({ epoch: 3, leaderId: 1, voters: [2] });
  });

  it("a leader that loses leadership with a change pending answers NOT_LEADER_OR_FOLLOWER", () => {
    const pending = run(committedLeader(), [{ type: "voter.addRequested", nodeId: 4 }]);
    const result = step(pending, { type: "leader.announced", leaderId: 2, epoch: 4 });
    expect(result.role).toBe("follower");
    expect(result.action("answerMembershipRequest")).toEqual({
      kind: "add",
      nodeId: 4,
      error: "NOT_LEADER_OR_FOLLOWER",
    });
    // The voters record stays in its log until the new leader's log says otherwise (voters.changed).
    expect(result.context.voters).toEqual([1, 2, 3, 4]);
  });
});

describe("pure helpers", () => {
  const position = fc.record({ lastEpoch: fc.nat(5), endOffset: fc.nat(20) });

  it("log up-to-dateness is a total preorder: reflexive, total and transitive", () => {
    fc.assert(
      fc.property(position, position, position, (a, b, c) => {
        expect(isLogUpToDate(a, a)).toBe(true);
        expect(isLogUpToDate(a, b) || isLogUpToDate(b, a)).toBe(true);
        if (isLogUpToDate(a, b) && isLogUpToDate(b, c)) expect(isLogUpToDate(a, c)).toBe(true);
      }),
    );
  });

  it("two majorities of the same voters always share a voter", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(9), { minLength: 1, maxLength: 7 }),
        fc.nat(),
        fc.nat(),
        (voters, left, right) => {
          const pick = (seed: number) => voters.filter((_, index) => ((seed >> index) & 1) === 1);
          const a = pick(left);
          const b = pick(right);
          if (hasMajority(a, voters) && hasMajority(b, voters))
            expect(a.some((id) => b.includes(id))).toBe(true);
        },
      ),
    );
    expect([1, 2, 3, 4, 5].map(majorityOf)).toEqual([1, 2, 2, 3, 3]);
  });

  it("the quorum high watermark is an offset a majority of voters holds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(20), { minLength: 2, maxLength: 6 }),
        fc.nat(20),
        (followerOffsets, leaderEnd) => {
          const voters = [1, ...followerOffsets.map((_, index) => index + 2)];
          const progress = followerOffsets.map((endOffset, index) => ({
            id: index + 2,
            endOffset,
            lastFetchMs: 0,
          }));
          const offset = quorumHighWatermark(voters, 1, leaderEnd, progress);
          const holders = [leaderEnd, ...followerOffsets].filter((end) => end >= offset).length;
          expect(holders).toBeGreaterThanOrEqual(majorityOf(voters.length));
        },
      ),
    );
  });

  it("the high watermark never moves back and waits for the leader's own epoch", () => {
    expect(nextHighWatermark(4, 5, 5)).toBe(4);
    expect(nextHighWatermark(4, 6, 5)).toBe(6);
    expect(nextHighWatermark(7, 6, 5)).toBe(7);
  });
});

describe("the machine as the spec sees it", () => {
  function stateNodes(node: AnyStateNode): AnyStateNode[] {
    return [node, ...Object.values(node.states as Record<string, AnyStateNode>).flatMap(stateNodes)];
  }

  it("every state and every transition has a description, every event type one line", () => {
    for (const node of stateNodes(raftQuorumMachine.root)) {
      expect(node.description, node.id).toBeTruthy();
      for (const transitions of node.transitions.values()) {
        for (const definition of transitions as AnyTransitionDefinition[]) {
          expect(definition.description, `${node.id} ${definition.eventType}`).toBeTruthy();
          expect(eventDescriptions).toHaveProperty(definition.eventType);
        }
      }
    }
  });

  it("a broken guard provided by the model checker changes what the machine decides", () => {
    const broken = raftQuorumMachine.provide({ guards: { candidateLogUpToDate: () => true } });
    const follower = snapshotIn("unattached", { epoch: 3, log: { lastEpoch: 3, endOffset: 9 } }, broken);
    const [, actions] = transition(broken, follower, voteRequest({ lastEpoch: 0, endOffset: 0 }));
    expect(actions.find((action) => action.type === "sendVoteAnswer")?.params).toMatchObject({
      granted: true,
    });
  });

  it("a broken high-watermark action provided by the model checker replaces the real one", () => {
    const broken = raftQuorumMachine.provide({
      actions: { advanceHighWatermark: assign({ highWatermark: ({ context }) => context.log.endOffset }) },
    });
    const [next] = transition(broken, leaderOfEpoch3({}, broken), fetched(2, 5));
    expect(next.context.highWatermark).toBe(6);
  });
});
