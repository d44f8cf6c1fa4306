/**
 * The Raft quorum machine: one per node. It decides the node's role in
 * KRaft's quorum (unattached, prospective, candidate, leader, follower,
 * resigned), whom it votes for, when the leader's high watermark moves, and
 * one membership change at a time. Every protocol rule is a named guard so the
 * model checker's mutants (`machine.provide({ guards })`) can break one rule at
 * a time; every effect is a named action, listed persist-before-send.
 */
import { and, assign, enqueueActions, not, setup } from "xstate";
import {
  type Context,
  committedInOwnEpoch,
  hasMajority,
  hasQuorumContact,
  heardFromLeaderWithin,
  type Input,
  initialContext,
  isCaughtUp,
  isLogUpToDate,
  leaderHighWatermark,
  type MembershipError,
  membershipRefusal,
  otherVoters,
  sortedIds,
  withProgress,
} from "./raft-quorum-rules.ts";

export * from "./raft-quorum-rules.ts";

export type Event =
  | { type: "clock.ticked"; nowMs: number }
  | { type: "election.timedOut" }
  | {
      type: "vote.requested";
      candidateId: number;
      epoch: number;
      lastEpoch: number;
      endOffset: number;
      preVote: boolean;
    }
  | { type: "vote.answered"; voterId: number; epoch: number; granted: boolean; preVote: boolean }
  | { type: "leader.announced"; leaderId: number; epoch: number }
  | { type: "leader.resigned"; leaderId: number; epoch: number }
  | {
      type: "replica.fetched";
      replicaId: number;
      epoch: number;
      fetchOffset: number;
      lastFetchedEpoch: number;
      nowMs: number;
    }
  | { type: "fetch.answered"; leaderId: number; epoch: number; highWatermark: number; nowMs: number }
  | { type: "log.appended"; endOffset: number; lastEpoch: number }
  | { type: "voters.changed"; voters: number[] }
  | { type: "voter.addRequested"; nodeId: number }
  | { type: "voter.removeRequested"; nodeId: number }
  | { type: "node.shutdownRequested" };

export const eventDescriptions: Record<Event["type"], string> = {
  "clock.ticked": "Time passed; nowMs is this node's clock",
  "election.timedOut": "The election (or follower fetch) timer fired; its jitter is the adapter's",
  "vote.requested": "A Vote request (or a pre-vote, KIP-996) from a candidate with its epoch and log end",
  "vote.answered": "A voter answered this node's Vote or pre-vote request",
  "leader.announced": "BeginQuorumEpoch, or any answer naming the leader of an epoch",
  "leader.resigned": "EndQuorumEpoch: the leader of an epoch gave it up",
  "replica.fetched": "A replica fetched the metadata log from this node at fetchOffset (leader side)",
  "fetch.answered": "The leader answered this node's fetch with its high watermark (follower side)",
  "log.appended": "This node's log now ends at endOffset, its last record in lastEpoch, all of it durable",
  "voters.changed": "The latest voters record in this node's log changed (replicated or truncated)",
  "voter.addRequested": "AddRaftVoter: make nodeId a voter",
  "voter.removeRequested": "RemoveRaftVoter: make nodeId an observer",
  "node.shutdownRequested": "The node is shutting down gracefully",
};

type EventOf<T extends Event["type"]> = Extract<Event, { type: T }>;

/** Narrows an event in an action shared between handlers; a mismatch is a wiring bug. */
function eventOf<T extends Event["type"]>(event: Event, type: T): EventOf<T> {
  if (event.type !== type) throw new Error(`raft-quorum: expected ${type}, got ${event.type}`);
  return event as EventOf<T>;
}

function messageEpoch(event: Event): number | null {
  return "epoch" in event ? event.epoch : null;
}

type Args = { context: Context; event: Event };

const persistQuorumState = {
  type: "persistQuorumState",
  params: ({ context }: Args) => ({
    epoch: context.epoch,
    votedFor: context.votedFor,
    leaderId: context.leaderId,
  }),
} as const;

function answerVote(granted: boolean) {
  return {
    type: "sendVoteAnswer",
    params: ({ context, event }: Args) => {
      const request = eventOf(event, "vote.requested");
      return { to: request.candidateId, epoch: context.epoch, granted, preVote: request.preVote };
    },
  } as const;
}

