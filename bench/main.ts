/**
 * `npm run bench [-- --quick] [-- --fsync always|interval|never] [-- --cluster-only]`:
 * measures this machine's own limits, then starts one broker on a free port
 * with a temporary data directory and measures produce throughput and
 * latency against it, then starts a three-node cluster and measures topic
 * creation, Metadata, produce with acks=all at replication factor 3 and
 * failover. Progress goes to stderr; the results go to stdout as Markdown.
 * Nothing is written outside the temporary directories, which are removed.
 */
import os from "node:os";
import { parseArgs } from "node:util";
import {
  type BrokerProcess,
  makeDataDir,
  removeDataDir,
  startBroker,
} from "../conformance/support/broker-process.ts";
import { LocalCluster } from "../conformance/support/cluster-process.ts";
import {
  type ClusterProduceResult,
  clusterSize,
  measureMetadata,
  measureTopicCreation,
  otherNode,
  type RequestLatencyResult,
  runClusterProduceCase,
  settledController,
} from "./cluster.ts";
import { type FailoverResult, runFailover } from "./failover.ts";
import {
  type FdatasyncResult,
  measureFdatasync,
  measureLoopbackTcp,
  measureSequentialWrite,
  type ThroughputResult,
} from "./machine-limits.ts";
import {
  createTopic,
  describeCase,
  type ProduceCase,
  type ProduceResult,
  runProduceCase,
} from "./produce.ts";
import { Progress } from "./progress.ts";
import {
  comparisonSection,
  failoverSection,
  machineLimitsSection,
  machineSection,
  produceSection,
  requestLatencySection,
} from "./report.ts";

interface Timing {
  limitMs: number;
  sequentialBytesMax: number;
  warmupMs: number;
  throughputMs: number;
  unloadedMs: number;
  /** CreateTopics requests per back-to-back row of the cluster's topic-creation table. */
  topicCreations: number;
  /** CreateTopics requests per spaced row, and the pause before each. */
  spacedTopicCreations: number;
  spacedCreationGapMs: number;
  metadataMs: number;
  /** Failover runs of each kind. */
  failoverRuns: number;
}

// The full run takes about 15 minutes on a two-core machine, most of it topic creation; --quick is for checking that it works.
const fullTiming: Timing = {
  limitMs: 5000,
  sequentialBytesMax: 2 * 2 ** 30,
  warmupMs: 2000,
  throughputMs: 15_000,
  unloadedMs: 5000,
  topicCreations: 500,
  spacedTopicCreations: 100,
  spacedCreationGapMs: 100,
  metadataMs: 5000,
  failoverRuns: 3,
};
const quickTiming: Timing = {
  limitMs: 1000,
  sequentialBytesMax: 256 * 2 ** 20,
  warmupMs: 300,
  throughputMs: 2000,
  unloadedMs: 1000,
  topicCreations: 100,
  spacedTopicCreations: 20,
  spacedCreationGapMs: 100,
  metadataMs: 1000,
  failoverRuns: 1,
};

/** Targets for the cluster's control plane. */
const topicCreationTarget = { p50Ms: 1, p99Ms: 3 };
const metadataTarget = { p50Ms: 0.2, p99Ms: null };
const failoverTargetMs = 1000;

const messageSizes = [100, 1024];
const acksModes = [1, -1] as const;

/** Batches of 100 records and several requests in flight: what a busy producer sends. */
const throughputCases: ProduceCase[] = messageSizes.flatMap((messageBytes) =>
  acksModes.map((acks) => ({
    messageBytes,
    acks,
    recordsPerRequest: 100,
    connections: 2,
    inFlightPerConnection: 8,
  })),
);
/** One record, one request at a time: the latency of a single produce with nothing queued ahead of it. */
const unloadedCases: ProduceCase[] = messageSizes.flatMap((messageBytes) =>
  acksModes.map((acks) => ({
    messageBytes,
    acks,
    recordsPerRequest: 1,
    connections: 1,
    inFlightPerConnection: 1,
  })),
);

const usage = `usage: npm run bench -- [--quick] [--fsync always|interval|never] [--cluster-only]
  --quick          short runs (about a minute in all), to check that the benchmark works
  --fsync          the brokers' fsync policy (default always, the broker's default)
  --cluster-only   only the three-node cluster cases (no machine limits, no single node)`;

interface Options {
  quick: boolean;
  fsync: string;
  clusterOnly: boolean;
}

function parseOptions(): Options {
  let values: { quick: boolean; fsync: string; "cluster-only": boolean; help: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: "boolean", default: false },
        fsync: { type: "string", default: "always" },
        "cluster-only": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  if (!["always", "interval", "never"].includes(values.fsync)) {
    process.stderr.write(`bench: --fsync must be always, interval or never\n${usage}\n`);
    process.exit(2);
  }
  return { quick: values.quick, fsync: values.fsync, clusterOnly: values["cluster-only"] };
}

