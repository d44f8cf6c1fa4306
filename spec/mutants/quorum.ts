/**
 * Broken variants of the Raft quorum machine, each one rule replaced through
 * `raftQuorumMachine.provide(...)`, run in the Quorum model.
 */
import { assign } from "xstate";
import { raftQuorumMachine } from "../../machines/raft-quorum.ts";
import type { Model } from "../checker/model.ts";
import { createQuorumModel } from "../models/quorum.ts";
import { epoch1CommittedOnN1AndN2, n1LeadsEpoch1, r1CommittedOnN1AndN2 } from "../models/quorum-scenarios.ts";
import type { Mutant } from "./mutant.ts";

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
];
