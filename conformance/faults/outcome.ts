/**
 * The end of a campaign: heal everything, let the producers finish and the
 * cluster settle, then judge. The log read from offset 0 must hold every
 * acknowledged record exactly once (checks.ts), the group must have seen
 * each, the replicas (stopped, read from disk) must agree below the high
 * watermark, and the nodes' traces must pass the trace checker. Each
 * finding becomes a reason in the summary; none is thrown.
 */
import type { LocalCluster } from "../support/cluster-process.ts";
import type { NetnsNetwork } from "../support/netns-network.ts";
import { checkConsumption, checkLogs, compareReplicas, examples } from "./checks.ts";
import { committedLogs, readPartitions, replicaLogs } from "./final-state.ts";
import type { NodeKeeper } from "./node-keeper.ts";
import type { CampaignSummary } from "./report.ts";
import { clusterWhole, within } from "./settling.ts";
import { checkTraces } from "./tracing.ts";
import type { Workload } from "./workload.ts";

/** How long the cluster may take to settle, and the group to catch up, once everything is healed. */
const settleMs = 60_000;
const producersStopPatienceMs = 60_000;

export interface CampaignParts {
  cluster: LocalCluster;
  network: NetnsNetwork;
  keeper: NodeKeeper;
  workload: Workload;
  topic: string;
  partitions: number;
  runDirectory: string;
  summary: CampaignSummary;
  /** Prints a progress line, stamped with the campaign's clock. */
  note: (line: string) => void;
}

export async function judgeOutcome(parts: CampaignParts): Promise<void> {
  const { cluster, keeper, workload, summary } = parts;
  parts.note("healing everything and letting the cluster settle");
  await parts.network.healAll();
  await keeper.restoreAll();
  await workload.stopProducing(producersStopPatienceMs);
  const settledInMs = await within(settleMs, () => clusterWhole(cluster, parts.topic, parts.partitions));
  if (settledInMs === null)
    summary.reasons.push(`the cluster was not whole ${settleMs / 1000}s after healing`);
  else parts.note(`the cluster is whole; the group catching up`);

  await judgeConsumption(parts);
  await judgeLog(parts);
  const committed = await committedLogs(cluster, parts.topic);
  await workload.stopMembers();
  await keeper.stopAll();
  parts.note("nodes stopped; comparing replicas and checking traces");
  const disagreements: string[] = [];
  for (const log of committed) {
    const replicas = await replicaLogs(cluster, log);
    const name = `${log.topic}-${log.partition}`;
    disagreements.push(...compareReplicas(name, replicas, log.highWatermark, log.complete));
  }
  summary.replicasAgree = disagreements.length === 0;
  summary.reasons.push(...disagreements);

  const traces = await checkTraces(parts.runDirectory);
  summary.tracesOk = traces.ok;
  if (!traces.ok) summary.reasons.push(`chronik trace check failed: ${traces.output}`);
}

async function judgeConsumption({ workload, summary }: CampaignParts): Promise<void> {
  const { acknowledged } = workload;
  await within(settleMs, async () => {
    workload.superviseMembers();
    return checkConsumption(acknowledged, workload.consumedCounts()).missed.length === 0;
  });
  const consumption = checkConsumption(acknowledged, workload.consumedCounts());
  summary.consumersMissed = consumption.missed.length;
  summary.consumerRedeliveries = consumption.redelivered;
  summary.memberReplacements = workload.memberReplacements;
  summary.sendErrors = workload.sendErrors;
  summary.abandonedBatches = workload.abandonedBatches;
  if (consumption.missed.length > 0)
    summary.reasons.push(`the group never received ${examples(consumption.missed)}`);
}

async function judgeLog({ cluster, workload, topic, partitions, summary }: CampaignParts): Promise<void> {
  const verdict = checkLogs(
    workload.acknowledged,
    await readPartitions(cluster.bootstrap, topic, partitions),
  );
  summary.acknowledged = workload.acknowledged.size;
  summary.read = verdict.read;
  summary.lost = verdict.lost.length;
  summary.duplicated = verdict.duplicated.length;
  summary.misplaced = verdict.misplaced.length;
  summary.outOfOrder = verdict.outOfOrder.length;
  summary.unacknowledgedInLog = verdict.unacknowledged;
  const { reasons } = summary;
  if (verdict.lost.length > 0) reasons.push(`acknowledged records lost: ${examples(verdict.lost)}`);
  if (verdict.duplicated.length > 0) reasons.push(`records held twice: ${examples(verdict.duplicated)}`);
  if (verdict.misplaced.length > 0) reasons.push(`records misplaced: ${examples(verdict.misplaced, 3)}`);
  if (verdict.outOfOrder.length > 0) reasons.push(`records out of order: ${examples(verdict.outOfOrder)}`);
}
