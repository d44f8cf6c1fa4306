/**
 * A real broker process for tests: `bin/chronik start` on a free port with a
 * data directory of its own, ready once it logs "broker started". Tests stop
 * it with SIGTERM or kill it with SIGKILL and start it again on the same data.
 * It may listen on another host than loopback and be started through a
 * launcher (`ip netns exec NS`, which execs it, so the pid stays the broker's).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const chronikBin = path.join(projectRoot, "bin/chronik");
const startTimeoutMs = 30_000;
/** Log lines kept in memory when they also go to a file: a long run must not grow without limit. */
const logLinesKeptMax = 10_000;

export interface BrokerProcess {
  port: number;
  /** "HOST:PORT", 127.0.0.1 unless started with another host */
  address: string;
  dataDir: string;
  child: ChildProcess;
  /** Every log line the broker wrote, parsed. */
  logLines: Array<Record<string, unknown>>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no flush, no close. */
  kill(): Promise<void>;
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "chronik-test-"));
}

export async function removeDataDir(dataDir: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Starts a broker; `port` 0 picks a free one, a fixed port restarts on the same address. */
export async function startBroker(options: {
  dataDir: string;
  port?: number;
  args?: string[];
  /** Where it listens and what it advertises; 127.0.0.1 by default. */
  host?: string;
  /** A command that runs the broker, e.g. ["ip", "netns", "exec", "NS"]; it must exec it. */
  launcher?: string[];
  /** Appends every log line to this file; only the latest lines then stay in `logLines`. */
  logFile?: string;
}): Promise<BrokerProcess> {
  const host = options.host ?? "127.0.0.1";
  const command = [
    ...(options.launcher ?? []),
    process.execPath,
    chronikBin,
    "start",
    "--listen",
    `${host}:${options.port ?? 0}`,
    "--data-dir",
    options.dataDir,
    ...(options.args ?? []),
  ];
  const child = spawn(command[0]!, command.slice(1), {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, CHRONIK_LOG_LEVEL: "info" },
  });
  const logFile = options.logFile === undefined ? null : createWriteStream(options.logFile, { flags: "a" });
  if (logFile !== null) child.once("close", () => logFile.end());
  const logLines: Array<Record<string, unknown>> = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A broker that never got going must not linger, holding its data directory's lock.
      child.kill("SIGKILL");
      reject(new Error("broker did not start within 30 s"));
    }, startTimeoutMs);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = { msg: line };
      }
      logFile?.write(`${line}\n`);
      if (logFile !== null && logLines.length >= logLinesKeptMax) logLines.splice(0, logLinesKeptMax / 2);
      logLines.push(parsed);
      if (parsed.msg === "broker started") {
        clearTimeout(timer);
        resolve(Number(String(parsed.listen).split(":").at(-1)));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`broker exited with ${code} before starting: ${logLines.map((l) => l.msg).join(" | ")}`),
      );
    });
  });
  return {
    port,
    address: `${host}:${port}`,
    dataDir: options.dataDir,
    child,
    logLines,
    async stop() {
      child.kill("SIGTERM");
      return exited(child);
    },
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
  };
}
