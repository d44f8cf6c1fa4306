import { afterEach, describe, expect, it } from "vitest";
import type { RaftNode } from "./raft-node.ts";
import { TestCluster, text, textOf } from "./test-support.ts";

let cluster: TestCluster;
afterEach(() => cluster?.stopAll());

const voters = [1, 2, 3];

async function threeVoters(seed = 1): Promise<TestCluster> {
  cluster = new TestCluster(seed);
  for (const id of voters) await cluster.start(id, { voters });
  await cluster.advanceUntil(() => cluster.leaders().length > 0);
  // Every follower has fetched and learned the high watermark past the leader-change entry.
  await cluster.advanceUntil(() => [...cluster.nodes.values()].every((n) => n.status().highWatermark > 0));
  return cluster;
}

function logOf(id: number): string[] {
  return cluster
    .log(id)
    .entries()
    .map((e) => `${e.epoch}:${e.kind === "data" ? textOf(e.payload) : e.kind}`);
}

function others(leader: RaftNode): number[] {
  return voters.filter((id) => id !== leader.nodeId);
}

describe("RaftNode: three voters", () => {
  it("elect exactly one leader, which the others follow in its epoch", async () => {
    await threeVoters();
    const leader = cluster.leader();
    const { epoch } = leader.status();
    for (const id of others(leader)) {
      expect(cluster.node(id).status()).toMatchObject({ role: "follower", epoch, leaderId: leader.nodeId });
    }
    // The epoch's leader-change entry is on every log.
    for (const id of voters) expect(logOf(id)).toEqual([`${epoch}:leaderChange`]);
    // Time passing with everyone connected changes nothing.
    await cluster.advance(10_000);
    expect(cluster.leader().nodeId).toBe(leader.nodeId);
    expect(cluster.leader().status().epoch).toBe(epoch);
  });

  it.each([1, 2, 3, 4, 5])("elect exactly one leader per epoch (seed %i)", async (seed) => {
    await threeVoters(seed);
    const statuses = [...cluster.nodes.values()].map((n) => n.status());
    const leaders = statuses.filter((s) => s.role === "leader");
    expect(leaders).toHaveLength(1);
    expect(new Set(statuses.map((s) => s.epoch)).size).toBe(1);
  });

  it("commit an append once a majority has it, and the follower's fetch levels its log", async () => {
    await threeVoters();
    const leader = cluster.leader();
    const [slow, other] = others(leader);
    // One follower cannot fetch: the leader and the other follower are a majority.
    cluster.network.cutLink(leader.nodeId, slow!);
    let committed = false;
    const appended = leader.append([text("r1"), text("r2")]).then((result) => {
      committed = true;
      return result;
    });
    await cluster.settle();
    await cluster.advanceUntil(() => committed, 5_000);
    const result = await appended;
    expect(result.lastOffset).toBe(2);
    expect(leader.status().highWatermark).toBe(3);
    expect(logOf(other!)).toEqual(logOf(leader.nodeId));
    expect(logOf(slow!)).toHaveLength(1);

    // The link back: the lagging follower's fetch brings its log level with the leader's.
    cluster.network.healAll();
    await cluster.advanceUntil(() => cluster.node(slow!).status().highWatermark === 3, 5_000);
    const { epoch } = leader.status();
    expect(logOf(slow!)).toEqual([`${epoch}:leaderChange`, `${epoch}:r1`, `${epoch}:r2`]);
    expect(cluster.applied.get(slow!)?.at(-1)).toBe(3);
    expect(cluster.leader().nodeId).toBe(leader.nodeId);
  });

  it("do not commit an append that only the leader has", async () => {
    await threeVoters();
    const leader = cluster.leader();
    for (const id of others(leader)) cluster.network.cutLink(leader.nodeId, id);
    let settled = false;
    const appended = leader.append([text("lonely")]).finally(() => (settled = true));
    appended.catch(() => undefined);
    await cluster.advance(1_000);
    expect(settled).toBe(false);
    expect(leader.status().highWatermark).toBe(1);
  });

  it("the leader cut off from everyone resigns; the others elect a new leader; it rejoins and truncates", async () => {
    await threeVoters();
    const old = cluster.leader();
    const oldEpoch = old.status().epoch;
    await old.append([text("committed")]);
    await cluster.advanceUntil(() => voters.every((id) => cluster.node(id).status().highWatermark === 2));

    cluster.network.isolate(old.nodeId, voters);
    // Appended on the isolated leader only: never committed, refused when its leadership ends.
    const lost = old.append([text("lost 1"), text("lost 2")]);
    const outcome = lost.then(
      () => "committed",
      (error: Error & { errorName?: string }) => error.errorName,
    );
    await cluster.advanceUntil(() => old.role() !== "leader", 10_000);
    expect(old.role()).toBe("resigned");
    expect(await outcome).toBe("NOT_LEADER_OR_FOLLOWER");
    expect(logOf(old.nodeId)).toEqual([
      `${oldEpoch}:leaderChange`,
      `${oldEpoch}:committed`,
      `${oldEpoch}:lost 1`,
      `${oldEpoch}:lost 2`,
    ]);

    await cluster.advanceUntil(() => others(old).some((id) => cluster.node(id).role() === "leader"), 20_000);
    const fresh = cluster.leaders().find((n) => n.nodeId !== old.nodeId)!;
    const newEpoch = fresh.status().epoch;
    expect(newEpoch).toBeGreaterThan(oldEpoch);
    // The isolated node could not get a pre-vote, so it never bumped its epoch (KIP-996).
    expect(old.status().epoch).toBe(oldEpoch);
    await fresh.append([text("after failover")]);

    cluster.network.healAll();
    await cluster.advanceUntil(() => old.role() === "follower" && old.status().highWatermark === 4, 20_000);
    expect(old.status()).toMatchObject({ epoch: newEpoch, leaderId: fresh.nodeId });
    const expected = [
      `${oldEpoch}:leaderChange`,
      `${oldEpoch}:committed`,
      `${newEpoch}:leaderChange`,
      `${newEpoch}:after failover`,
    ];
    for (const id of voters) expect(logOf(id)).toEqual(expected);
    expect(cluster.leaders().map((n) => n.nodeId)).toEqual([fresh.nodeId]);
    expect(cluster.fatal).toEqual([]);
  });
});

describe("RaftNode: five voters", () => {
  it("elect a successor when the leader dies silently, not drawn back to it by answers naming it", async () => {
    const five = [1, 2, 3, 4, 5];
    cluster = new TestCluster(9);
    for (const id of five) await cluster.start(id, { voters: five });
    await cluster.advanceUntil(() => cluster.leaders().length === 1);
    const dead = cluster.leader();
    await cluster.advanceUntil(() => five.every((id) => cluster.node(id).status().highWatermark === 1));
    // No EndQuorumEpoch: the followers learn only by their timeouts. A follower asking for pre-votes is
    // answered by others still naming the dead leader; following it again would start over, for ever.
    cluster.crash(dead.nodeId);
    await cluster.advanceUntil(() => cluster.leaders().length === 1, 15_000);
    expect(cluster.leader().status().epoch).toBe(dead.status().epoch + 1);
  });
});
