/**
 * Reading transition traces back, one line at a time (a long run's traces are
 * larger than memory would hold parsed): each file streamed, and the nodes'
 * files merged into one history ordered by time. A node killed with -9 may
 * leave its last line half written; that line, and only a last one, is
 * skipped and reported rather than failing the whole file.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { TraceLine } from "../../impl/trace/trace-lines.ts";

/** A line with where it came from, so a violation can point at it. */
export interface LocatedLine {
  line: TraceLine;
  file: string;
  lineNumber: number;
}

const traceLineKinds = new Set(["start", "transition", "stopped", "applied", "gap"]);

export class TraceFormatError extends Error {}

function parse(row: string, where: string): TraceLine | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row);
  } catch {
    return null;
  }
  const kind = (parsed as { kind?: unknown }).kind;
  if (typeof kind !== "string" || !traceLineKinds.has(kind)) {
    throw new TraceFormatError(`${where}: not a trace line (kind ${JSON.stringify(kind)})`);
  }
  return parsed as TraceLine;
}

/** One file's lines in order; `onTorn` hears of a half-written last line. */
export async function* traceFileLines(
  file: string,
  onTorn: (where: string) => void,
): AsyncGenerator<LocatedLine> {
  const rows = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  // One row of lookahead: an unparsable row is forgiven only when no row follows it.
  let held: { row: string; lineNumber: number } | null = null;
  let lineNumber = 0;
  for await (const row of rows) {
    lineNumber++;
    if (held !== null) {
      const where = `${file}:${held.lineNumber}`;
      const line = parse(held.row, where);
      if (line === null) throw new TraceFormatError(`${where}: not a JSON line`);
      yield { line, file, lineNumber: held.lineNumber };
    }
    held = row === "" ? null : { row, lineNumber };
  }
  if (held !== null) {
    const where = `${file}:${held.lineNumber}`;
    const line = parse(held.row, where);
    if (line === null) onTorn(where);
    else yield { line, file, lineNumber: held.lineNumber };
  }
}

/**
 * Every file's lines in one history, by time: a merge of the files, each of
 * which is already in time order (a process's clock readings never go back,
 * and a restarted node appends after its earlier incarnation). Ties go to the
 * lower node id, then to the file given first.
 */
export async function* mergedTraceLines(
  files: readonly string[],
  onTorn: (where: string) => void,
): AsyncGenerator<LocatedLine> {
  const sources = files.map((file) => traceFileLines(file, onTorn));
  const heads: Array<LocatedLine | null> = [];
  for (const source of sources) heads.push((await source.next()).value ?? null);
  for (;;) {
    let chosen = -1;
    for (const [index, head] of heads.entries()) {
      if (head === null) continue;
      const best = chosen < 0 ? null : heads[chosen]!;
      if (
        best === null ||
        head.line.atMs < best.line.atMs ||
        (head.line.atMs === best.line.atMs && head.line.node < best.line.node)
      ) {
        chosen = index;
      }
    }
    if (chosen < 0) return;
    yield heads[chosen]!;
    heads[chosen] = (await sources[chosen]!.next()).value ?? null;
  }
}
