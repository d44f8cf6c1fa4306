/**
 * The fault campaign: a three-node cluster, one node per network namespace,
 * works under a seeded schedule of faults (schedule.ts) while idempotent
 * producers and a consumer group keep it busy (workload.ts); then
 * outcome.ts heals everything and judges. The run directory (data, logs,
 * traces, schedule) is kept when the campaign fails.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { LocalCluster } from "../support/cluster-process.ts";
import { onExit } from "../support/exit-cleanup.ts";
import { NetnsNetwork } from "../support/netns-network.ts";
import { FaultInjector } from "./fault-injector.ts";
import { writeAcknowledged } from "./final-state.ts";
import { NodeKeeper } from "./node-keeper.ts";
import { judgeOutcome } from "./outcome.ts";
import { type CampaignSummary, passed, summaryLines, verdictLine } from "./report.ts";
import { describeFault, type FaultKind, faultKinds, formatSchedule, planSchedule } from "./schedule.ts";
import { clusterWhole, sleep, within } from "./settling.ts";
import { traceArgs } from "./tracing.ts";
import { Workload } from "./workload.ts";

const nodeIds = [1, 2, 3];
const topic = "faults";
const partitions = 3;
const port = 9092;
const groupId = "faults-group";
const producers = 2;
const groupMembers = 2;
/**
 * Bounds the records kept by the workload and the checks: the producers stop
 * at it. Two producers acknowledge about 1,600 records a second on a
 * two-core machine, so they reach it after about 30 minutes of faults.
 */
const recordsMax = 3_000_000;
/** How long a fault waits for the cluster to be whole after the previous one; then it goes ahead anyway. */
const wholeBeforeFaultMs = 30_000;
const startSettleMs = 60_000;
const memberSupervisionIntervalMs = 1_000;

const brokerFlags = [
  "--min-insync-replicas",
  "2",
  "--default-replication-factor",
  "3",
  // Fences come within seconds, so pauses and cuts of a few seconds reach them.
  "--broker-session-timeout-ms",
  "4000",
  "--offsets-topic-partitions",
  "3",
  "--offsets-topic-replication-factor",
  "3",
  "--group-initial-rebalance-delay-ms",
  "0",
  "--group-min-session-timeout-ms",
  "1000",
];

export interface CampaignOptions {
  seed: number;
  durationMs: number;
  /** Keeps the run directory even when the campaign passes. */
  keepRunDirectory?: boolean;
  print?: (line: string) => void;
}

export interface CampaignResult extends CampaignSummary {
  passed: boolean;
  verdict: string;
  runDirectory: string;
  runDirectoryKept: boolean;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

async function createTopic(bootstrap: string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: "chronik-faults-admin",
    brokers: bootstrap,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor: nodeIds.length }],
    });
  } finally {
    await admin.disconnect();
  }
}

function emptySummary(options: CampaignOptions): CampaignSummary {
  return {
    seed: options.seed,
    durationMs: options.durationMs,
    faultsByKind: Object.fromEntries(faultKinds.map((kind) => [kind, 0])) as Record<FaultKind, number>,
    acknowledged: 0,
    read: 0,
    lost: 0,
    duplicated: 0,
    misplaced: 0,
    outOfOrder: 0,
    unacknowledgedInLog: 0,
    consumersMissed: 0,
    consumerRedeliveries: 0,
    memberReplacements: 0,
    sendErrors: new Map(),
    abandonedBatches: new Map(),
    replicasAgree: null,
    tracesOk: null,
    reasons: [],
  };
}

async function startCluster(network: NetnsNetwork, runDirectory: string): Promise<LocalCluster> {
  return LocalCluster.start(nodeIds.length, brokerFlags, {
    root: runDirectory,
    placement: {
      port,
      hostOf: (nodeId) => network.hostOf(nodeId),
      launcherOf: (nodeId) => network.launcherOf(nodeId),
    },
    argsOf: (nodeId) => traceArgs(runDirectory, nodeId),
    logDirectory: runDirectory,
  });
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const schedule = planSchedule({ seed: options.seed, durationMs: options.durationMs, nodeIds, partitions });
  const runDirectory = await mkdtemp(path.join(tmpdir(), `chronik-faults-seed${options.seed}-`));
  await writeFile(path.join(runDirectory, "schedule.txt"), `${formatSchedule(schedule, topic).join("\n")}\n`);
  print(
    `faults: seed=${options.seed} duration=${seconds(options.durationMs)} planned=${schedule.length} run directory ${runDirectory}`,
  );
  const summary = emptySummary(options);
  let network: NetnsNetwork | null = null;
  let keeper: NodeKeeper | null = null;
  let workload: Workload | null = null;
  let supervision: NodeJS.Timeout | undefined;
  let unregisterMembers: () => void = () => undefined;
  try {
    network = await NetnsNetwork.create(nodeIds);
    const cluster = await startCluster(network, runDirectory);
    keeper = new NodeKeeper(cluster);
    await createTopic(cluster.bootstrap);
    if ((await within(startSettleMs, () => clusterWhole(cluster, topic, partitions))) === null)
      throw new Error(`the new cluster was not whole within ${seconds(startSettleMs)}`);

    const running = Workload.start({
      brokers: cluster.bootstrap,
      topic,
      partitions,
      producers,
      groupId,
      members: groupMembers,
      recordsMax,
    });
    workload = running;
    unregisterMembers = onExit(() => running.killMembersNow());
    supervision = setInterval(() => running.superviseMembers(), memberSupervisionIntervalMs);

    const injector = new FaultInjector(cluster, network, keeper, topic);
    const startedAt = Date.now();
    const note = (line: string) => print(`+${seconds(Date.now() - startedAt)} ${line}`);
    for (const fault of schedule) {
      await sleep(startedAt + fault.atMs - Date.now());
      const waited = fault.impatient
        ? 0
        : await within(wholeBeforeFaultMs, () => clusterWhole(cluster, topic, partitions));
      if (waited === null)
        note(`the cluster is still not whole ${seconds(wholeBeforeFaultMs)} after the last fault`);
      note(`#${fault.index} ${describeFault(fault, topic)}`);
      summary.faultsByKind[fault.kind] += 1;
      for (const line of await injector.inject(fault)) print(`    ${line}`);
    }
    await sleep(startedAt + options.durationMs - Date.now());
    await judgeOutcome({
      cluster,
      network,
      keeper,
      workload,
      topic,
      partitions,
      runDirectory,
      summary,
      note,
    });
  } catch (error) {
    summary.reasons.push(
      `the campaign stopped early: ${error instanceof Error ? (error.stack ?? error.message) : error}`,
    );
  } finally {
    clearInterval(supervision);
    workload?.killMembersNow();
    unregisterMembers();
    await keeper?.destroy();
    await network?.destroy();
  }
  if (keeper !== null) summary.reasons.push(...keeper.problems);
  if (!passed(summary) && workload !== null) await writeAcknowledged(runDirectory, workload.acknowledged);
  return finish(summary, runDirectory, options, print);
}

async function finish(
  summary: CampaignSummary,
  runDirectory: string,
  options: CampaignOptions,
  print: (line: string) => void,
): Promise<CampaignResult> {
  for (const line of summaryLines(summary)) print(line);
  for (const reason of summary.reasons) print(`problem: ${reason}`);
  const keep = !passed(summary) || options.keepRunDirectory === true;
  if (keep) print(`run directory kept: ${runDirectory}`);
  else await rm(runDirectory, { recursive: true, force: true });
  const verdict = verdictLine(summary);
  print(verdict);
  return { ...summary, passed: passed(summary), verdict, runDirectory, runDirectoryKept: keep };
}