async function runProduceCases(
  broker: BrokerProcess,
  timing: Timing,
  progress: Progress,
): Promise<{ throughput: ProduceResult[]; unloaded: ProduceResult[] }> {
  const target = { host: "127.0.0.1", port: broker.port, pid: broker.child.pid! };
  let topicNumber = 0;
  const run = async (testCase: ProduceCase, measureMs: number) => {
    const topic = `bench-${topicNumber++}`;
    progress.update(`produce ${describeCase(testCase)}: creating ${topic}`, true);
    await createTopic(target, topic);
    return runProduceCase(target, topic, testCase, { warmupMs: timing.warmupMs, measureMs }, progress);
  };
  const throughput: ProduceResult[] = [];
  for (const testCase of throughputCases) throughput.push(await run(testCase, timing.throughputMs));
  const unloaded: ProduceResult[] = [];
  for (const testCase of unloadedCases) unloaded.push(await run(testCase, timing.unloadedMs));
  return { throughput, unloaded };
}

async function runSingleNode(
  options: Options,
  timing: Timing,
  progress: Progress,
): Promise<{ throughput: ProduceResult[]; unloaded: ProduceResult[] }> {
  progress.update("starting the broker", true);
  const dataDir = await makeDataDir();
  const removeOnInterrupt = () => {
    void removeDataDir(dataDir).finally(() => process.exit(130));
  };
  process.once("SIGINT", removeOnInterrupt);
  let broker: BrokerProcess | null = null;
  try {
    broker = await startBroker({ dataDir, args: ["--fsync", options.fsync] });
    return await runProduceCases(broker, timing, progress);
  } finally {
    progress.clear();
    await broker?.stop();
    await removeDataDir(dataDir);
    process.off("SIGINT", removeOnInterrupt);
  }
}

interface ClusterResults {
  topicCreation: RequestLatencyResult[];
  metadata: RequestLatencyResult[];
  throughput: ClusterProduceResult[];
  unloaded: ClusterProduceResult[];
  failover: FailoverResult[];
}

async function runCluster(options: Options, timing: Timing, progress: Progress): Promise<ClusterResults> {
  progress.update(`cluster: starting ${clusterSize} nodes`, true);
  const cluster = await LocalCluster.start(clusterSize, ["--fsync", options.fsync]);
  const destroyOnInterrupt = () => {
    void cluster.destroy().finally(() => process.exit(130));
  };
  process.once("SIGINT", destroyOnInterrupt);
  try {
    const results: ClusterResults = {
      topicCreation: [],
      metadata: [],
      throughput: [],
      unloaded: [],
      failover: [],
    };
    // The controller is asked again before each part: an election under load would move it.
    const controller = () => settledController(cluster, cluster.up[0]!.port);

    let controllerId: number;
    let topicNumber = 0;
    const acksAll = (cases: ProduceCase[]) => cases.filter((testCase) => testCase.acks === -1);
    for (const [cases, measureMs, into] of [
      [acksAll(throughputCases), timing.throughputMs, results.throughput],
      [acksAll(unloadedCases), timing.unloadedMs, results.unloaded],
    ] as const) {
      for (const testCase of cases) {
        controllerId = await controller();
        into.push(
          await runClusterProduceCase(
            cluster,
            controllerId,
            `replicated-${topicNumber++}`,
            testCase,
            { warmupMs: timing.warmupMs, measureMs },
            progress,
          ),
        );
      }
    }

    controllerId = await controller();
    const metadataTopic = "replicated-0";
    for (const nodeId of [otherNode(cluster, controllerId), controllerId]) {
      results.metadata.push(
        await measureMetadata(
          cluster.node(nodeId).port,
          nodeId,
          controllerId,
          metadataTopic,
          timing.metadataMs,
          progress,
        ),
      );
    }

    for (let run = 0; run < timing.failoverRuns; run++) {
      controllerId = await controller();
      // Each run kills a different node that is not the controller, where there is one.
      const candidates = cluster.nodes.map((node) => node.nodeId).filter((nodeId) => nodeId !== controllerId);
      const leaderId = candidates[run % candidates.length]!;
      results.failover.push(
        await runFailover(cluster, "leader", leaderId, controllerId, `failover-leader-${run}`, progress),
      );
    }
    for (let run = 0; run < timing.failoverRuns; run++) {
      controllerId = await controller();
      results.failover.push(
        await runFailover(
          cluster,
          "controller-and-leader",
          controllerId,
          controllerId,
          `failover-controller-${run}`,
          progress,
        ),
      );
    }
    // Last: the topics it creates stay, and each partition adds to every replica fetch and
    // ISR check, which would weigh on the produce and failover cases after it.
    // Back to back first, then spaced: one creation at a time on a cluster that has finished
    // the work the one before started (on every node), which separates a creation's own
    // latency from the queue the back-to-back rows build.
    for (const [count, gapMs, pacing] of [
      [timing.topicCreations, 0, "back-to-back"],
      [timing.spacedTopicCreations, timing.spacedCreationGapMs, "spaced"],
    ] as const) {
      controllerId = await controller();
      for (const [nodeId, target] of [
        [controllerId, "at-controller"],
        [otherNode(cluster, controllerId), "forwarded"],
      ] as const) {
        results.topicCreation.push(
          await measureTopicCreation(
            cluster,
            { nodeId, controllerId, count, gapMs, namePrefix: `create-${pacing}-${target}` },
            progress,
          ),
        );
      }
    }
    return results;
  } finally {
    progress.clear();
    await cluster.destroy();
    process.off("SIGINT", destroyOnInterrupt);
  }
}

