/**
 * The campaign's one use of machine traces: each node records its
 * transitions with `--trace <runDir>/node-<id>.trace.ndjson`, and at the end
 * `chronik trace check` must accept all of them.
 */
import { execFile } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { chronikBin } from "../support/broker-process.ts";

/** A long campaign's traces hold millions of steps; the checker replays some thousands a second. */
const checkTimeoutMs = 3_600_000;
/** The checker's output kept for the report. */
const outputKeptBytes = 4_000;

export function traceFileOf(runDirectory: string, nodeId: number): string {
  return path.join(runDirectory, `node-${nodeId}.trace.ndjson`);
}

/** The flags a node starts with for tracing. */
export function traceArgs(runDirectory: string, nodeId: number): string[] {
  return ["--trace", traceFileOf(runDirectory, nodeId)];
}

export interface TraceVerdict {
  ok: boolean;
  output: string;
}

/** `chronik trace check <runDir>/node-*.trace.ndjson`, which must exit 0; its output goes to <runDir>/trace-check.txt. */
export async function checkTraces(runDirectory: string): Promise<TraceVerdict> {
  const files = (await readdir(runDirectory))
    .filter((name) => /^node-\d+\.trace\.ndjson$/.test(name))
    .sort()
    .map((name) => path.join(runDirectory, name));
  if (files.length === 0) return { ok: false, output: "no trace files were written" };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [chronikBin, "trace", "check", ...files],
      { timeout: checkTimeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        const verdict = { ok: error === null, output: output.slice(-outputKeptBytes) };
        writeFile(path.join(runDirectory, "trace-check.txt"), `${output}\n`).then(
          () => resolve(verdict),
          () => resolve(verdict),
        );
      },
    );
  });
}
