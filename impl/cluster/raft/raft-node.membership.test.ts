import { afterEach, describe, expect, it } from "vitest";
import type { MembershipError } from "../../../machines/raft-quorum.ts";
import type { RaftNode } from "./raft-node.ts";
import { TestCluster, text } from "./test-support.ts";

let cluster: TestCluster;
afterEach(() => cluster?.stopAll());

const voters = [1, 2, 3];

async function threeVotersAndObserver(): Promise<{ leader: RaftNode; observer: RaftNode }> {
  cluster = new TestCluster(7);
  for (const id of voters) await cluster.start(id, { voters });
  await cluster.advanceUntil(() => cluster.leaders().length > 0);
  const leader = cluster.leader();
  await leader.append([text("r1"), text("r2"), text("r3")]);
  // Node 4 is started with the same voter list, which does not name it: an observer.
  const observer = await cluster.start(4, { voters });
  await cluster.advanceUntil(
    () => observer.status().highWatermark === leader.status().highWatermark && observer.role() === "follower",
  );
  return { leader, observer };
}

/** Tracks a membership answer without awaiting it. */
function track(answer: Promise<MembershipError>) {
  const seen: { value: MembershipError | null } = { value: null };
  answer.then((value) => (seen.value = value));
  return seen;
}

describe("RaftNode: membership", () => {
  it("an observer catches up, then AddRaftVoter commits it as a voter", async () => {
    const { leader, observer } = await threeVotersAndObserver();
    expect(observer.status()).toMatchObject({ role: "follower", leaderId: leader.nodeId, voters });
    const described = await leader.describeQuorum();
    expect(described.voters.map((v) => v.replicaId)).toEqual(voters);
    expect(described.observers).toEqual([
      {
        replicaId: 4,
        logEndOffset: leader.status().logEndOffset,
        lastFetchTimestampMs: expect.any(Number),
        lastCaughtUpTimestampMs: expect.any(Number),
      },
    ]);

    const added = track(leader.addVoter(4));
    await cluster.advanceUntil(() => added.value !== null, 5_000);
    expect(added.value).toBe("NONE");
    expect(leader.status().voters).toEqual([1, 2, 3, 4]);
    // The voters entry reaches node 4 by fetch: it is a voter now.
    await cluster.advanceUntil(() => observer.status().voters.length === 4, 5_000);
    const entries = cluster.log(leader.nodeId).entries();
    expect(entries.at(-1)?.kind).toBe("voters");
    expect((await leader.describeQuorum()).voters.map((v) => v.replicaId)).toEqual([1, 2, 3, 4]);

    // And it takes part: the leader, cut off from the two others, still commits with 3 of 4.
    const [a] = voters.filter((id) => id !== leader.nodeId);
    cluster.network.cutLink(leader.nodeId, a!);
    await leader.append([text("with four voters")]);
    expect(cluster.leader().nodeId).toBe(leader.nodeId);
  });

  it("refuses a second change while one is pending, then removes a voter", async () => {
    const { leader } = await threeVotersAndObserver();
    const [first, second] = voters.filter((id) => id !== leader.nodeId);
    // Neither follower can fetch: the removal's voters entry cannot commit yet.
    cluster.network.isolate(leader.nodeId, voters);
    const removal = track(leader.removeVoter(first!));
    await cluster.settle();
    expect(removal.value).toBeNull();
    expect(leader.status().voters).toEqual([leader.nodeId, second!].sort());

    // One change at a time: the machine refuses the next with REQUEST_TIMED_OUT.
    expect(await leader.removeVoter(second!)).toBe("REQUEST_TIMED_OUT");
    expect(await leader.addVoter(4)).toBe("REQUEST_TIMED_OUT");

    cluster.network.healAll();
    await cluster.advanceUntil(() => removal.value !== null, 5_000);
    expect(removal.value).toBe("NONE");
    expect(cluster.leader().nodeId).toBe(leader.nodeId);
    // The removed voter learns it from its log: an observer, still following.
    await cluster.advanceUntil(() => cluster.node(first!).status().voters.length === 2, 5_000);
    expect(cluster.node(first!).status()).toMatchObject({ role: "follower", leaderId: leader.nodeId });
    // Answers for what cannot be done.
    expect(await leader.removeVoter(first!)).toBe("VOTER_NOT_FOUND");
    expect(await leader.addVoter(second!)).toBe("DUPLICATE_VOTER");
    expect(await cluster.node(second!).addVoter(4)).toBe("NOT_LEADER_OR_FOLLOWER");
  });

  it("a pending change is answered NOT_LEADER_OR_FOLLOWER when leadership ends first", async () => {
    const { leader } = await threeVotersAndObserver();
    const [first] = voters.filter((id) => id !== leader.nodeId);
    cluster.network.isolate(leader.nodeId, [...voters, 4]);
    const removal = track(leader.removeVoter(first!));
    await cluster.advanceUntil(() => leader.role() !== "leader", 10_000);
    await cluster.settle();
    expect(removal.value).toBe("NOT_LEADER_OR_FOLLOWER");
  });

  it("a leader that removes itself steps down once the removal commits", async () => {
    const { leader } = await threeVotersAndObserver();
    const removal = track(leader.removeVoter(leader.nodeId));
    await cluster.advanceUntil(() => removal.value !== null, 5_000);
    expect(removal.value).toBe("NONE");
    await cluster.advanceUntil(() => leader.role() !== "leader", 5_000);
    expect(leader.role()).toBe("resigned");
    const rest = voters.filter((id) => id !== leader.nodeId);
    await cluster.advanceUntil(() => cluster.leaders().length === 1, 20_000);
    expect(rest).toContain(cluster.leader().nodeId);
    expect(cluster.leader().status().voters).toEqual(rest);
    // The old leader, now an observer, finds the new leader and keeps replicating.
    const fresh = cluster.leader();
    await fresh.append([text("after the removal")]);
    await cluster.advanceUntil(() => leader.status().highWatermark === fresh.status().highWatermark, 10_000);
    expect(leader.status()).toMatchObject({ role: "follower", leaderId: fresh.nodeId, voters: rest });
  });

  /*
   * Found by the seeded soak: a leader of [1, 2] that counted check quorum over
   * the uncommitted set [other] resigned while `other` was cut off. `other`,
   * without the record, still needed its vote and was behind it; the old leader,
   * no voter in its own log, would not stand: no leader ever again. As Kafka's
   * LeaderState, a set of one voter never fails check quorum: the leader waits.
   */
  it("a leader of two voters that removes itself keeps leading while the other is cut off, then hands over", async () => {
    cluster = new TestCluster(5);
    for (const id of [1, 2]) await cluster.start(id, { voters: [1, 2] });
    await cluster.advanceUntil(() => cluster.leaders().length === 1);
    const leader = cluster.leader();
    const other = cluster.node(leader.nodeId === 1 ? 2 : 1);
    await cluster.advanceUntil(() => other.status().highWatermark === 1);

    // The voters entry [other] is appended (in effect at once) but cannot commit: other cannot fetch.
    cluster.network.cutLink(leader.nodeId, other.nodeId);
    const removal = track(leader.removeVoter(leader.nodeId));
    await cluster.advance(30_000);
    expect(leader.status()).toMatchObject({ role: "leader", voters: [other.nodeId] });
    expect(removal.value).toBeNull();
    expect(other.status().voters).toEqual([1, 2]);

    cluster.network.healAll();
    await cluster.advanceUntil(() => removal.value !== null, 30_000);
    expect(removal.value).toBe("NONE");
    await cluster.advanceUntil(() => other.role() === "leader" && leader.role() !== "leader", 30_000);
    expect(cluster.leaders()).toEqual([other]);
    expect(other.status().voters).toEqual([other.nodeId]);
    await other.append([text("after the handover")]);
    await cluster.advanceUntil(() => leader.status().highWatermark === other.status().highWatermark, 10_000);
    expect(leader.status()).toMatchObject({
      role: "follower",
      leaderId: other.nodeId,
      voters: [other.nodeId],
    });
  });
});
