import { afterEach, describe, expect, it } from "vitest";
import { NotLeaderError } from "./errors.ts";
import { InMemoryRaftLog } from "./in-memory-log.ts";
import { MemoryQuorumState, TestCluster, text } from "./test-support.ts";

let cluster: TestCluster;
afterEach(() => cluster?.stopAll());

const voters = [1, 2, 3];
/** No node stands for election by itself within a test; EndQuorumEpoch's backoff is short. */
const patient = { electionTimeoutMs: 60_000, electionJitterMs: 0, electionBackoffMaxMs: 200 };

describe("RaftNode: BeginQuorumEpoch and EndQuorumEpoch", () => {
  it("follows the leader a BeginQuorumEpoch announces, persisted first, and fences an older one", async () => {
    cluster = new TestCluster();
    const store = new MemoryQuorumState();
    const node = await cluster.start(1, { voters, quorumState: store, settings: patient });
    expect(await node.handleBeginQuorumEpoch({ leaderId: 2, epoch: 3 })).toEqual({
      errorName: "NONE",
      epoch: 3,
      leaderId: 2,
    });
    expect(store.state).toEqual({ epoch: 3, votedFor: null, leaderId: 2 });
    expect(node.status()).toMatchObject({ role: "follower", epoch: 3, leaderId: 2 });

    expect(await node.handleBeginQuorumEpoch({ leaderId: 3, epoch: 2 })).toEqual({
      errorName: "FENCED_LEADER_EPOCH",
      epoch: 3,
      leaderId: 2,
    });
    expect(await node.handleEndQuorumEpoch({ leaderId: 3, epoch: 1 })).toMatchObject({
      errorName: "FENCED_LEADER_EPOCH",
    });
    expect(node.status()).toMatchObject({ role: "follower", epoch: 3, leaderId: 2 });
  });

  it("a graceful leader shutdown gets a successor elected well within one election timeout", async () => {
    cluster = new TestCluster(3);
    const quick = { electionTimeoutMs: 10_000, electionJitterMs: 5_000, electionBackoffMaxMs: 200 };
    for (const id of voters) await cluster.start(id, { voters, settings: quick });
    await cluster.advanceUntil(() => cluster.leaders().length > 0, 60_000);
    const old = cluster.leader();
    await cluster.advance(500);
    const startedMs = cluster.clock.nowMs();
    await old.shutdown();
    cluster.crash(old.nodeId);
    await cluster.advanceUntil(() => cluster.leaders().length === 1, 60_000);
    expect(cluster.clock.nowMs() - startedMs).toBeLessThan(1_000);
    expect(cluster.leader().status().epoch).toBe(old.status().epoch + 1);
  });
});

describe("RaftNode: append", () => {
  it("is refused with NOT_LEADER_OR_FOLLOWER on a follower, naming the leader", async () => {
    cluster = new TestCluster();
    for (const id of voters) await cluster.start(id, { voters });
    await cluster.advanceUntil(() => cluster.leaders().length > 0);
    const leader = cluster.leader();
    const follower = cluster.node(voters.find((id) => id !== leader.nodeId)!);
    const refused = follower.append([text("x")]);
    await expect(refused).rejects.toBeInstanceOf(NotLeaderError);
    await expect(refused).rejects.toMatchObject({
      errorName: "NOT_LEADER_OR_FOLLOWER",
      leaderId: leader.nodeId,
      epoch: leader.status().epoch,
    });
    expect(cluster.log(follower.nodeId).endOffset()).toBe(1);
  });

  it("applies committed entries on every node in order, each high watermark once", async () => {
    cluster = new TestCluster();
    for (const id of voters) await cluster.start(id, { voters });
    await cluster.advanceUntil(() => cluster.leaders().length > 0);
    const leader = cluster.leader();
    for (const value of ["a", "b", "c"]) await leader.append([text(value)]);
    await cluster.advanceUntil(() => voters.every((id) => cluster.node(id).status().highWatermark === 4));
    for (const id of voters) {
      const applied = cluster.applied.get(id)!;
      expect(applied.at(-1)).toBe(4);
      expect([...applied].sort((x, y) => x - y)).toEqual(applied);
      expect(new Set(applied).size).toBe(applied.length);
    }
  });
});

describe("RaftNode: DescribeQuorum", () => {
  it("is answered by the leader with every voter's progress, and refused elsewhere", async () => {
    cluster = new TestCluster();
    for (const id of voters) await cluster.start(id, { voters });
    await cluster.advanceUntil(() => cluster.leaders().length > 0);
    const leader = cluster.leader();
    await leader.append([text("a")]);
    await cluster.advanceUntil(() => voters.every((id) => cluster.node(id).status().logEndOffset === 2));
    const described = await leader.describeQuorum();
    expect(described).toMatchObject({
      errorName: "NONE",
      leaderId: leader.nodeId,
      epoch: leader.status().epoch,
      highWatermark: 2,
      observers: [],
    });
    expect(described.voters.map((v) => [v.replicaId, v.logEndOffset])).toEqual(voters.map((id) => [id, 2]));
    for (const v of described.voters) {
      expect(v.lastFetchTimestampMs).toBeLessThanOrEqual(cluster.clock.nowMs());
      expect(v.lastCaughtUpTimestampMs).toBeGreaterThanOrEqual(0);
    }
    const follower = cluster.node(voters.find((id) => id !== leader.nodeId)!);
    expect(await follower.describeQuorum()).toMatchObject({
      errorName: "NOT_LEADER_OR_FOLLOWER",
      leaderId: leader.nodeId,
    });
  });
});

describe("RaftNode: a failed log write", () => {
  it("stops a follower whose append fails, and tells the owner", async () => {
    cluster = new TestCluster();
    const broken = new InMemoryRaftLog();
    broken.appendAsFollower = async () => {
      throw new Error("EIO: write failed");
    };
    // Node 3 never stands (long timeout): it can only follow, and its first append fails.
    for (const id of [1, 2]) await cluster.start(id, { voters });
    const follower = await cluster.start(3, {
      voters,
      log: broken,
      settings: { electionTimeoutMs: 60_000, electionJitterMs: 0 },
    });
    await cluster.advanceUntil(() => follower.isStopped, 20_000);
    expect(cluster.fatal.map((f) => [f.nodeId, f.error.message])).toEqual([[3, "EIO: write failed"]]);
    expect(broken.endOffset()).toBe(0);
    // The two others carry on.
    await cluster.leader().append([text("still committing")]);
  });
});
