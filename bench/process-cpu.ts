/**
 * CPU time of the broker process and of the benchmark itself, so each case
 * can say whether a process was saturating a core (the machine has two, and
 * the client shares them with the broker).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

const ticksPerSecond = clockTicksPerSecond();

/** User plus system CPU seconds of a process, from /proc (Linux only); NaN elsewhere. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces, so fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const userTicks = Number(fields[11]);
    const systemTicks = Number(fields[12]);
    return (userTicks + systemTicks) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

export interface CpuSample {
  atMs: number;
  brokerSeconds: number;
  benchSeconds: number;
}

export function sampleCpu(brokerPid: number): CpuSample {
  const own = process.cpuUsage();
  return {
    atMs: performance.now(),
    brokerSeconds: processCpuSeconds(brokerPid),
    benchSeconds: (own.user + own.system) / 1e6,
  };
}

/** Share of one core each process used between two samples, in percent. */
export function cpuPercent(start: CpuSample, end: CpuSample): { broker: number; bench: number } {
  const wallSeconds = (end.atMs - start.atMs) / 1000;
  return {
    broker: ((end.brokerSeconds - start.brokerSeconds) / wallSeconds) * 100,
    bench: ((end.benchSeconds - start.benchSeconds) / wallSeconds) * 100,
  };
}
