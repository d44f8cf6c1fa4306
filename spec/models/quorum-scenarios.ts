/**
 * Starting points for the Quorum model, as scripts of its own action labels
 * taken from a fresh cluster through the real machines. Exploring every
 * interleaving from a fresh cluster to a committed record takes a dozen steps,
 * beyond what breadth-first search covers in minutes; starting the
 * exploration of replication, failover and membership from an established
 * leader keeps their interleavings within reach, while the election itself is
 * explored from the fresh cluster.
 */
import type { QuorumScenario } from "./quorum.ts";

/** n1 wins the pre-vote and the vote of epoch 1 with n2's grant; n2 and n3 then follow it. */
export const n1LeadsEpoch1 = [
  "n1 election timeout (unattached, epoch 0)",
  "n1→n2 Vote(epoch 0, pre, log 0:0) delivered",
  "n2→n1 VoteAnswer(epoch 0, pre, granted) delivered",
  "n1→n3 Vote(epoch 0, pre, log 0:0) dropped",
  "n1→n2 Vote(epoch 1, log 0:0) delivered",
  "n2→n1 VoteAnswer(epoch 1, granted) delivered",
  "n1→n3 Vote(epoch 1, log 0:0) dropped",
  "n1→n2 BeginQuorumEpoch(epoch 1, leader n1) delivered",
  "n1→n3 BeginQuorumEpoch(epoch 1, leader n1) delivered",
];

/** One fetch round trip of `follower` from n1, at the follower's log end. */
function fetchRound(follower: number, offset: number, lastEpoch: number, answer: string): string[] {
  return [
    `n${follower} fetches from n1`,
    `n${follower}→n1 Fetch(epoch 1, offset ${offset}, last epoch ${lastEpoch}) delivered`,
    `n1→n${follower} FetchAnswer(epoch 1, ${answer}) delivered`,
  ];
}

/**
 * After n1LeadsEpoch1: n1 appends r1; n2 fetches both records, then fetches
 * again so that n1 counts it and commits them. n3 has fetched nothing.
 */
export const r1CommittedOnN1AndN2 = [
  ...n1LeadsEpoch1,
  "n1 appends r1",
  ...fetchRound(2, 0, 0, "records LeaderChange n1, r1 from 0, hw 0"),
  ...fetchRound(2, 2, 1, "no records, hw 2"),
];

/** After n1LeadsEpoch1: n2 fetches n1's leader-change record and n1 commits it (its own epoch). */
export const epoch1CommittedOnN1AndN2 = [
  ...n1LeadsEpoch1,
  ...fetchRound(2, 0, 0, "records LeaderChange n1 from 0, hw 0"),
  ...fetchRound(2, 1, 1, "no records, hw 1"),
];

/**
 * After epoch1CommittedOnN1AndN2, with n4 an observer: n4 asks n1 in epoch 0,
 * n1 answers with the leader of epoch 1 (itself), n4 follows it, fetches the
 * log, and fetches again so that n1 counts it as caught up. n4 may now be
 * added as a voter.
 */
export const n4CaughtUp = [
  ...epoch1CommittedOnN1AndN2,
  "n4 fetches from n1",
  "n4→n1 Fetch(epoch 0, offset 0, last epoch 0) delivered",
  "n1→n4 BeginQuorumEpoch(epoch 1, leader n1) delivered",
  ...fetchRound(4, 0, 0, "records LeaderChange n1 from 0, hw 1"),
  ...fetchRound(4, 1, 1, "no records, hw 1"),
];

/**
 * After n1LeadsEpoch1: n1 appends r1 and crashes before anyone fetched it; n2
 * wins epoch 2 with n3's vote; n1 restarts holding its uncommitted epoch-1
 * records, with n2's BeginQuorumEpoch on its way to it. n1's log diverges
 * from the new leader's.
 */
export const n1DivergesFromN2 = [
  ...n1LeadsEpoch1,
  "n1 appends r1",
  "n1 crashes",
  "n2 election timeout (follower, epoch 1)",
  "n2→n3 Vote(epoch 1, pre, log 0:0) delivered",
  "n3→n2 VoteAnswer(epoch 1, pre, granted) delivered",
  "n2→n1 Vote(epoch 1, pre, log 0:0) dropped",
  "n2→n3 Vote(epoch 2, log 0:0) delivered",
  "n3→n2 VoteAnswer(epoch 2, granted) delivered",
  "n2→n1 Vote(epoch 2, log 0:0) dropped",
  "n2→n3 BeginQuorumEpoch(epoch 2, leader n2) delivered",
  "n1 restarts (epoch 1, voted n1, log 2)",
];

