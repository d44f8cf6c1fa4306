import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { QuorumStateFile } from "../quorum-state-file.ts";
import { RaftStoppedError } from "./errors.ts";
import { InMemoryRaftLog } from "./in-memory-log.ts";
import type { QuorumStateStore } from "./options.ts";
import { encodeLeaderChange, encodeVoters } from "./raft-log.ts";
import type { VoteRequest } from "./raft-transport.ts";
import { MemoryQuorumState, TestCluster } from "./test-support.ts";

let cluster: TestCluster;
let dir: string | null = null;
afterEach(async () => {
  cluster?.stopAll();
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

const voters = [1, 2, 3];
const vote = (candidateId: number, epoch: number, preVote = false): VoteRequest => ({
  candidateId,
  epoch,
  lastEpoch: 0,
  endOffset: 0,
  preVote,
});

/** Runs what is runnable without moving the fake clock (no wall-clock wait either). */
async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe("RaftNode: votes", () => {
  it("answers a vote only after the quorum-state file holds it", async () => {
    cluster = new TestCluster();
    const store = new MemoryQuorumState();
    const node = await cluster.start(1, { voters, quorumState: store });
    store.hold();

    let answered = false;
    const answer = node.handleVote(vote(2, 1)).then((a) => {
      answered = true;
      return a;
    });
    await flush();
    // The machine has decided (epoch 1, vote for 2), the write waits on the disk: no answer yet.
    expect(node.status()).toMatchObject({ epoch: 1, votedFor: 2 });
    expect(store.waitingWrites).toBe(1);
    expect(store.state).toBeNull();
    expect(answered).toBe(false);

    store.release();
    expect(await answer).toEqual({ voterId: 1, epoch: 1, granted: true, leaderId: null });
    expect(store.state).toEqual({ epoch: 1, votedFor: 2, leaderId: null });
  });

  it("answers requests queued behind a held persist in order, each after it", async () => {
    cluster = new TestCluster();
    const store = new MemoryQuorumState();
    const node = await cluster.start(1, { voters, quorumState: store });
    store.hold();
    const order: string[] = [];
    const first = node.handleVote(vote(2, 1)).then((a) => order.push(`vote n2 ${a.granted}`));
    const second = node.handleVote(vote(3, 1)).then((a) => order.push(`vote n3 ${a.granted}`));
    const pre = node.handleVote(vote(3, 2, true)).then((a) => order.push(`pre-vote n3 ${a.granted}`));
    await flush();
    expect(order).toEqual([]);
    store.release();
    await Promise.all([first, second, pre]);
    // One vote per epoch. A pre-vote from a newer epoch moves this node to that epoch (the machine's
    // top-level rule), persisted before the grant, with no vote recorded.
    expect(order).toEqual(["vote n2 true", "vote n3 false", "pre-vote n3 true"]);
    expect(store.writes).toEqual([
      { epoch: 1, votedFor: 2, leaderId: null },
      { epoch: 2, votedFor: null, leaderId: null },
    ]);
  });

  it("keeps its persisted vote across a restart: no second vote in that epoch", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "chronik-raft-restart-"));
    cluster = new TestCluster();
    const first = await cluster.start(1, { voters, quorumState: new QuorumStateFile(dir) });
    expect(await first.handleVote(vote(2, 5))).toMatchObject({ epoch: 5, granted: true });
    cluster.crash(1);

    const restarted = await cluster.start(1, { voters, quorumState: new QuorumStateFile(dir) });
    expect(restarted.status()).toMatchObject({ role: "unattached", epoch: 5, votedFor: 2 });
    expect(await restarted.handleVote(vote(3, 5))).toMatchObject({ epoch: 5, granted: false });
    // The same candidate asking again gets the same answer; a newer epoch is a new vote.
    expect(await restarted.handleVote(vote(2, 5))).toMatchObject({ epoch: 5, granted: true });
    expect(await restarted.handleVote(vote(3, 6))).toMatchObject({ epoch: 6, granted: true });
    expect(await new QuorumStateFile(dir).read()).toEqual({ epoch: 6, votedFor: 3, leaderId: null });
  });

  it("refuses a candidate whose log is behind, moving to its newer epoch without voting", async () => {
    cluster = new TestCluster();
    const store = new MemoryQuorumState();
    const node = await cluster.start(1, { voters: [1], quorumState: store });
    await cluster.advance(0); // the only voter elects itself: its log ends in epoch 1
    expect(node.status()).toMatchObject({ role: "leader", epoch: 1 });
    const answer = await node.handleVote({
      candidateId: 2,
      epoch: 7,
      lastEpoch: 0,
      endOffset: 0,
      preVote: false,
    });
    expect(answer).toEqual({ voterId: 1, epoch: 7, granted: false, leaderId: null });
    expect(store.state).toEqual({ epoch: 7, votedFor: null, leaderId: null });
  });

  /*
   * Found by the seeded soak: node 2 held an uncommitted voters entry [1, 5]
   * from an old epoch while the committed voters were [1, 2]. Refusing node 1,
   * more up to date, because its own log did not list it, left no leader to
   * truncate that entry. KIP-853 lets a replica vote whatever its log lists.
   */
  it("a node whose stale log does not list it still votes for a more up-to-date candidate", async () => {
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
    const store = new MemoryQuorumState();
    const node = await cluster.start(2, { voters: [1, 2], log: stale, quorumState: store });
    expect(node.status()).toMatchObject({ epoch: 2, voters: [1, 5] });
    const candidate = { candidateId: 1, epoch: 3, lastEpoch: 3, endOffset: 5 };
    expect(await node.handleVote({ ...candidate, preVote: true })).toMatchObject({ granted: true });
    expect(await node.handleVote({ ...candidate, preVote: false })).toMatchObject({
      epoch: 3,
      granted: true,
    });
    expect(store.state).toEqual({ epoch: 3, votedFor: 1, leaderId: null });
  });

  it("stops for good when a persist fails: no answer, nothing sent after it", async () => {
    cluster = new TestCluster();
    const failing: QuorumStateStore = {
      read: async () => null,
      write: async () => {
        throw new Error("EIO: fsync failed");
      },
    };
    // Node 1 times out first; the others would vote for it.
    const fast = { electionTimeoutMs: 100, electionJitterMs: 0 };
    const slow = { electionTimeoutMs: 60_000, electionJitterMs: 0 };
    const node = await cluster.start(1, { voters, quorumState: failing, settings: fast });
    await cluster.start(2, { voters, settings: slow });
    await cluster.start(3, { voters, settings: slow });
    await cluster.advance(200);

    // Pre-votes were granted, the candidacy's persist failed: the node stopped before asking for votes.
    expect(node.isStopped).toBe(true);
    expect(cluster.fatal.map((f) => [f.nodeId, f.error.message])).toEqual([[1, "EIO: fsync failed"]]);
    for (const id of [2, 3]) expect(cluster.node(id).status()).toMatchObject({ epoch: 0, votedFor: null });
    await expect(node.handleVote(vote(2, 1))).rejects.toBeInstanceOf(RaftStoppedError);
  });

  it("a failed persist refuses the vote it would have answered", async () => {
    cluster = new TestCluster();
    const failing: QuorumStateStore = {
      read: async () => null,
      write: async () => {
        throw new Error("ENOSPC");
      },
    };
    const node = await cluster.start(1, { voters, quorumState: failing });
    // The answer queued behind the persist is refused with the reason.
    await expect(node.handleVote(vote(2, 1))).rejects.toThrow("ENOSPC");
    expect(cluster.fatal).toHaveLength(1);
    expect(node.isStopped).toBe(true);
  });
});
