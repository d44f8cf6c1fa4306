import { describe, expect, it } from "vitest";
import { search } from "../checker/search.ts";
import { models } from "./index.ts";
import { config, createQuorumModel } from "./quorum.ts";
import {
  n1DivergesFromN2,
  n4CaughtUp,
  selfRemovalFromTwoVoters,
  staleSelfRemovalWhenLeaderFails,
} from "./quorum-scenarios.ts";
import type { QuorumState } from "./quorum-state.ts";

function entry(name: string) {
  const found = models.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no model ${name}`);
  return found;
}

describe("the Quorum model", () => {
  // Exact counts: any change to the model or the machine shows up here.
  it.each([
    ["quorum", 5, 5_103, 14_490],
    ["quorum-log", 4, 2_958, 6_580],
    ["quorum-membership", 6, 11_189, 39_720],
  ])(
    "%s at depth %i: no violation, %i states, %i transitions",
    (name, depth, states, transitions) => {
      const result = search(entry(name).create(), { maxDepth: depth, progress: false });
      expect(result.violation).toBeUndefined();
      expect(result.stats.distinctStates).toBe(states);
      expect(result.stats.transitions).toBe(transitions);
    },
    60_000,
  );

  it("starts the observer scenario with n4 caught up and following n1", () => {
    const [start] = createQuorumModel({ observers: [4], scripts: [n4CaughtUp] }).initialStates();
    const n4 = start!.nodes.find((n) => n.id === 4)!;
    expect(n4.machine?.value).toBe("follower");
    expect(n4.machine?.context.voters).toEqual([1, 2, 3]);
    const n1 = start!.nodes.find((n) => n.id === 1)!;
    expect(n1.machine?.context.replicaProgress.find((p) => p.id === 4)?.endOffset).toBe(n1.log.length);
  });

  it("starts the two-voter scenario with n1 leading, its own removal uncommitted, unheard for the check-quorum timeout", () => {
    const [start] = createQuorumModel({
      observers: [4],
      scripts: [selfRemovalFromTwoVoters],
    }).initialStates();
    const machineOf = (id: number) => start!.nodes.find((n) => n.id === id)!.machine!;
    const [n1, n2] = [machineOf(1), machineOf(2)];
    expect(n1.value).toBe("leader");
    expect(n1.context).toMatchObject({ voters: [2], pendingVoterChange: { kind: "remove", nodeId: 1 } });
    expect(start!.nowMs - n1.context.replicaProgress.find((p) => p.id === 2)!.lastFetchMs).toBe(
      config.checkQuorumTimeoutMs,
    );
    expect(n2.context.voters).toEqual([1, 2]);
    expect(start!.budget).toMatchObject({ maxEpoch: 2, ticks: 0, membershipRequests: 0 });
  });

  it("starts the stale-removal scenario with n2 down and n1 following it, its log leaving it out", () => {
    const [start] = createQuorumModel({
      observers: [4],
      scripts: [staleSelfRemovalWhenLeaderFails],
    }).initialStates();
    const node = (id: number) => start!.nodes.find((n) => n.id === id)!;
    expect(node(2).machine).toBeNull();
    expect(node(1).machine).toMatchObject({
      value: "follower",
      context: { epoch: 2, leaderId: 2, voters: [2, 3] },
    });
    expect(node(3).machine).toMatchObject({ value: "follower", context: { voters: [1, 2, 3] } });
    expect(node(3).log.map((e) => e.epoch)).toEqual([1, 2]);
    expect(start!.budget.maxEpoch).toBe(3);
  });

  it("truncates a diverging follower to what the new leader holds, and commits the new leader's records", () => {
    const model = createQuorumModel({ scripts: [n1DivergesFromN2], maxMessages: 3 });
    let state = model.initialStates()[0]!;
    const take = (label: string) => {
      const action = model.actions(state).find((a) => a.label === label);
      expect(action, label).toBeDefined();
      state = action!.next as QuorumState;
    };
    take("n2→n1 BeginQuorumEpoch(epoch 2, leader n2) delivered");
    take("n1 fetches from n2");
    take("n1→n2 Fetch(epoch 2, offset 2, last epoch 1) delivered");
    take("n2→n1 FetchAnswer(epoch 2, diverging at epoch -1 end 0, hw 0) delivered");
    expect(state.nodes.find((n) => n.id === 1)!.log).toEqual([]);
    expect(state.ghost.truncations).toBe(1);
    take("n1 fetches from n2");
    take("n1→n2 Fetch(epoch 2, offset 0, last epoch 0) delivered");
    take("n2→n1 FetchAnswer(epoch 2, records LeaderChange n2 from 0, hw 0) delivered");
    take("n1 fetches from n2");
    take("n1→n2 Fetch(epoch 2, offset 1, last epoch 2) delivered");
    expect(state.ghost.committed.map((e) => e.record)).toEqual(["LeaderChange n2"]);
  });
});