/**
 * After epoch1CommittedOnN1AndN2: n1 removes n3, which n2 commits, then
 * appends its own removal (voters [2]) and hears from n2 for no longer than
 * the check-quorum timeout. Only n2 can commit the removal; n2 does not hold
 * it, so it still needs n1's vote, and n1's log is ahead of it. A leader that
 * resigned here would leave no one to elect (the runtime's finding); the
 * quorum elects again only if n1 keeps leading until the removal commits.
 */
export const n1AwaitsItsOwnRemovalUnheard = [
  ...epoch1CommittedOnN1AndN2,
  "RemoveRaftVoter(n3) to n1",
  ...fetchRound(2, 1, 1, "records Voters [1,2] from 1, hw 1"),
  ...fetchRound(2, 2, 1, "no records, hw 2"),
  "RemoveRaftVoter(n1) to n1",
  "time passes (now 1000 ms)",
  "time passes (now 2000 ms)",
];

/**
 * After epoch1CommittedOnN1AndN2: n1 appends its own removal (voters [2,3]),
 * which no one fetches; n2 wins epoch 2 with n3's vote, n1 follows it still
 * holding that record, n3 fetches n2's log, and n2 crashes. n1's log lists it
 * as no voter, yet n3's voters [1,2,3] need its vote: the only way to a leader
 * while n2 is down (the runtime's finding of a stale voters entry).
 */
export const n1HoldsItsOwnRemovalWhenN2Fails = [
  ...epoch1CommittedOnN1AndN2,
  "RemoveRaftVoter(n1) to n1",
  "n2 election timeout (follower, epoch 1)",
  "n2→n3 Vote(epoch 1, pre, log 1:1) delivered",
  "n3→n2 VoteAnswer(epoch 1, pre, granted) delivered",
  "n2→n1 Vote(epoch 1, pre, log 1:1) dropped",
  "n2→n3 Vote(epoch 2, log 1:1) delivered",
  "n3→n2 VoteAnswer(epoch 2, granted) delivered",
  "n2→n1 Vote(epoch 2, log 1:1) dropped",
  "n2→n1 BeginQuorumEpoch(epoch 2, leader n2) delivered",
  "n2→n3 BeginQuorumEpoch(epoch 2, leader n2) delivered",
  "n3 fetches from n2",
  "n3→n2 Fetch(epoch 2, offset 0, last epoch 0) delivered",
  "n2→n3 FetchAnswer(epoch 2, records LeaderChange n1, LeaderChange n2 from 0, hw 1) delivered",
  "n3 fetches from n2",
  "n3→n2 Fetch(epoch 2, offset 2, last epoch 2) delivered",
  "n2→n3 FetchAnswer(epoch 2, no records, hw 2) delivered",
  "n2 crashes",
];

/**
 * From n1AwaitsItsOwnRemovalUnheard, with what the handover needs and no more:
 * n2 fetches the removal, n1 commits it, n2 (its only voter) elects itself in
 * epoch 2. The ticks are spent in the script.
 */
export const selfRemovalFromTwoVoters: QuorumScenario = {
  script: n1AwaitsItsOwnRemovalUnheard,
  budget: {
    maxEpoch: 2,
    maxTicks: 0,
    maxCrashes: 0,
    maxDuplicates: 0,
    maxAppends: 0,
    maxMembershipRequests: 0,
  },
};

/** From n1HoldsItsOwnRemovalWhenN2Fails: n3 may stand in epoch 3, with n1's vote or, once n2 restarts, n2's. */
export const staleSelfRemovalWhenLeaderFails: QuorumScenario = {
  script: n1HoldsItsOwnRemovalWhenN2Fails,
  budget: {
    maxEpoch: 3,
    maxTicks: 0,
    maxCrashes: 0,
    maxDuplicates: 0,
    maxAppends: 0,
    maxMembershipRequests: 0,
  },
};
