/**
 * Broken variants of the Raft quorum machine, each one rule replaced through
 * `raftQuorumMachine.provide(...)`, run in the Quorum model.
 */
import { assign } from "xstate";
import {
  type Context,
  type Event,
  hasMajority,
  isLogUpToDate,
  type RaftQuorumMachine,
  raftQuorumMachine,
} from "../../machines/raft-quorum.ts";
import type { Model } from "../checker/model.ts";
import { createQuorumModel, type QuorumScenario, type QuorumSometimesName } from "../models/quorum.ts";
import {
  epoch1CommittedOnN1AndN2,
  n1LeadsEpoch1,
  r1CommittedOnN1AndN2,
  selfRemovalFromTwoVoters,
  staleSelfRemovalWhenLeaderFails,
} from "../models/quorum-scenarios.ts";
import type { Mutant } from "./mutant.ts";

/** A quorum-membership scenario alone, around `machine`, that must reach one outcome. */
function membershipScenario(
  machine: RaftQuorumMachine,
  scenario: QuorumScenario,
  outcome: QuorumSometimesName,
) {
  return createQuorumModel({
    machine,
    voters: [1, 2, 3],
    observers: [4],
    scripts: [scenario],
    maxMessages: 3,
    mustReach: [outcome],
  }) as Model<unknown>;
}

type GuardArgs = { context: Context; event: Event };

export const quorumMutants: Mutant[] = [
  {
    name: "a voter grants two votes in one epoch",
    breaks: "raft-quorum guard voteNotYetGrantedThisEpoch always true",
    caughtBy: "ElectionSafety",
    create: () =>
      createQuorumModel({
        machine: raftQuorumMachine.provide({ guards: { voteNotYetGrantedThisEpoch: () => true } }),
        maxEpoch: 1,
        maxMessages: 4,
        drops: false,
        mustReach: [],
      }) as Model<unknown>,
    bounds: { depth: 12, maxStates: 400_000 },
  },
  {
    name: "a candidate's log is not checked for being up to date",
    breaks: "raft-quorum guard candidateLogUpToDate always true",
    caughtBy: "LeaderCompleteness",
    create: () =>
      createQuorumModel({
        machine: raftQuorumMachine.provide({ guards: { candidateLogUpToDate: () => true } }),
        scripts: [r1CommittedOnN1AndN2],
        maxEpoch: 2,
        maxCrashes: 1,
        maxTicks: 1,
        maxMessages: 3,
        drops: false,
        mustReach: [],
      }) as Model<unknown>,
    bounds: { depth: 10, maxStates: 400_000 },
  },
  {
    name: "a second membership change while one is uncommitted",
    breaks: "raft-quorum guard noVoterChangePending always true",
    caughtBy: "OneMembershipChangeAtATime",
    create: () =>
      createQuorumModel({
        machine: raftQuorumMachine.provide({ guards: { noVoterChangePending: () => true } }),
        scripts: [epoch1CommittedOnN1AndN2],
        maxMembershipRequests: 2,
        maxMessages: 3,
        mustReach: [],
      }) as Model<unknown>,
    bounds: { depth: 4, maxStates: 100_000 },
  },
  {
    name: "the metadata log's high watermark advances on the leader's append alone",
    breaks: "raft-quorum action advanceHighWatermark set to the leader's log end",
    caughtBy: "LogMatching",
    create: () =>
      createQuorumModel({
        machine: raftQuorumMachine.provide({
          actions: {
            advanceHighWatermark: assign({ highWatermark: ({ context }) => context.log.endOffset }),
          },
        }),
        scripts: [n1LeadsEpoch1],
        maxEpoch: 2,
        maxAppends: 1,
        maxCrashes: 1,
        maxTicks: 1,
        maxMessages: 3,
        drops: false,
        mustReach: [],
      }) as Model<unknown>,
    bounds: { depth: 10, maxStates: 400_000 },
  },
  {
    name: "a leader awaiting its own removal from two voters resigns on check quorum",
    breaks: "raft-quorum guard lostContactWithMajority also over a voter set of one",
    caughtBy: "a leader that removed itself hands over",
    create: () =>
      membershipScenario(
        raftQuorumMachine.provide({
          guards: {
            // Before the fix: a majority of [2] is voter 2 alone, however long the leader waits for it.
            lostContactWithMajority: ({ context, event }: GuardArgs) => {
              if (event.type !== "clock.ticked") return false;
              const nowMs = Math.max(context.nowMs, event.nowMs);
              const heard = context.voters.filter(
                (id) =>
                  id === context.nodeId ||
                  context.replicaProgress.some(
                    (r) => r.id === id && nowMs - r.lastFetchMs < context.config.checkQuorumTimeoutMs,
                  ),
              );
              return !hasMajority(heard, context.voters);
            },
          },
        }),
        selfRemovalFromTwoVoters,
        "a leader that removed itself hands over",
      ),
    stuck: {
      control: () =>
        membershipScenario(
          raftQuorumMachine,
          selfRemovalFromTwoVoters,
          "a leader that removed itself hands over",
        ),
    },
    bounds: { depth: 8, maxStates: 400_000 },
  },
  {
    name: "a node whose own log leaves it out refuses every vote",
    breaks: "raft-quorum guard candidateLogUpToDate also requires this node in its own voter set",
    caughtBy: "a leader is elected while the last one is down",
    create: () =>
      membershipScenario(
        raftQuorumMachine.provide({
          guards: {
            candidateLogUpToDate: ({ context, event }: GuardArgs) =>
              event.type === "vote.requested" &&
              context.voters.includes(context.nodeId) &&
              isLogUpToDate({ lastEpoch: event.lastEpoch, endOffset: event.endOffset }, context.log),
          },
        }),
        staleSelfRemovalWhenLeaderFails,
        "a leader is elected while the last one is down",
      ),
    stuck: {
      control: () =>
        membershipScenario(
          raftQuorumMachine,
          staleSelfRemovalWhenLeaderFails,
          "a leader is elected while the last one is down",
        ),
    },
    bounds: { depth: 8, maxStates: 400_000 },
  },
];
