/** The results as Markdown, ready to paste into docs/BENCHMARKS.md. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
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
  const table = markdownTable(
    [
      "case",
      "request",
      "msg/s",
      "MB/s",
      "p50 ms",
      "p99 ms",
      "p99.9 ms",
      "max ms",
      "broker CPU",
      "bench CPU",
      "other CPU",
    ],
    results.map((result) => {
      const name = describeCase(result.testCase);
      const request = `${figure(result.requestBytes / 1000)} kB`;
      if (result.failure !== null)
        return [name, request, `FAILED: ${result.failure}`, "", "", "", "", "", "", "", ""];
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
        `${figure(result.benchCpuPercent)} %`,
        `${figure(result.otherCpuPercent)} %`,
      ];
    }),
  );
  return table + warning;
}
