import type { ClusterView, Invariant } from "./cluster-view.ts";
import { ElectionSafety } from "./election-safety.ts";
import { LeaderCompleteness, LogMatching } from "./log-matching.ts";
import { MetadataBeforeData, MetadataLogMatching, OneMembershipChangeAtATime } from "./metadata.ts";
import {
  EpochsMonotonic,
  HighWatermarkValid,
  IsrSubsetOfReplicas,
  LeaderInIsr,
  NoAckedRecordLost,
} from "./partition.ts";

export * from "./cluster-view.ts";
export {
  ElectionSafety,
  EpochsMonotonic,
  HighWatermarkValid,
  IsrSubsetOfReplicas,
  LeaderCompleteness,
  LeaderInIsr,
  LogMatching,
  MetadataBeforeData,
  MetadataLogMatching,
  NoAckedRecordLost,
  OneMembershipChangeAtATime,
};

/** Every cluster-wide invariant of DESIGN.md, in its order. */
export const allInvariants: readonly Invariant[] = [
  ElectionSafety,
  LogMatching,
  LeaderCompleteness,
  MetadataLogMatching,
  OneMembershipChangeAtATime,
  LeaderInIsr,
  IsrSubsetOfReplicas,
  HighWatermarkValid,
  NoAckedRecordLost,
  MetadataBeforeData,
  EpochsMonotonic,
];

/** The violated invariants, each with its message; empty when all hold. */
export function checkAll(view: ClusterView, previous?: ClusterView): { name: string; message: string }[] {
  const violations: { name: string; message: string }[] = [];
  for (const invariant of allInvariants) {
    const message = invariant.check(view, previous);
    if (message !== null) violations.push({ name: invariant.name, message });
  }
  return violations;
}
