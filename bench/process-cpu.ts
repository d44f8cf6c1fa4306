/**
 * CPU time of the broker process, of the benchmark itself and of everything
 * else on the machine, so each case can say whether a process was saturating
 * a core (the machine has two, and the client shares them with the broker)
 * and whether something unrelated was competing for them.
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

/** CPU seconds all cores spent busy (anything but idle and I/O wait), from /proc/stat; NaN elsewhere. */
function machineBusySeconds(): number {
  try {
    const fields = readFileSync("/proc/stat", "utf8")
      .split("\n")[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

export interface CpuSample {
  atMs: number;
  brokerSeconds: number;
  /** The other nodes of a cluster together (the followers of the partition written to); 0 with one node. */
  followersSeconds: number;
  benchSeconds: number;
  machineSeconds: number;
}

export function sampleCpu(brokerPid: number, followerPids: readonly number[] = []): CpuSample {
  const own = process.cpuUsage();
  return {
    atMs: performance.now(),
    brokerSeconds: processCpuSeconds(brokerPid),
    followersSeconds: followerPids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
    benchSeconds: (own.user + own.system) / 1e6,
    machineSeconds: machineBusySeconds(),
  };
}

/** Share of one core each process (the followers together) used between two samples, in percent. */
export function cpuPercent(
  start: CpuSample,
  end: CpuSample,
): { broker: number; followers: number; bench: number; other: number } {
  const wallSeconds = (end.atMs - start.atMs) / 1000;
  const percent = (seconds: number) => (seconds / wallSeconds) * 100;
  const broker = percent(end.brokerSeconds - start.brokerSeconds);
  const followers = percent(end.followersSeconds - start.followersSeconds);
  const bench = percent(end.benchSeconds - start.benchSeconds);
  // Kernel work done on the processes' behalf outside their own accounting (softirq) lands here too.
  const other = Math.max(0, percent(end.machineSeconds - start.machineSeconds) - broker - followers - bench);
  return { broker, followers, bench, other };
}
