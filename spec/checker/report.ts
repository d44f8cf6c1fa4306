/**
 * Human-readable output of a search: a violation as a protocol transcript,
 * one line per step (step number, action label, what changed), and a one-line
 * summary of the exploration.
 */
import type { Model } from "./model.ts";
import type { SearchResult, Violation } from "./search.ts";
import { canonicalize } from "./serialize.ts";

/** The violation as a transcript: a heading, then one line per step. */
export function formatViolation<S>(model: Model<S>, violation: Violation<S>): string {
  const heading =
    `Invariant ${violation.invariant} violated after ${violation.path.length - 1} steps` +
    (violation.message ? `: ${violation.message}` : "");
  const views = violation.path.map((step) => (model.describe ? model.describe(step.state) : step.state));
  const labelWidth = Math.max(...violation.path.map((step) => step.label.length));
  const numberWidth = String(violation.path.length - 1).length;
  const lines = violation.path.map((step, i) => {
    const changes = i === 0 ? render(views[0]) : changed(views[i - 1], views[i]);
    return `  ${String(i).padStart(numberWidth)}  ${step.label.padEnd(labelWidth)}  ${changes}`;
  });
  const script =
    typeof model.prelude === "function" ? model.prelude(violation.path[0]!.state) : (model.prelude ?? []);
  const prelude =
    script.length === 0 ? [] : [`  Step 0 is reached from a fresh start by: ${script.join("; ")}`];
  return [heading, ...prelude, ...lines].join("\n");
}

/** One line: outcome, counts, time, rate, and the sometimes properties. */
export function formatSummary(name: string, result: SearchResult<unknown>): string {
  const { stats } = result;
  const outcome =
    result.outcome === "violated"
      ? `VIOLATED ${result.violation?.invariant}`
      : result.outcome === "bound-reached"
        ? `no violation (${result.boundsHit.join(" and ")} bound reached)`
        : "no violation (state space exhausted)";
  const reached = result.sometimes.length - result.unreached.length;
  const sometimes =
    result.unreached.length === 0
      ? `sometimes ${reached}/${result.sometimes.length} reached`
      : `sometimes ${reached}/${result.sometimes.length} reached, NEVER: ${result.unreached.join(", ")}`;
  return (
    `${name}: ${outcome}; ${stats.distinctStates} distinct states, ${stats.transitions} transitions, ` +
    `depth ${stats.maxDepth}, ${(stats.elapsedMs / 1000).toFixed(2)} s, ${stats.statesPerSecond} states/s; ` +
    sometimes
  );
}

type View = string | Record<string, unknown> | unknown;

function render(view: View): string {
  if (typeof view === "string") return view;
  const leaves = flatten(view);
  return [...leaves].map(([path, value]) => `${path}=${value}`).join(" ") || "(empty)";
}

function changed(before: View, after: View): string {
  if (typeof after === "string" || typeof before === "string") {
    return before === after ? "(no visible change)" : render(after);
  }
  const old = flatten(before);
  const now = flatten(after);
  const parts: string[] = [];
  for (const [path, value] of now) {
    const previous = old.get(path);
    if (previous === undefined) parts.push(`${path}: +${value}`);
    else if (previous !== value) parts.push(`${path}: ${previous} → ${value}`);
  }
  for (const [path, value] of old) if (!now.has(path)) parts.push(`${path}: -${value}`);
  return parts.join(", ") || "(no visible change)";
}

/** Leaves of plain data by path (`a.b[2].c`), each serialized canonically. */
function flatten(value: unknown, path = "", into = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((item, i) => {
      flatten(item, `${path}[${i}]`, into);
    });
  } else if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const key of Object.keys(value).sort()) {
      if (value[key] !== undefined) flatten(value[key], path ? `${path}.${key}` : key, into);
    }
  } else {
    into.set(path || "state", typeof value === "string" ? value : canonicalize(value));
  }
  return into;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
