/**
 * The cluster models `chronik check` knows, with the bounds CI explores them
 * to (`npm run check`; docs/MODEL_CHECKING.md reports them and deeper ones).
 */
import type { Model, ModelEntry } from "../checker/model.ts";
import { metadataBeforeDataModel } from "./metadata-before-data.ts";
import { createQuorumModel } from "./quorum.ts";
import {
  n1DivergesFromN2,
  n1LeadsEpoch1,
  n4CaughtUp,
  selfRemovalFromTwoVoters,
  staleSelfRemovalWhenLeaderFails,
} from "./quorum-scenarios.ts";
import { controlledShutdownModel, replicationFailoverModel, replicationModel } from "./replication.ts";

export const models: ModelEntry[] = [
  {
    name: "quorum",
    description:
      "3 voters running the real Raft quorum machine from a fresh start: pre-vote and vote, " +
      "lost, duplicated and reordered messages, a crash and restart, time passing",
    create: () =>
      createQuorumModel({
        maxEpoch: 2,
        maxCrashes: 1,
        maxTicks: 1,
        maxDuplicates: 1,
        maxMessages: 3,
        mustReach: ["a leader is elected", "a vote is refused", "a node crashes and restarts"],
      }) as Model<unknown>,
    ciBounds: { depth: 8, maxStates: 1_000_000 },
  },
  {
    name: "quorum-log",
    description:
      "the Raft quorum with a leader in place: appends, Fetch, commits, check-quorum resignation, " +
      "leader failure and re-election, a diverging follower truncated",
    create: () =>
      createQuorumModel({
        scripts: [n1LeadsEpoch1, n1DivergesFromN2],
        maxEpoch: 2,
        maxAppends: 2,
        maxCrashes: 1,
        maxTicks: 2,
        maxDuplicates: 1,
        maxMessages: 3,
        mustReach: [
          "a record is committed",
          "a leader fails over",
          "a leader resigns",
          "a node crashes and restarts",
          "a follower truncates its log",
        ],
      }) as Model<unknown>,
    ciBounds: { depth: 7, maxStates: 1_000_000 },
  },
  {
    name: "quorum-membership",
    description:
      "3 voters and an observer that has caught up: AddRaftVoter makes it a voter, RemoveRaftVoter " +
      "removes one, with the voters records replicated and committed under a lossy network; and " +
      "two leaders that removed themselves, one from two voters, one that fails over first",
    create: () =>
      createQuorumModel({
        voters: [1, 2, 3],
        observers: [4],
        scripts: [n4CaughtUp, selfRemovalFromTwoVoters, staleSelfRemovalWhenLeaderFails],
        maxEpoch: 1,
        maxMembershipRequests: 2,
        maxDuplicates: 1,
        maxMessages: 3,
        mustReach: [
          "a voter is added",
          "a voter is removed",
          "a leader that removed itself hands over",
          "a leader is elected while the last one is down",
        ],
      }) as Model<unknown>,
    ciBounds: { depth: 12, maxStates: 1_000_000 },
  },
  replicationModel,
  replicationFailoverModel,
  controlledShutdownModel,
  metadataBeforeDataModel,
];
