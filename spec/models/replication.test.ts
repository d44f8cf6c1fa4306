import { describe, expect, it } from "vitest";
import type { Model } from "../checker/model.ts";
import { search } from "../checker/search.ts";
import { replicationMutants } from "../mutants/replication.ts";
import type { ClusterState } from "./partition-state.ts";
import { clusterView } from "./partition-view.ts";
import {
  createReplicationFailoverModel,
  createReplicationModel,
  r1AckedOnEveryReplica,
} from "./replication.ts";

/** Takes the actions with these labels in order from the model's initial state. */
function walk(model: Model<ClusterState>, labels: string[]): ClusterState {
  let state = model.initialStates()[0]!;
  for (const label of labels) {
    const enabled = model.actions(state);
    const taken = enabled.find((a) => a.label === label);
    if (taken === undefined) {
      throw new Error(`"${label}" is not enabled; enabled: ${enabled.map((a) => a.label).join(" | ")}`);
    }
    state = taken.next;
  }
  return state;
}

function node(state: ClusterState, id: number) {
  return state.nodes.find((n) => n.id === id)!;
}

function ids(state: ClusterState, id: number): string[] {
  return (node(state, id).replica?.log ?? []).map((e) => `${e.id}@${e.epoch}`);
}

describe("the Replication model", () => {
  it("starts with n1 leading epoch 0 with the ISR [1, 2, 3] on every node's applied metadata", () => {
    const model = createReplicationModel();
    const [start] = model.initialStates();
    const view = clusterView(start!);
    expect(view.partitions["t-0"]).toEqual({
      leader: 1,
      isr: [1, 2, 3],
      replicas: [1, 2, 3],
      leaderEpoch: 0,
      partitionEpoch: 0,
    });
    expect(view.nodes.map((n) => n.appliedMetadataOffset)).toEqual([1, 1, 1]);
    expect(view.nodes.map((n) => n.replicas["t-0"]?.isr)).toEqual([[1, 2, 3], undefined, undefined]);
  });

  it("has no violation at a small bound, reaches every sometimes property, and explores an exact space", () => {
    const result = search(createReplicationModel(), { maxDepth: 9, progress: false });
    expect(result.violation).toBeUndefined();
    expect(result.unreached).toEqual([]);
    expect(result.stats.distinctStates).toBe(20_345);
    expect(result.stats.transitions).toBe(50_091);
  }, 120_000);

  it("from a committed record: failover, truncation and restarts keep it, at a small bound", () => {
    const result = search(createReplicationFailoverModel({ maxDrops: 0 }), { maxDepth: 9, progress: false });
    expect(result.violation).toBeUndefined();
    expect(result.unreached).toEqual([]);
    expect(result.stats.distinctStates).toBe(15_678);
    expect(result.stats.transitions).toBe(39_188);
  }, 120_000);

  it("acknowledges r1 once both followers fetched past it; the followers learn the high watermark later", () => {
    const state = walk(createReplicationModel(), r1AckedOnEveryReplica);
    expect(state.acked).toEqual([{ partition: "t-0", offset: 0, id: "r1" }]);
    expect([1, 2, 3].map((id) => ids(state, id))).toEqual([["r1@0"], ["r1@0"], ["r1@0"]]);
    expect([1, 2, 3].map((id) => node(state, id).replica!.highWatermark)).toEqual([1, 0, 0]);
  });

  it("an old leader's unreplicated record is truncated when it follows the new leader", () => {
    const state = walk(createReplicationFailoverModel(), [
      "client produces r2 to n1: appended",
      "n1 crashes",
      "controller fences n1",
      "n2 applies PartitionChangeRecord t-0 isr [2,3] leader 2",
      "n1 restarts",
      "n1 applies PartitionChangeRecord t-0 isr [2,3] leader 2",
      "n1 sends n1→n2 Fetch(epoch 1, offset 2, last epoch 0)",
      "n1→n2 Fetch(epoch 1, offset 2, last epoch 0): diverging (epoch 0 ends at 1)",
      "n2→n1 FetchAnswer(epoch 1, diverging epoch 0 end 1): truncated to 1",
    ]);
    expect(ids(state, 1)).toEqual(["r1@0"]);
    expect(ids(state, 2)).toEqual(["r1@0"]);
    expect(node(state, 2).isr?.context.leaderEpoch).toBe(1);
    expect(state.truncated).toBe(true);
  });

  it("ignores an AlterPartition answer to an earlier request, as Kafka's AlterPartitionManager does", () => {
    // n1 shrinks the ISR to [1], then proposes [1, 2]; it applies the record of [1, 2] before the
    // answer arrives and proposes [1, 2, 3]: the late answer must not end that pending expansion.
    const state = walk(createReplicationModel({ maxProduce: 1 }), [
      "client produces r1 to n1: appended",
      "time passes",
      "n1→controller AlterPartition(epochs 0/0, isr [1]): isr [1] appended, NONE",
      "n1 applies PartitionChangeRecord t-0 isr [1]",
      "n2 sends n2→n1 Fetch(epoch 0, offset 0, last epoch -1)",
      "n2→n1 Fetch(epoch 0, offset 0, last epoch -1): answered 1 record, hw 0",
      "n1→controller AlterPartition(epochs 0/1, isr [1,2]): isr [1,2] appended, NONE",
      "n1 applies PartitionChangeRecord t-0 isr [1,2]",
      "n3 sends n3→n1 Fetch(epoch 0, offset 0, last epoch -1)",
      "n3→n1 Fetch(epoch 0, offset 0, last epoch -1): answered 1 record, hw 0",
      "controller→n1 AlterPartitionAnswer(NONE, epochs 0/2, isr [1,2]): ignored (answers an earlier request)",
    ]);
    expect(node(state, 1).isr?.context.pendingIsrChange).toEqual({ kind: "expand", isr: [1, 2, 3] });
    expect(node(state, 1).replica!.highWatermark).toBe(0);
  });

  describe.each(replicationMutants.map((m) => [m.name, m] as const))("mutant: %s", (_name, mutant) => {
    it(`is caught by ${mutant.caughtBy}`, () => {
      const result = search(mutant.create(), {
        maxDepth: mutant.bounds.depth,
        maxStates: mutant.bounds.maxStates,
        progress: false,
      });
      expect(result.violation?.invariant).toBe(mutant.caughtBy);
    }, 60_000);
  });
});
