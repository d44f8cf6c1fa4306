/**
 * What the runtime found in the quorum machine (machines/raft-quorum.ts),
 * kept as executable reproductions. Each asserts what a correct quorum does
 * and is marked `it.fails` while the machine does not: vitest reports it as
 * passing as long as the assertion fails, and as failing once the machine is
 * fixed, when `.fails` must go. Both were found by the seeded soak with
 * membership changes (about 1% of seeds end with no leader, for good).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MembershipError } from "../../../machines/raft-quorum.ts";
import { InMemoryRaftLog } from "./in-memory-log.ts";
import { encodeLeaderChange, encodeVoters } from "./raft-log.ts";
import { TestCluster } from "./test-support.ts";

let cluster: TestCluster;
afterEach(() => cluster?.stopAll());

describe("machine findings", () => {
  /*
   * Check quorum (lostContactWithMajority) counts the voter set of the latest,
   * possibly uncommitted, voters entry. A leader of [1, 2] that appended its own
   * removal counts only [other]; if `other` cannot fetch for checkQuorumTimeoutMs
   * the leader resigns with the uncommitted entry. `other` never got it, so its
   * log still says [1, 2], needs the old leader's vote, and is behind it; the
   * old leader is no voter in its own log and will not stand. No leader, ever,
   * even after the network heals. Kafka's LeaderState.timeUntilCheckQuorumExpires
   * never expires when the voter set has one member, so Kafka's leader keeps
   * leading until `other` returns and the removal commits.
   */
  it.fails("a two-voter quorum elects a leader again after the leader's uncommitted self-removal", async () => {
    cluster = new TestCluster(5);
    for (const id of [1, 2]) await cluster.start(id, { voters: [1, 2] });
    await cluster.advanceUntil(() => cluster.leaders().length === 1);
    const leader = cluster.leader();
    const other = leader.nodeId === 1 ? 2 : 1;
    await cluster.advanceUntil(() => cluster.node(other).status().highWatermark === 1);

    // The voters entry [other] is appended (in effect at once) but cannot commit: other cannot fetch.
    cluster.network.cutLink(leader.nodeId, other);
    let answer: MembershipError | null = null;
    leader.removeVoter(leader.nodeId).then((error) => (answer = error));
    await cluster.advanceUntil(() => leader.role() === "resigned", 10_000);
    expect(leader.status().voters).toEqual([other]);
    expect(answer).toBe("NOT_LEADER_OR_FOLLOWER");

    cluster.network.healAll();
    await cluster.advance(60_000);
    expect(cluster.node(other).status().voters).toEqual([1, 2]);
    expect(cluster.leaders()).toHaveLength(1);
  });

  /*
   * The machine grants a vote or a pre-vote only when its own log lists it as
   * a voter (isVoter in grantBranches and the newer-epoch branches). That list
   * may come from an uncommitted voters entry a later leader will truncate: in
   * the soak, a node held a stale entry [1, 5] from an old epoch while the
   * committed voters were [1, 2]; node 1, more up to date, needed its vote,
   * was refused, and no leader was elected again (a leader is what would have
   * truncated the stale entry). KIP-853 has replicas vote whether or not their
   * log lists them; Kafka's KafkaRaftClientPreVoteTest.testHandlePreVoteRequestAsObserver
   * grants a pre-vote from an observer.
   */
  it.fails("a node whose stale log does not list it still votes for a more up-to-date candidate", async () => {
    cluster = new TestCluster();
    const stale = new InMemoryRaftLog([
      {
        offset: 0,
        epoch: 1,
        kind: "leaderChange",
        payload: encodeLeaderChange({ leaderId: 1, voters: [1, 2] }),
      },
      { offset: 1, epoch: 2, kind: "voters", payload: encodeVoters([1, 5]) },
    ]);
    const node = await cluster.start(2, { voters: [1, 2], log: stale });
    expect(node.status()).toMatchObject({ epoch: 2, voters: [1, 5] });
    const candidate = { candidateId: 1, epoch: 3, lastEpoch: 3, endOffset: 5 };
    expect((await node.handleVote({ ...candidate, preVote: true })).granted).toBe(true);
    expect((await node.handleVote({ ...candidate, preVote: false })).granted).toBe(true);
  });
});
