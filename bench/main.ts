/**
 * `npm run bench [-- --quick] [-- --fsync always|interval|never]`: measures
 * this machine's own limits, then starts one broker on a free port with a
 * temporary data directory and measures produce throughput and latency
 * against it. Progress goes to stderr; the results go to stdout as Markdown.
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
import { measureFdatasync, measureLoopbackTcp, measureSequentialWrite } from "./machine-limits.ts";
import {
  createTopic,
  describeCase,
  type ProduceCase,
  type ProduceResult,
  runProduceCase,
} from "./produce.ts";
import { Progress } from "./progress.ts";
import { machineLimitsSection, machineSection, produceSection } from "./report.ts";

interface Timing {
  limitMs: number;
  sequentialBytesMax: number;
  warmupMs: number;
  throughputMs: number;
  unloadedMs: number;
}

// The full run stays under three minutes on a two-core machine; --quick is for checking that it works.
const fullTiming: Timing = {
  limitMs: 5000,
  sequentialBytesMax: 2 * 2 ** 30,
  warmupMs: 2000,
  throughputMs: 15_000,
  unloadedMs: 5000,
};
const quickTiming: Timing = {
  limitMs: 1000,
  sequentialBytesMax: 256 * 2 ** 20,
  warmupMs: 300,
  throughputMs: 2000,
  unloadedMs: 1000,
};

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

const usage = `usage: npm run bench -- [--quick] [--fsync always|interval|never]
  --quick   short runs (about 20 s in all), to check that the benchmark works
  --fsync   the broker's fsync policy (default always, the broker's default)`;

function parseOptions(): { quick: boolean; fsync: string } {
  let values: { quick: boolean; fsync: string; help: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: "boolean", default: false },
        fsync: { type: "string", default: "always" },
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
  return { quick: values.quick, fsync: values.fsync };
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

async function main(): Promise<number> {
  const options = parseOptions();
  const timing = options.quick ? quickTiming : fullTiming;
  const progress = new Progress();

  const fdatasync = measureFdatasync(timing.limitMs, progress);
  const sequential = measureSequentialWrite(timing.limitMs, timing.sequentialBytesMax, progress);
  const loopback = await measureLoopbackTcp(timing.limitMs, progress);

  progress.update("starting the broker", true);
  const dataDir = await makeDataDir();
  const removeOnInterrupt = () => {
    void removeDataDir(dataDir).finally(() => process.exit(130));
  };
  process.once("SIGINT", removeOnInterrupt);
  let broker: BrokerProcess | null = null;
  let results: Awaited<ReturnType<typeof runProduceCases>>;
  try {
    broker = await startBroker({ dataDir, args: ["--fsync", options.fsync] });
    results = await runProduceCases(broker, timing, progress);
  } finally {
    progress.clear();
    await broker?.stop();
    await removeDataDir(dataDir);
    process.off("SIGINT", removeOnInterrupt);
  }

  const commandLine = ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])];
  const seconds = (timing.throughputMs / 1000).toString();
  process.stdout.write(
    [
      `# Chronik benchmark: \`${commandLine.join(" ")}\``,
      "",
      "## Machine",
      "",
      machineSection(),
      "",
      "## Machine limits",
      "",
      machineLimitsSection(fdatasync, sequential, loopback),
      "",
      `## Produce throughput (one node, --fsync ${options.fsync}, one partition, ${seconds} s per case)`,
      "",
      produceSection(results.throughput),
      "",
      `## Produce latency, one request at a time (${timing.unloadedMs / 1000} s per case)`,
      "",
      produceSection(results.unloaded),
      "",
      `MB are 10^6 bytes of record values; latency is send to response per request; CPU is percent of one core (the machine has ${os.availableParallelism()}); other CPU is everything else on the machine, kernel network work included.`,
      "",
    ].join("\n"),
  );
  const failed = [...results.throughput, ...results.unloaded].filter((result) => result.failure !== null);
  if (failed.length > 0) {
    process.stderr.write(`bench: ${failed.length} case(s) failed; their rows say why\n`);
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
