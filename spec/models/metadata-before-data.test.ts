import { describe, expect, it } from "vitest";
import type { Model } from "../checker/model.ts";
import { search } from "../checker/search.ts";
import { metadataBeforeDataMutants } from "../mutants/metadata-before-data.ts";
import { createMetadataBeforeDataModel } from "./metadata-before-data.ts";
import type { ClusterState } from "./partition-state.ts";
import { clusterView } from "./partition-view.ts";

/** Every action enabled in `state`, by label. */
function enabled(model: Model<ClusterState>, state: ClusterState): string[] {
  return model.actions(state).map((a) => a.label);
}

function take(model: Model<ClusterState>, state: ClusterState, label: string): ClusterState {
  const taken = model.actions(state).find((a) => a.label === label);
  if (taken === undefined) throw new Error(`"${label}" is not enabled: ${enabled(model, state).join(" | ")}`);
  return taken.next;
}

const partitionRecord = "PartitionRecord t-0 replicas [1,2,3] isr [1,2,3] leader 1";

describe("the Metadata-before-data model", () => {
  it("explores every interleaving of creation, application, one produce and replication", () => {
    const result = search(createMetadataBeforeDataModel({ maxProduce: 1, maxTicks: 0, maxCrashes: 0 }), {
      progress: false,
    });
    expect(result.outcome).toBe("ok");
    expect(result.unreached).toEqual([]);
    expect(result.stats.distinctStates).toBe(134);
    expect(result.stats.transitions).toBe(300);
  });

  it("with two records and a crash, at a small bound, still finds no violation", () => {
    const result = search(createMetadataBeforeDataModel({ maxProduce: 2, maxTicks: 0, maxCrashes: 1 }), {
      maxDepth: 12,
      progress: false,
    });
    expect(result.violation).toBeUndefined();
    expect(result.unreached).toEqual([]);
    expect(result.stats.distinctStates).toBe(3_894);
    expect(result.stats.transitions).toBe(9_453);
  }, 120_000);

  it("no node acts on the partition before its PartitionRecord commits and it applies it", () => {
    const model = createMetadataBeforeDataModel({ maxProduce: 1, maxTicks: 0, maxCrashes: 0 });
    let state = model.initialStates()[0]!;
    expect(enabled(model, state)).toEqual(["CreateTopics t (replicas [1,2,3])"]);
    state = take(model, state, "CreateTopics t (replicas [1,2,3])");
    // Appended, not committed: nothing to apply, nobody leads, nobody fetches.
    expect(enabled(model, state)).toEqual([`metadata offset 0 commits: ${partitionRecord}`]);
    state = take(model, state, `metadata offset 0 commits: ${partitionRecord}`);
    state = take(model, state, `n2 applies ${partitionRecord}`);
    // n2 follows n1, which has not applied the record yet: its fetch is refused and leaves no trace.
    state = take(model, state, "n2 sends n2→n1 Fetch(epoch 0, offset 0, last epoch -1)");
    const refused = take(
      model,
      state,
      "n2→n1 Fetch(epoch 0, offset 0, last epoch -1): refused NOT_LEADER_OR_FOLLOWER",
    );
    expect(clusterView(refused).nodes.map((n) => Object.keys(n.replicas))).toEqual([[], ["t-0"], []]);
    expect(enabled(model, refused).some((l) => l.startsWith("client produces"))).toBe(false);
    state = take(model, refused, `n1 applies ${partitionRecord}`);
    expect(enabled(model, state)).toContain("client produces r1 to n1: appended");
  });

  describe.each(metadataBeforeDataMutants.map((m) => [m.name, m] as const))("mutant: %s", (_name, mutant) => {
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
