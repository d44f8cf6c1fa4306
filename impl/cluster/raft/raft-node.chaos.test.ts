/**
 * Seeded runs of a five-voter cluster (and an observer) under partitions,
 * crashes, restarts and, in the second suite, voter changes, checking after
 * every step what the quorum model's invariants say: at most one leader per
 * epoch (ElectionSafety), every node's committed prefix is a prefix of the one
 * committed log (MetadataLogMatching: no committed entry lost), no node
 * failed. At the end the network heals, everyone restarts, and the cluster
 * converges on one log, all of it committed.
 *
 * The same runs over hundreds of seeds found two ways for a quorum changing
 * its voters to end with no leader for good (about 1% of seeds); their
 * regression tests are in raft-node.membership.test.ts (a leader that removed
 * itself from two voters) and raft-node.votes.test.ts (a stale voters entry).
 */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "./fake-clock.ts";
import type { RaftEntry } from "./raft-log.ts";
import { TestCluster, text } from "./test-support.ts";

let cluster: TestCluster;
afterEach(() => cluster?.stopAll());

const voters = [1, 2, 3, 4, 5];
const observer = 6;
const everyone = [...voters, observer];
const key = (e: RaftEntry) => `${e.offset}:${e.epoch}:${e.kind}:${new TextDecoder().decode(e.payload)}`;

async function chaos(seed: number, options: { membership: boolean }): Promise<void> {
  const leadersByEpoch = new Map<number, Set<number>>();
  const logger = pino(
    { level: "info" },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { msg: string; epoch: number; raftNode: number };
        if (entry.msg !== "raft leader elected") return;
        const seen = leadersByEpoch.get(entry.epoch) ?? new Set<number>();
        seen.add(entry.raftNode);
        leadersByEpoch.set(entry.epoch, seen);
      },
    },
  );
  cluster = new TestCluster(seed, logger);
  const dice = new FakeClock(seed * 7919);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(dice.random() * items.length)]!;
  for (const id of everyone) await cluster.start(id, { voters });

  let committed: string[] = [];
  const check = () => {
    for (const [epoch, leaders] of leadersByEpoch) expect(leaders.size, `leaders of epoch ${epoch}`).toBe(1);
    for (const node of cluster.nodes.values()) {
      const prefix = cluster.log(node.nodeId).entries().slice(0, node.status().highWatermark).map(key);
      const shorter = prefix.length <= committed.length ? prefix : committed;
      const longer = prefix.length <= committed.length ? committed : prefix;
      expect(shorter, `n${node.nodeId}'s committed prefix`).toEqual(longer.slice(0, shorter.length));
      committed = longer;
    }
    expect(cluster.fatal).toEqual([]);
  };

  let appended = 0;
  for (let round = 0; round < 40; round++) {
    const action = dice.random();
    const up = [...cluster.nodes.keys()];
    if (action < 0.15) {
      cluster.network.cutLink(pick(everyone), pick(everyone));
    } else if (action < 0.25) {
      // Mostly the leader: the others must elect a new one, and it must rejoin.
      const leaders = cluster.leaders();
      const target = leaders.length > 0 && dice.random() < 0.7 ? leaders[0]!.nodeId : pick(everyone);
      cluster.network.isolate(target, everyone);
    } else if (action < 0.35) {
      cluster.network.healAll();
    } else if (action < 0.45 && up.length > 4) {
      cluster.crash(pick(up));
    } else if (action < 0.6) {
      const down = everyone.filter((id) => !cluster.nodes.has(id));
      if (down.length > 0) await cluster.start(pick(down), { voters });
    } else if (action < 0.75 && options.membership) {
      for (const leader of cluster.leaders()) {
        const id = pick(everyone);
        const change = leader.status().voters.includes(id) ? leader.removeVoter(id) : leader.addVoter(id);
        change.catch(() => undefined);
      }
    } else {
      for (const leader of cluster.leaders()) leader.append([text(`r${++appended}`)]).catch(() => undefined);
    }
    await cluster.advance(Math.floor(dice.random() * 1_500));
    check();
  }

  // Heal and restart everyone; a final entry, retried until a leader commits it (a leader may still
  // lose its place to a restarted voter that has not heard of it yet).
  cluster.network.healAll();
  for (const id of everyone) if (!cluster.nodes.has(id)) await cluster.start(id, { voters });
  let finalAppend: "committed" | "lost" | null = null;
  for (let attempt = 0; finalAppend !== "committed"; attempt++) {
    expect(attempt).toBeLessThan(10);
    await cluster.advanceUntil(() => cluster.leaders().length === 1, 60_000);
    finalAppend = null;
    cluster
      .leader()
      .append([text(`final ${attempt}`)])
      .then(
        () => (finalAppend = "committed"),
        () => (finalAppend = "lost"),
      );
    await cluster.advanceUntil(() => finalAppend !== null, 60_000);
  }
  // Everyone holds the leader's whole log, all of it committed (leadership may have moved meanwhile).
  await cluster.advanceUntil(() => {
    const leaders = cluster.leaders();
    if (leaders.length !== 1) return false;
    const end = leaders[0]!.status().logEndOffset;
    return everyone.every(
      (id) => cluster.node(id).status().highWatermark === end && cluster.log(id).endOffset() === end,
    );
  }, 60_000);
  check();
  const log = cluster.log(cluster.leader().nodeId).entries().map(key);
  for (const id of everyone) expect(cluster.log(id).entries().map(key)).toEqual(log);
  expect(committed).toEqual(log);
}

describe("RaftNode under partitions, crashes and restarts", () => {
  it.each([11, 12, 13, 14, 15, 16])(
    "keeps one leader per epoch and every committed entry (seed %i)",
    (seed) => chaos(seed, { membership: false }),
  );
});

describe("RaftNode under partitions, crashes, restarts and voter changes", () => {
  it.each([2000, 2001, 2002, 2003, 2004, 2005])(
    "keeps one leader per epoch and every committed entry (seed %i)",
    (seed) => chaos(seed, { membership: true }),
  );
});