async function main(): Promise<number> {
  const options = parseOptions();
  const timing = options.quick ? quickTiming : fullTiming;
  const progress = new Progress();

  let limits: {
    fdatasync: FdatasyncResult;
    sequential: ThroughputResult;
    loopback: ThroughputResult;
  } | null = null;
  let single: { throughput: ProduceResult[]; unloaded: ProduceResult[] } | null = null;
  if (!options.clusterOnly) {
    const fdatasync = measureFdatasync(timing.limitMs, progress);
    const sequential = measureSequentialWrite(timing.limitMs, timing.sequentialBytesMax, progress);
    const loopback = await measureLoopbackTcp(timing.limitMs, progress);
    limits = { fdatasync, sequential, loopback };
    single = await runSingleNode(options, timing, progress);
  }
  const cluster = await runCluster(options, timing, progress);

  const commandLine = ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])];
  const seconds = (timing.throughputMs / 1000).toString();
  const unloadedSeconds = (timing.unloadedMs / 1000).toString();
  const sections = [
    `# Chronik benchmark: \`${commandLine.join(" ")}\``,
    "",
    "## Machine",
    "",
    machineSection(),
    "",
  ];
  if (limits !== null && single !== null) {
    sections.push(
      "## Machine limits",
      "",
      machineLimitsSection(limits.fdatasync, limits.sequential, limits.loopback),
      "",
      `## Produce throughput (one node, --fsync ${options.fsync}, one partition, ${seconds} s per case)`,
      "",
      produceSection(single.throughput),
      "",
      `## Produce latency, one request at a time (one node, ${unloadedSeconds} s per case)`,
      "",
      produceSection(single.unloaded),
      "",
    );
  }
  sections.push(
    `## Topic creation (${clusterSize} nodes, --fsync ${options.fsync}, one at a time: ${timing.topicCreations} back to back per row, ${timing.spacedTopicCreations} spaced per row)`,
    "",
    requestLatencySection(cluster.topicCreation, topicCreationTarget),
    "",
    `## Metadata, one request at a time (${clusterSize} nodes, ${timing.metadataMs / 1000} s per row)`,
    "",
    requestLatencySection(cluster.metadata, metadataTarget),
    "",
    `## Produce throughput, acks=all, replication factor 3 (${clusterSize} nodes, one partition, ${seconds} s per case)`,
    "",
    produceSection(cluster.throughput),
    "",
    `## Produce latency, acks=all, replication factor 3, one request at a time (${unloadedSeconds} s per case)`,
    "",
    produceSection(cluster.unloaded),
    "",
  );
  if (single !== null) {
    sections.push(
      "## Produce acks=all: one node beside three (replication factor 3)",
      "",
      comparisonSection(
        [...single.throughput, ...single.unloaded].filter((result) => result.testCase.acks === -1),
        [...cluster.throughput, ...cluster.unloaded],
      ),
      "",
    );
  }
  sections.push(
    `## Failover: kill -9 of a partition leader under acks=all produce (${timing.failoverRuns} run(s) of each kind)`,
    "",
    failoverSection(cluster.failover, failoverTargetMs),
    "",
    `MB are 10^6 bytes of record values; latency is send to response per request; CPU is percent of one core (the machine has ${os.availableParallelism()}); on the cluster, broker CPU is the partition leader's and followers CPU the other two nodes' together; other CPU is everything else on the machine, kernel network work included.`,
    "",
  );
  process.stdout.write(sections.join("\n"));

  const failures = [
    ...(single === null ? [] : [...single.throughput, ...single.unloaded]),
    ...cluster.throughput,
    ...cluster.unloaded,
    ...cluster.topicCreation,
    ...cluster.metadata,
    ...cluster.failover,
  ].filter((result) => result.failure !== null);
  if (failures.length > 0) {
    process.stderr.write(`bench: ${failures.length} case(s) failed; their rows say why\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`\nbench: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
