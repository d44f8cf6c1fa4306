/** The results as Markdown, ready to paste into docs/BENCHMARKS.md. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import type { RequestLatencyResult } from "./cluster.ts";
import type { FailoverResult } from "./failover.ts";
import type { FdatasyncResult, ThroughputResult } from "./machine-limits.ts";
import { describeCase, type ProduceResult } from "./produce.ts";

export function markdownTable(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Three significant digits at most, grouped by thousands: enough for figures that vary run to run. */
function figure(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function filesystemOf(directory: string): string {
  try {
    const lines = execFileSync("df", ["-PT", directory], { encoding: "utf8" }).trim().split("\n");
    const [device, type] = lines.at(-1)!.split(/\s+/);
    return `${type} on ${device}`;
  } catch {
    return "unknown";
  }
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return match?.[1] ?? os.cpus()[0]?.model ?? "unknown";
  } catch {
    return os.cpus()[0]?.model ?? "unknown";
  }
}

export function machineSection(): string {
  return markdownTable(
    ["property", "value"],
    [
      ["CPU", `${cpuModel()}, ${os.availableParallelism()} cores`],
      ["memory", `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
      ["Node", process.version],
      ["temp dir", `${os.tmpdir()} (${filesystemOf(os.tmpdir())})`],
    ],
  );
}

export function machineLimitsSection(
  fdatasync: FdatasyncResult,
  sequential: ThroughputResult,
  loopback: ThroughputResult,
): string {
  return markdownTable(
    ["measure", "result", "detail"],
    [
      [
        "append 100 B + fdatasync",
        `${figure(fdatasync.syncsPerSecond)} /s`,
        `latency p50 ${figure(fdatasync.latency.p50Ms)} ms, p99 ${figure(fdatasync.latency.p99Ms)} ms, p99.9 ${figure(fdatasync.latency.p999Ms)} ms`,
      ],
      [
        "sequential write 1 MiB + final fsync",
        `${figure(sequential.megabytesPerSecond)} MB/s`,
        `${figure(sequential.bytes / 1e6)} MB in ${figure(sequential.seconds)} s`,
      ],
      [
        "loopback TCP, one connection",
        `${figure(loopback.megabytesPerSecond)} MB/s`,
        `${figure(loopback.bytes / 1e6)} MB in ${figure(loopback.seconds)} s`,
      ],
    ],
  );
}

/** Past this, other processes took enough of the two cores that the broker's figures say little about it. */
const otherCpuPercentWarning = 20;

export function produceSection(results: ProduceResult[]): string {
  const disturbed = results.filter((result) => result.otherCpuPercent > otherCpuPercentWarning);
  const warning =
    disturbed.length === 0
      ? ""
      : `\n\n**Warning:** other processes used more than ${otherCpuPercentWarning} % of a core during ${disturbed.length} of these cases; rerun on a quiet machine before trusting them.`;
  const replicated = results.some((result) => result.followersCpuPercent !== null);
  const headers = [
    "case",
    "request",
    "msg/s",
    "MB/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "max ms",
    "broker CPU",
    ...(replicated ? ["followers CPU"] : []),
    "bench CPU",
    "other CPU",
  ];
  const table = markdownTable(
    headers,
    results.map((result) => {
      const name = describeCase(result.testCase);
      const request = `${figure(result.requestBytes / 1000)} kB`;
      if (result.failure !== null) {
        return [name, request, `FAILED: ${result.failure}`, ...headers.slice(3).map(() => "")];
      }
      const { latency } = result;
      return [
        name,
        request,
        figure(result.messagesPerSecond),
        figure(result.megabytesPerSecond),
        figure(latency.p50Ms),
        figure(latency.p99Ms),
        figure(latency.p999Ms),
        figure(latency.maxMs),
        `${figure(result.brokerCpuPercent)} %`,
        ...(replicated ? [`${figure(result.followersCpuPercent ?? Number.NaN)} %`] : []),
        `${figure(result.benchCpuPercent)} %`,
        `${figure(result.otherCpuPercent)} %`,
      ];
    }),
  );
  return table + warning;
}

function targetVerdict(met: boolean[]): string {
  return met.every(Boolean) ? "met" : "**not met**";
}

/**
 * Request latencies against targets; a row without a target for p99 is judged
 * on p50 alone. When every row measured the cluster's CPU, a column shows it
 * per request.
 */
export function requestLatencySection(
  results: RequestLatencyResult[],
  target: { p50Ms: number; p99Ms: number | null },
): string {
  const targetText = `p50 ≤ ${target.p50Ms} ms${target.p99Ms === null ? "" : `, p99 ≤ ${target.p99Ms} ms`}`;
  const withCpu = results.every((result) => result.clusterCpuMsPerRequest !== undefined);
  return markdownTable(
    [
      "request",
      "node",
      "requests",
      "p50 ms",
      "p99 ms",
      "p99.9 ms",
      "max ms",
      ...(withCpu ? ["cluster CPU ms per request"] : []),
      "target",
      "met",
    ],
    results.map((result) => {
      const node = `${result.nodeId}${result.controller ? " (controller)" : ""}`;
      const { latency } = result;
      const figures = [
        String(latency.count),
        figure(latency.p50Ms),
        figure(latency.p99Ms),
        figure(latency.p999Ms),
        figure(latency.maxMs),
        ...(withCpu ? [figure(result.clusterCpuMsPerRequest!)] : []),
      ];
      if (result.failure !== null) {
        return [result.label, node, ...figures, targetText, `FAILED: ${result.failure}`];
      }
      const met = [
        latency.p50Ms <= target.p50Ms,
        ...(target.p99Ms === null ? [] : [latency.p99Ms <= target.p99Ms]),
      ];
      return [result.label, node, ...figures, targetText, targetVerdict(met)];
    }),
  );
}

/** The same acks=all case shapes against one node and against the leader of three replicas. */
export function comparisonSection(single: ProduceResult[], replicated: ProduceResult[]): string {
  const rows = single.flatMap((one) => {
    const three = replicated.find((result) => describeCase(result.testCase) === describeCase(one.testCase));
    if (three === undefined) return [];
    const cell = (result: ProduceResult, value: number) =>
      result.failure === null ? figure(value) : "failed";
    return [
      [
        describeCase(one.testCase),
        cell(one, one.messagesPerSecond),
        cell(three, three.messagesPerSecond),
        cell(one, one.latency.p50Ms),
        cell(three, three.latency.p50Ms),
        cell(one, one.latency.p99Ms),
        cell(three, three.latency.p99Ms),
      ],
    ];
  });
  return markdownTable(
    [
      "case",
      "1 node msg/s",
      "3 nodes msg/s",
      "1 node p50 ms",
      "3 nodes p50 ms",
      "1 node p99 ms",
      "3 nodes p99 ms",
    ],
    rows,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const failoverKindNames: Record<FailoverResult["kind"], string> = {
  leader: "leader, not the controller",
  "controller-and-leader": "controller and leader",
};

/** Each run, then the median of each kind against the target. */
export function failoverSection(results: FailoverResult[], targetMs: number): string {
  const milliseconds = (value: number | null) => (value === null ? "n/a" : figure(value));
  const runs = markdownTable(
    [
      "killed",
      "node",
      "new leader",
      "kill → acks=all produce ms",
      "kill → metadata names new leader ms",
      "kill → raft leader elected ms",
      "kill → node fenced ms",
      "kill → partition leader changed ms",
      "failed attempts",
      "restart → back in ISR ms",
    ],
    results.map((result) => [
      failoverKindNames[result.kind],
      String(result.killedNodeId),
      result.newLeaderId === null ? "none" : String(result.newLeaderId),
      result.failure === null ? milliseconds(result.failoverMs) : `FAILED: ${result.failure}`,
      milliseconds(result.leaderKnownMs),
      result.kind === "leader" ? "" : milliseconds(result.electedMs),
      milliseconds(result.fencedMs),
      milliseconds(result.leaderChangedMs),
      Object.entries(result.failedAttempts)
        .map(([cause, count]) => `${count} ${cause}`)
        .join(", ") || "0",
      milliseconds(result.rejoinMs),
    ]),
  );
  const kinds = [...new Set(results.map((result) => result.kind))];
  const summary = markdownTable(
    ["killed", "runs", "median ms", "min ms", "max ms", "target", "met"],
    kinds.map((kind) => {
      const ofKind = results.filter((result) => result.kind === kind);
      const times = ofKind.flatMap((result) => (result.failoverMs === null ? [] : [result.failoverMs]));
      const failed = ofKind.length - times.length;
      if (times.length === 0) {
        return [
          failoverKindNames[kind],
          String(ofKind.length),
          "n/a",
          "n/a",
          "n/a",
          `< ${targetMs} ms`,
          "**not met** (every run failed)",
        ];
      }
      const middle = median(times);
      return [
        failoverKindNames[kind],
        `${ofKind.length}${failed > 0 ? ` (${failed} failed)` : ""}`,
        figure(middle),
        figure(Math.min(...times)),
        figure(Math.max(...times)),
        `< ${targetMs} ms`,
        targetVerdict([middle < targetMs, failed === 0]),
      ];
    }),
  );
  return `${runs}\n\n${summary}`;
}
