import { type ClusterView, type Invariant, observeLeaders, report } from "./cluster-view.ts";

/**
 * At most one leader per epoch: for the Raft quorum (per epoch) and for every
 * data partition (per leader epoch). Reads the leaders seen so far from
 * `view.history` together with the leaders of `view` itself.
 */
export const ElectionSafety: Invariant = {
  name: "ElectionSafety",
  description: "at most one leader per epoch, for the quorum and for every partition",
  check(view: ClusterView): string | null {
    const seen = observeLeaders(view);
    const violations: string[] = [];
    const quorumByEpoch = new Map<number, number[]>();
    for (const { epoch, nodeId } of seen.quorumLeaders) {
      quorumByEpoch.set(epoch, [...(quorumByEpoch.get(epoch) ?? []), nodeId]);
    }
    for (const [epoch, leaders] of quorumByEpoch) {
      if (leaders.length > 1)
        violations.push(`quorum epoch ${epoch} has leaders nodes ${leaders.join(", ")}`);
    }
    const partitionByEpoch = new Map<string, { partition: string; leaderEpoch: number; leaders: number[] }>();
    for (const { partition, leaderEpoch, nodeId } of seen.partitionLeaders) {
      const key = `${partition}@${leaderEpoch}`;
      const entry = partitionByEpoch.get(key) ?? { partition, leaderEpoch, leaders: [] };
      entry.leaders.push(nodeId);
      partitionByEpoch.set(key, entry);
    }
    for (const { partition, leaderEpoch, leaders } of partitionByEpoch.values()) {
      if (leaders.length > 1) {
        violations.push(
          `partition ${partition} leader epoch ${leaderEpoch} has leaders nodes ${leaders.join(", ")}`,
        );
      }
    }
    return report(violations);
  },
};