function answerMembership(kind: "add" | "remove", error: (args: Args) => MembershipError) {
  return {
    type: "answerMembershipRequest",
    params: (args: Args) => {
      const request = args.event as EventOf<"voter.addRequested" | "voter.removeRequested">;
      return { kind, nodeId: request.nodeId, error: error(args) };
    },
  } as const;
}

const sendEndQuorumEpoch = {
  type: "sendEndQuorumEpoch",
  params: ({ context }: Args) => ({
    epoch: context.epoch,
    leaderId: context.nodeId,
    voters: otherVoters(context),
  }),
} as const;

export const raftQuorumMachine = setup({
  types: {
    context: {} as Context,
    events: {} as Event,
    input: {} as Input,
  },
  actions: {
    // Effects: placeholders the runtime provides. The adapter runs them in order: persist, append, send.
    persistQuorumState: (
      _,
      _params: { epoch: number; votedFor: number | null; leaderId: number | null },
    ) => {},
    sendVoteRequests: (
      _,
      _params: { epoch: number; preVote: boolean; lastEpoch: number; endOffset: number; voters: number[] },
    ) => {},
    sendVoteAnswer: (_, _params: { to: number; epoch: number; granted: boolean; preVote: boolean }) => {},
    sendBeginQuorumEpoch: (_, _params: { epoch: number; leaderId: number; voters: number[] }) => {},
    sendEndQuorumEpoch: (_, _params: { epoch: number; leaderId: number; voters: number[] }) => {},
    appendLeaderChangeRecord: (
      _,
      _params: { epoch: number; offset: number; leaderId: number; voters: number[] },
    ) => {},
    appendVotersRecord: (_, _params: { epoch: number; offset: number; voters: number[] }) => {},
    answerMembershipRequest: (
      _,
      _params: { kind: "add" | "remove"; nodeId: number; error: MembershipError },
    ) => {},
    /** Records below highWatermark are committed: apply them to the metadata image. */
    applyCommittedRecords: (_, _params: { highWatermark: number }) => {},
    resetElectionTimer: () => {},
    /** EndQuorumEpoch: fire election.timedOut after a short backoff rather than a full timeout. */
    shortenElectionTimer: () => {},

    // Context updates.
    updateClock: assign({
      nowMs: ({ context, event }) => Math.max(context.nowMs, (event as { nowMs: number }).nowMs),
    }),
    adoptNewerEpoch: assign(({ event }) => ({
      epoch: messageEpoch(event)!,
      votedFor: null,
      leaderId: null,
      lastLeaderContactMs: null,
    })),
    recordVote: assign({ votedFor: ({ event }) => eventOf(event, "vote.requested").candidateId }),
    recordGrant: assign({
      grants: ({ context, event }) => sortedIds([...context.grants, eventOf(event, "vote.answered").voterId]),
    }),
    enterProspective: assign(({ context }) => ({
      grants: [context.nodeId],
      leaderId: null,
      lastLeaderContactMs: null,
    })),
    startCandidacy: assign(({ context }) => ({
      epoch: context.epoch + 1,
      votedFor: context.nodeId,
      leaderId: null,
      grants: [context.nodeId],
      lastLeaderContactMs: null,
    })),
    forgetGrants: assign({ grants: [] }),
    becomeLeader: assign(({ context }) => ({
      leaderId: context.nodeId,
      grants: [],
      epochStartOffset: context.log.endOffset,
      // The leader-change record this transition appends.
      log: { lastEpoch: context.epoch, endOffset: context.log.endOffset + 1 },
      replicaProgress: otherVoters(context).map((id) => ({ id, endOffset: 0, lastFetchMs: context.nowMs })),
      pendingVoterChange: null,
    })),
    /** The one place the leader's high watermark is computed; broken variants replace this. */
    advanceHighWatermark: assign({ highWatermark: ({ context }) => leaderHighWatermark(context) }),
    forgetLeadership: assign({
      leaderId: null,
      epochStartOffset: null,
      replicaProgress: [],
      pendingVoterChange: null,
    }),
    followLeader: assign(({ context, event }) => {
      const announced = event as EventOf<"leader.announced" | "fetch.answered">;
      const newer = announced.epoch > context.epoch;
      return {
        epoch: announced.epoch,
        votedFor: newer ? null : context.votedFor,
        leaderId: announced.leaderId,
        lastLeaderContactMs: null,
      };
    }),
    forgetLeader: assign({ leaderId: null, lastLeaderContactMs: null }),
    recordLeaderContact: assign(({ context, event }) => {
      const answer = eventOf(event, "fetch.answered");
      return { lastLeaderContactMs: answer.nowMs, nowMs: Math.max(context.nowMs, answer.nowMs) };
    }),
    // Kafka's follower never claims more than it holds, and its high watermark never moves back.
    followLeaderHighWatermark: assign({
      highWatermark: ({ context, event }) =>
        Math.max(
          context.highWatermark,
          Math.min(eventOf(event, "fetch.answered").highWatermark, context.log.endOffset),
        ),
    }),
    forgetLeaderContact: assign({ lastLeaderContactMs: null }),
    recordLog: assign({
      log: ({ event }) => {
        const appended = eventOf(event, "log.appended");
        return { lastEpoch: appended.lastEpoch, endOffset: appended.endOffset };
      },
    }),
    adoptVoters: assign({ voters: ({ event }) => sortedIds(eventOf(event, "voters.changed").voters) }),
    recordReplicaProgress: assign(({ context, event }) => {
      const fetch = eventOf(event, "replica.fetched");
      return {
        nowMs: Math.max(context.nowMs, fetch.nowMs),
        replicaProgress: withProgress(context.replicaProgress, {
          id: fetch.replicaId,
          endOffset: fetch.fetchOffset,
          lastFetchMs: fetch.nowMs,
        }),
      };
    }),
    // KIP-853: the new voter set takes effect when its record is appended, not when it commits.
    appendVoterChange: assign(({ context, event }) => {
      const request = event as EventOf<"voter.addRequested" | "voter.removeRequested">;
      const kind = request.type === "voter.addRequested" ? "add" : "remove";
      const voters =
        kind === "add"
          ? sortedIds([...context.voters, request.nodeId])
          : context.voters.filter((id) => id !== request.nodeId);
      return {
        voters,
        pendingVoterChange: { kind, nodeId: request.nodeId, offset: context.log.endOffset },
        log: { lastEpoch: context.epoch, endOffset: context.log.endOffset + 1 },
      } as const;
    }),
    clearVoterChange: assign({ pendingVoterChange: null }),
  },
  guards: {
    isVoter: ({ context }) => context.voters.includes(context.nodeId),
    isOnlyVoter: ({ context }) => context.voters.length === 1 && context.voters[0] === context.nodeId,
    messageEpochIsNewer: ({ context, event }) => (messageEpoch(event) ?? -1) > context.epoch,
    messageEpochIsCurrent: ({ context, event }) => messageEpoch(event) === context.epoch,
    isPreVote: ({ event }) => event.type === "vote.requested" && event.preVote,
    candidateLogUpToDate: ({ context, event }) =>
      event.type === "vote.requested" &&
      isLogUpToDate({ lastEpoch: event.lastEpoch, endOffset: event.endOffset }, context.log),
    // A repeated request from the candidate already voted for gets the same answer.
    voteNotYetGrantedThisEpoch: ({ context, event }) =>
      event.type === "vote.requested" &&
      (context.votedFor === null || context.votedFor === event.candidateId),
    heardFromLeaderRecently: ({ context }) => heardFromLeaderWithin(context),
    answerIsPreVoteGrant: ({ event }) => event.type === "vote.answered" && event.granted && event.preVote,
    answerIsVoteGrant: ({ event }) => event.type === "vote.answered" && event.granted && !event.preVote,
    answerFromVoter: ({ context, event }) =>
      event.type === "vote.answered" && context.voters.includes(event.voterId),
    grantCompletesMajority: ({ context, event }) =>
      event.type === "vote.answered" && hasMajority([...context.grants, event.voterId], context.voters),
    announcedLeaderIsOther: ({ context, event }) =>
      (event.type === "leader.announced" || event.type === "fetch.answered") &&
      event.leaderId !== context.nodeId,
    leaderNotYetKnown: ({ context }) => context.leaderId === null,
    fromCurrentLeader: ({ context, event }) =>
      (event.type === "fetch.answered" || event.type === "leader.resigned") &&
      event.leaderId === context.leaderId,
    fetchWithinLeaderLog: ({ context, event }) =>
      event.type === "replica.fetched" &&
      event.fetchOffset <= context.log.endOffset &&
      event.lastFetchedEpoch <= context.log.lastEpoch,
    appendKeepsCommittedRecords: ({ context, event }) =>
      event.type === "log.appended" && event.endOffset >= context.highWatermark,
    appendExtendsLeaderLog: ({ context, event }) =>
      event.type === "log.appended" &&
      event.endOffset >= context.log.endOffset &&
      event.lastEpoch === context.epoch,
    lostContactWithMajority: ({ context, event }) =>
      event.type === "clock.ticked" && !hasQuorumContact(context, Math.max(context.nowMs, event.nowMs)),
    removedFromCommittedVoters: ({ context }) =>
      !context.voters.includes(context.nodeId) && context.pendingVoterChange === null,
    // Checked by completeVoterChange after the high watermark has moved in the same transition.
    voterChangeCommitted: ({ context }) =>
      context.pendingVoterChange !== null && context.highWatermark > context.pendingVoterChange.offset,
    committedInOwnEpoch: ({ context }) => committedInOwnEpoch(context),
    noVoterChangePending: ({ context }) => context.pendingVoterChange === null,
    membershipChangeAllowed: and(["committedInOwnEpoch", "noVoterChangePending"]),
    requestedNodeIsVoter: ({ context, event }) =>
      (event.type === "voter.addRequested" || event.type === "voter.removeRequested") &&
      context.voters.includes(event.nodeId),
    newVoterCaughtUp: ({ context, event }) =>
      event.type === "voter.addRequested" && isCaughtUp(context, event.nodeId),
    removalLeavesAVoter: ({ context }) => context.voters.length > 1,
  },
})
  // Actions that enqueue the named ones above: `extend` lets them refer to those by name.
  .extend<{ publishHighWatermark: { previousHighWatermark: number } }>({
    actions: {
      publishHighWatermark: enqueueActions(
        ({ context, enqueue }, params: { previousHighWatermark: number }) => {
          if (context.highWatermark === params.previousHighWatermark) return;
          enqueue({ type: "applyCommittedRecords", params: { highWatermark: context.highWatermark } });
        },
      ),
    },
  })
  .extend<{
    settleLeaderHighWatermark: undefined;
    settleFollowerHighWatermark: undefined;
    completeVoterChange: undefined;
    leaveLeadership: undefined;
  }>({
    actions: {
      settleLeaderHighWatermark: enqueueActions(({ context, enqueue }) => {
        enqueue("advanceHighWatermark");
        enqueue({ type: "publishHighWatermark", params: { previousHighWatermark: context.highWatermark } });
      }),
      settleFollowerHighWatermark: enqueueActions(({ context, enqueue }) => {
        enqueue("followLeaderHighWatermark");
        enqueue({ type: "publishHighWatermark", params: { previousHighWatermark: context.highWatermark } });
      }),
      // KIP-853: the change is complete once the high watermark passes its voters record.
      completeVoterChange: enqueueActions(({ context, enqueue, check }) => {
        const pending = context.pendingVoterChange;
        if (pending === null || !check("voterChangeCommitted")) return;
        enqueue({
          type: "answerMembershipRequest",
          params: { kind: pending.kind, nodeId: pending.nodeId, error: "NONE" },
        });
        enqueue("clearVoterChange");
      }),
      // A change still uncommitted when leadership ends is answered as Kafka's LeaderState.close does.
      leaveLeadership: enqueueActions(({ context, enqueue }) => {
        const pending = context.pendingVoterChange;
        if (pending !== null) {
          enqueue({
            type: "answerMembershipRequest",
            params: { kind: pending.kind, nodeId: pending.nodeId, error: "NOT_LEADER_OR_FOLLOWER" },
          });
        }
        enqueue("forgetLeadership");
      }),
    },
  })
  .createMachine({
    id: "raftQuorum",
    description: "One node's role in the KRaft quorum of the metadata log",
    context: ({ input }) => initialContext(input),
    initial: "unattached",
    on: {
      "clock.ticked": { actions: "updateClock", description: "Keep the clock" },
      // Whether this node's own log lists it as a voter does not matter (see grantBranches).
      "vote.requested": [
        {
          guard: and(["messageEpochIsNewer", "candidateLogUpToDate", not("isPreVote")]),
          target: ".unattached",
          actions: ["adoptNewerEpoch", "recordVote", persistQuorumState, answerVote(true)],
          description: "Newer epoch from an up-to-date candidate: move to it and vote for the candidate",
        },
        {
          guard: and(["messageEpochIsNewer", "candidateLogUpToDate"]),
          target: ".unattached",
          actions: ["adoptNewerEpoch", persistQuorumState, answerVote(true)],
          description:
            "Newer epoch in a pre-vote from an up-to-date candidate: move to it, grant, record no vote",
        },
        {
          guard: "messageEpochIsNewer",
          target: ".unattached",
          actions: ["adoptNewerEpoch", persistQuorumState, answerVote(false)],
          description: "Newer epoch from a candidate whose log is behind: move to it, refuse",
        },
        {
          actions: answerVote(false),
          description: "Older epoch, or no grant rule in this state allows it: refuse with this node's epoch",
        },
      ],
      "vote.answered": {
        guard: "messageEpochIsNewer",
        target: ".unattached",
        actions: ["adoptNewerEpoch", persistQuorumState],
        description: "A voter is in a newer epoch: move to it",
      },
      "leader.announced": [
        {
          guard: and(["messageEpochIsNewer", "announcedLeaderIsOther"]),
          target: ".follower",
          actions: ["followLeader", persistQuorumState],
          description: "A leader of a newer epoch: follow it",
        },
        {
          guard: and(["messageEpochIsCurrent", "leaderNotYetKnown", "announcedLeaderIsOther"]),
          target: ".follower",
          actions: ["followLeader", persistQuorumState],
          description: "The leader of this epoch is found: follow it, keeping this epoch's vote",
        },
      ],
      "leader.resigned": {
        guard: "messageEpochIsNewer",
        target: ".unattached",
        actions: ["adoptNewerEpoch", persistQuorumState],
        description: "A newer epoch ended: move to it with no leader",
      },
      "replica.fetched": {
        guard: "messageEpochIsNewer",
        target: ".unattached",
        actions: ["adoptNewerEpoch", persistQuorumState],
        description: "A replica fetches in a newer epoch: move to it with no leader",
      },
      "fetch.answered": [
        {
          guard: and(["messageEpochIsNewer", "announcedLeaderIsOther"]),
          target: ".follower",
          actions: ["followLeader", persistQuorumState],
          description: "Answered by the leader of a newer epoch: follow it",
        },
        {
          guard: and(["messageEpochIsCurrent", "leaderNotYetKnown", "announcedLeaderIsOther"]),
          target: ".follower",
          actions: ["followLeader", persistQuorumState],
          description: "Answered by the leader of this epoch: follow it, keeping this epoch's vote",
        },
      ],
      "voter.addRequested": {
        actions: answerMembership("add", () => "NOT_LEADER_OR_FOLLOWER"),
        description: "Only the leader changes the voter set",
      },
      "voter.removeRequested": {
        actions: answerMembership("remove", () => "NOT_LEADER_OR_FOLLOWER"),
        description: "Only the leader changes the voter set",
      },
      "node.shutdownRequested": {
        target: ".resigned",
        actions: "forgetLeader",
        description: "Shutting down: stop voting and standing for election",
      },
    },
    states: {
      unattached: {
        description: "Knows its epoch but no leader; may have voted in it",
        entry: "resetElectionTimer",
        on: {
          "election.timedOut": [
            {
              guard: "isOnlyVoter",
              target: "leader",
              actions: ["startCandidacy", persistQuorumState],
              description: "The only voter elects itself at once",
            },
            { guard: "isVoter", target: "prospective", description: "No leader heard: ask for pre-votes" },
          ],
          "vote.requested": grantBranches(),
        },
      },
      prospective: {
        description: "Asking for pre-votes (KIP-996) without bumping the epoch",
        entry: [
          "enterProspective",
          {
            type: "sendVoteRequests",
            params: ({ context }: Args) => ({
              epoch: context.epoch,
              preVote: true,
              lastEpoch: context.log.lastEpoch,
              endOffset: context.log.endOffset,
              voters: otherVoters(context),
            }),
          },
          "resetElectionTimer",
        ],
        exit: "forgetGrants",
        on: {
          "election.timedOut": {
            target: "unattached",
            description: "The pre-vote round failed: wait out another timeout",
          },
          "vote.requested": grantBranches(),
          "vote.answered": [
            {
              guard: and([
                "messageEpochIsCurrent",
                "answerIsPreVoteGrant",
                "answerFromVoter",
                "grantCompletesMajority",
              ]),
              target: "candidate",
              description: "A majority would vote for it: stand for election",
            },
            {
              guard: and(["messageEpochIsCurrent", "answerIsPreVoteGrant", "answerFromVoter"]),
              actions: "recordGrant",
              description: "Count a pre-vote",
            },
          ],
        },
      },
      candidate: {
        description: "Standing for election in a new epoch, having voted for itself",
        entry: [
          "startCandidacy",
          persistQuorumState,
          {
            type: "sendVoteRequests",
            params: ({ context }: Args) => ({
              epoch: context.epoch,
              preVote: false,
              lastEpoch: context.log.lastEpoch,
              endOffset: context.log.endOffset,
              voters: otherVoters(context),
            }),
          },
          "resetElectionTimer",
        ],
        exit: "forgetGrants",
        on: {
          "election.timedOut": {
            target: "prospective",
            description: "No majority in time: back to pre-voting (KIP-996)",
          },
          "vote.requested": {
            guard: and(["messageEpochIsCurrent", "isPreVote", "candidateLogUpToDate"]),
            actions: answerVote(true),
            description: "Grant a pre-vote to an up-to-date candidate; its own vote stays its own",
          },
          "vote.answered": [
            {
              guard: and([
                "messageEpochIsCurrent",
                "answerIsVoteGrant",
                "answerFromVoter",
                "grantCompletesMajority",
              ]),
              target: "leader",
              description: "A majority voted for it: lead the epoch",
            },
            {
              guard: and(["messageEpochIsCurrent", "answerIsVoteGrant", "answerFromVoter"]),
              actions: "recordGrant",
              description: "Count a vote",
            },
          ],
        },
      },
      leader: {
        description: "Leads the epoch: appends, tracks replicas, moves the high watermark",
        entry: [
          "becomeLeader",
          persistQuorumState,
          {
            type: "appendLeaderChangeRecord",
            params: ({ context }: Args) => ({
              epoch: context.epoch,
              offset: context.epochStartOffset!,
              leaderId: context.nodeId,
              voters: context.voters,
            }),
          },
          // After the append: the only voter commits its leader-change record at once.
          "settleLeaderHighWatermark",
          {
            type: "sendBeginQuorumEpoch",
            params: ({ context }: Args) => ({
              epoch: context.epoch,
              leaderId: context.nodeId,
              voters: otherVoters(context),
            }),
          },
        ],
        exit: "leaveLeadership",
        on: {
          "clock.ticked": [
            {
              guard: "lostContactWithMajority",
              target: "resigned",
              actions: ["updateClock", sendEndQuorumEpoch],
              description:
                "Check quorum: no majority of its voter set fetched in time (one voter never fails it), step down",
            },
            {
              guard: "removedFromCommittedVoters",
              target: "resigned",
              actions: ["updateClock", sendEndQuorumEpoch],
              description: "Its own removal has committed: step down",
            },
            { actions: "updateClock", description: "Keep the clock" },
          ],
          "replica.fetched": {
            guard: and(["messageEpochIsCurrent", "fetchWithinLeaderLog"]),
            actions: ["recordReplicaProgress", "settleLeaderHighWatermark", "completeVoterChange"],
            description:
              "Record the replica's progress, move the high watermark, complete a committed voter change",
          },
          "log.appended": {
            guard: "appendExtendsLeaderLog",
            actions: ["recordLog", "settleLeaderHighWatermark", "completeVoterChange"],
            description: "Its own log grew: move the high watermark, complete a committed voter change",
          },
          "voter.addRequested": [
            {
              guard: and(["membershipChangeAllowed", not("requestedNodeIsVoter"), "newVoterCaughtUp"]),
              actions: [
                "appendVoterChange",
                appendVotersRecord(),
                "settleLeaderHighWatermark",
                "completeVoterChange",
              ],
              description: "Append a voters record with the caught-up observer added",
            },
            {
              actions: answerMembership("add", ({ context, event }) =>
                membershipRefusal(context, "add", eventOf(event, "voter.addRequested").nodeId),
              ),
              description: "Refuse: epoch not committed, a change pending, already a voter, or not caught up",
            },
          ],
          "voter.removeRequested": [
            {
              guard: and(["membershipChangeAllowed", "requestedNodeIsVoter", "removalLeavesAVoter"]),
              // Removing the last other voter leaves the leader alone: the record commits at once.
              actions: [
                "appendVoterChange",
                appendVotersRecord(),
                "settleLeaderHighWatermark",
                "completeVoterChange",
              ],
              description: "Append a voters record without the voter",
            },
            {
              actions: answerMembership("remove", ({ context, event }) =>
                membershipRefusal(context, "remove", eventOf(event, "voter.removeRequested").nodeId),
              ),
              description: "Refuse: epoch not committed, a change pending, or not a voter",
            },
          ],
          "node.shutdownRequested": {
            target: "resigned",
            actions: sendEndQuorumEpoch,
            description: "Graceful shutdown: resign and tell the voters",
          },
        },
      },
      follower: {
        description: "Fetches from the leader of its epoch",
        entry: "resetElectionTimer",
        on: {
          "election.timedOut": [
            {
              guard: "isOnlyVoter",
              target: "leader",
              actions: ["startCandidacy", persistQuorumState],
              description: "Now the only voter: elect itself at once",
            },
            {
              guard: "isVoter",
              target: "prospective",
              description: "The leader went quiet: ask for pre-votes",
            },
            {
              target: "unattached",
              actions: "forgetLeader",
              description: "An observer lost its leader: look for it again",
            },
          ],
          "vote.requested": {
            guard: and([
              "messageEpochIsCurrent",
              "isPreVote",
              not("heardFromLeaderRecently"),
              "candidateLogUpToDate",
            ]),
            actions: answerVote(true),
            description: "Grant a pre-vote only when the leader has been quiet for the fetch timeout",
          },
          "fetch.answered": {
            guard: and(["messageEpochIsCurrent", "fromCurrentLeader"]),
            actions: ["recordLeaderContact", "settleFollowerHighWatermark", "resetElectionTimer"],
            description: "The leader is alive: take its high watermark",
          },
          "leader.resigned": {
            guard: and(["messageEpochIsCurrent", "fromCurrentLeader"]),
            actions: ["forgetLeaderContact", "shortenElectionTimer"],
            description: "The leader resigned: be ready to elect soon and grant pre-votes",
          },
          "log.appended": {
            guard: "appendKeepsCommittedRecords",
            actions: "recordLog",
            description: "Replicated (or truncated) records; never below the high watermark",
          },
          "voters.changed": {
            actions: "adoptVoters",
            description: "A voters record takes effect on append (KIP-853)",
          },
        },
      },
      resigned: {
        description: "Gave up leading (or is shutting down): votes for no one in this epoch",
        entry: "resetElectionTimer",
        on: {
          "election.timedOut": [
            {
              guard: "isOnlyVoter",
              target: "leader",
              actions: ["startCandidacy", persistQuorumState],
              description: "The only voter elects itself again",
            },
            { guard: "isVoter", target: "prospective", description: "No successor heard: ask for pre-votes" },
          ],
        },
      },
    },
  });

