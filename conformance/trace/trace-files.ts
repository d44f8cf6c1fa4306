/**
 * Reading transition traces back: each file's lines parsed, then every
 * node's lines merged into one history ordered by time. A node killed with -9
 * may leave its last line half written; that line, and only a last one, is
 * skipped and reported rather than failing the whole file.
 */
import { readFile } from "node:fs/promises";
import type { TraceLine } from "../../impl/trace/trace-lines.ts";

/** A line with where it came from, so a violation can point at it. */
export interface LocatedLine {
  line: TraceLine;
  file: string;
  lineNumber: number;
}

export interface ReadTrace {
  lines: LocatedLine[];
  /** Half-written last lines that were skipped, one per file at most. */
  tornTails: string[];
}

const traceLineKinds = new Set(["start", "transition", "stopped", "applied", "gap"]);

export class TraceFormatError extends Error {}

export async function readTraceFile(file: string): Promise<ReadTrace> {
  const text = await readFile(file, "utf8");
  const rows = text.split("\n");
  const lines: LocatedLine[] = [];
  const tornTails: string[] = [];
  for (const [index, row] of rows.entries()) {
    if (row === "") continue;
    // Only a last row without its newline can be a write the kill cut short.
    const isLast = index === rows.length - 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(row);
    } catch {
      if (isLast) {
        tornTails.push(`${file}:${index + 1}`);
        continue;
      }
      throw new TraceFormatError(`${file}:${index + 1}: not a JSON line`);
    }
    const kind = (parsed as { kind?: unknown }).kind;
    if (typeof kind !== "string" || !traceLineKinds.has(kind)) {
      throw new TraceFormatError(`${file}:${index + 1}: not a trace line (kind ${JSON.stringify(kind)})`);
    }
    lines.push({ line: parsed as TraceLine, file, lineNumber: index + 1 });
  }
  return { lines, tornTails };
}

/**
 * Every file's lines in one history, by time; lines of one file keep their
 * order (a node's own clock readings never go back, but its writes are what
 * defines its order), and ties between nodes go to the lower node id.
 */
export async function readTraces(files: readonly string[]): Promise<ReadTrace> {
  const read = await Promise.all(files.map(readTraceFile));
  const lines = read.flatMap((trace, fileIndex) =>
    trace.lines.map((located, position) => ({ located, fileIndex, position })),
  );
  lines.sort(
    (a, b) =>
      a.located.line.atMs - b.located.line.atMs ||
      a.located.line.node - b.located.line.node ||
      a.fileIndex - b.fileIndex ||
      a.position - b.position,
  );
  return { lines: lines.map((entry) => entry.located), tornTails: read.flatMap((trace) => trace.tornTails) };
}
