/** The campaign's summary lines and its one-line verdict. */
import { type FaultKind, faultKinds } from "./schedule.ts";

export interface CampaignSummary {
  seed: number;
  durationMs: number;
  faultsByKind: Record<FaultKind, number>;
  acknowledged: number;
  read: number;
  lost: number;
  duplicated: number;
  misplaced: number;
  outOfOrder: number;
  unacknowledgedInLog: number;
  consumersMissed: number;
  consumerRedeliveries: number;
  memberReplacements: number;
  sendErrors: ReadonlyMap<string, number>;
  abandonedBatches: ReadonlyMap<string, number>;
  /** null when the replicas were never compared (the run stopped before). */
  replicasAgree: boolean | null;
  /** null when the traces were never checked (the run stopped before). */
  tracesOk: boolean | null;
  reasons: string[];
}

function counts(map: ReadonlyMap<string, number>): string {
  if (map.size === 0) return "none";
  return [...map]
    .sort((left, right) => right[1] - left[1])
    .map(([what, count]) => `${count}× ${what}`)
    .join(", ");
}

export function totalFaults(summary: CampaignSummary): number {
  return Object.values(summary.faultsByKind).reduce((sum, count) => sum + count, 0);
}

export function summaryLines(summary: CampaignSummary): string[] {
  return [
    `faults by kind: ${faultKinds.map((kind) => `${kind}=${summary.faultsByKind[kind]}`).join(" ")}`,
    `records: acknowledged=${summary.acknowledged} read=${summary.read} lost=${summary.lost} ` +
      `duplicated=${summary.duplicated} misplaced=${summary.misplaced} out-of-order=${summary.outOfOrder} ` +
      `unacknowledged-in-log=${summary.unacknowledgedInLog}`,
    `group: missed=${summary.consumersMissed} redelivered=${summary.consumerRedeliveries} ` +
      `(at least once after rebalances) members-replaced=${summary.memberReplacements}`,
    `producer sends failed and sent again: ${counts(summary.sendErrors)}`,
    `producer batches given up: ${counts(summary.abandonedBatches)}`,
  ];
}

export function passed(summary: CampaignSummary): boolean {
  return summary.reasons.length === 0;
}

/** `faults: PASS seed=7 duration=60s faults=23 acked=48211 lost=0 duplicated=0 replicas-agree traces-ok` */
export function verdictLine(summary: CampaignSummary): string {
  const replicas =
    summary.replicasAgree === null
      ? "replicas-unchecked"
      : summary.replicasAgree
        ? "replicas-agree"
        : "replicas-disagree";
  const traces =
    summary.tracesOk === null ? "traces-unchecked" : summary.tracesOk ? "traces-ok" : "traces-failed";
  const outcome = passed(summary) ? "PASS" : "FAIL";
  const line =
    `faults: ${outcome} seed=${summary.seed} duration=${Math.round(summary.durationMs / 1000)}s ` +
    `faults=${totalFaults(summary)} acked=${summary.acknowledged} lost=${summary.lost} ` +
    `duplicated=${summary.duplicated} ${replicas} ${traces}`;
  return passed(summary) ? line : `${line} (${summary.reasons.length} problems, listed above)`;
}