/**
 * Unattached and prospective grant the same way (Kafka's
 * unattachedOrProspectiveCanGrantVote): a vote once per epoch, a pre-vote to
 * any up-to-date candidate. Whether this node's own log lists it as a voter
 * plays no part (KIP-853): that list may come from an uncommitted voters
 * record a later leader will truncate, and a node refusing on it can leave the
 * candidates that need its vote with no leader to elect, ever. Safety stays
 * with the candidate, which counts only grants from voters of its own set
 * (answerFromVoter), and with one vote per node per epoch.
 */
function grantBranches() {
  return [
    {
      guard: and([
        "messageEpochIsCurrent",
        not("isPreVote"),
        "voteNotYetGrantedThisEpoch",
        "candidateLogUpToDate",
      ]),
      actions: ["recordVote", persistQuorumState, answerVote(true)],
      description: "Vote for an up-to-date candidate, at most one per epoch",
    },
    {
      guard: and(["messageEpochIsCurrent", "isPreVote", "candidateLogUpToDate"]),
      actions: answerVote(true),
      description: "Grant a pre-vote to an up-to-date candidate; nothing recorded",
    },
  ] as const;
}

function appendVotersRecord() {
  return {
    type: "appendVotersRecord",
    params: ({ context }: Args) => ({
      epoch: context.epoch,
      offset: context.pendingVoterChange!.offset,
      voters: context.voters,
    }),
  } as const;
}

export type RaftQuorumMachine = typeof raftQuorumMachine;
