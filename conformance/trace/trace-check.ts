/**
 * The trace checker: merged traces of a cluster's nodes, every transition
 * replayed with the machine (replay.ts), and the cluster-wide invariants of
 * spec/ checked on the history the traces show (trace-view.ts) after every
 * line that changes what they read.
 *
 * Traces hold machine snapshots and applied metadata, not record contents, so
 * the invariants that compare records (LogMatching, LeaderCompleteness,
 * HighWatermarkValid, NoAckedRecordLost) are not checked here; the fault
 * campaign checks what they promise from the partitions' logs and the
 * producers' acknowledgements.
 */
import type { TraceLine, TransitionLine } from "../../impl/trace/trace-lines.ts";
import {
  type ClusterView,
  ElectionSafety,
  EpochsMonotonic,
  type Invariant,
  IsrSubsetOfReplicas,
  LeaderInIsr,
  MetadataBeforeData,
  MetadataLogMatching,
  OneMembershipChangeAtATime,
} from "../../spec/invariants/index.ts";
import { differences, joinsUp, replay, sameSnapshot } from "./replay.ts";
import type { LocatedLine } from "./trace-files.ts";
import { TraceView } from "./trace-view.ts";

export const tracedInvariants: readonly Invariant[] = [
  ElectionSafety,
  MetadataLogMatching,
  OneMembershipChangeAtATime,
  LeaderInIsr,
  IsrSubsetOfReplicas,
  MetadataBeforeData,
  EpochsMonotonic,
];

export const untracedInvariants = [
  "LogMatching",
  "LeaderCompleteness",
  "HighWatermarkValid",
  "NoAckedRecordLost",
];

/** How many of the lines before a violation it prints. */
const stepsShownMax = 12;
/** Violations reported in full; the rest are counted. */
const violationsShownMax = 20;

export interface Violation {
  kind: "replay" | "join" | "invariant";
  message: string;
  /** The offending line and the steps before it, as one-line summaries. */
  steps: string[];
}

export interface TraceCheckResult {
  lines: number;
  transitionsByMachine: Record<string, number>;
  statesChecked: number;
  violations: Violation[];
  violationsOmitted: number;
}

export function describeLine(located: LocatedLine): string {
  const { line } = located;
  const where = `${located.file}:${located.lineNumber}`;
  const at = `${line.atMs.toFixed(3)} node ${line.node}`;
  switch (line.kind) {
    case "start":
      return `${at} started (pid ${line.pid})  [${where}]`;
    case "stopped":
      return `${at} ${line.machine} ${line.instance} stopped  [${where}]`;
    case "gap":
      return `${at} trace dropped ${line.dropped} lines  [${where}]`;
    case "applied":
      return `${at} applied offset ${line.offset} epoch ${line.epoch}: ${line.record.slice(0, 160)}  [${where}]`;
    case "transition": {
      const from = line.before === null ? "(initial)" : JSON.stringify(line.before.value);
      return `${at} ${line.machine} ${line.instance}: ${from} --${line.event.type}--> ${JSON.stringify(line.after.value)}  [${where}]`;
    }
  }
}

export function checkTrace(lines: readonly LocatedLine[]): TraceCheckResult {
  const view = new TraceView();
  const lastAfter = new Map<string, TransitionLine>();
  // What a violation shows: for a step, that instance's steps before it; for an invariant, the
  // lines that changed what the invariants read.
  const recentByInstance = new Map<string, LocatedLine[]>();
  const recentChanges: LocatedLine[] = [];
  const result: TraceCheckResult = {
    lines: lines.length,
    transitionsByMachine: {},
    statesChecked: 0,
    violations: [],
    violationsOmitted: 0,
  };
  const report = (kind: Violation["kind"], message: string, steps: readonly LocatedLine[]) => {
    if (result.violations.length >= violationsShownMax) {
      result.violationsOmitted++;
      return;
    }
    result.violations.push({ kind, message, steps: steps.map(describeLine) });
  };
  let previous: ClusterView | undefined;
  for (const located of lines) {
    const { line } = located;
    forgetIncarnation(line, lastAfter);
    if (line.kind === "transition") {
      result.transitionsByMachine[line.machine] = (result.transitionsByMachine[line.machine] ?? 0) + 1;
      const key = instanceKey(line);
      const steps = recentByInstance.get(key) ?? [];
      keepRecent(steps, located);
      recentByInstance.set(key, steps);
      for (const problem of checkStep(located, line, lastAfter)) report(problem.kind, problem.message, steps);
    }
    if (!view.apply(line)) continue;
    keepRecent(recentChanges, located);
    const current = view.view();
    result.statesChecked++;
    for (const invariant of tracedInvariants) {
      const message = invariant.check(current, previous);
      if (message !== null) report("invariant", `${invariant.name}: ${message}`, recentChanges);
    }
    previous = current;
  }
  return result;
}

function keepRecent(steps: LocatedLine[], located: LocatedLine): void {
  steps.push(located);
  if (steps.length > stepsShownMax) steps.shift();
}

function instanceKey(line: TransitionLine): string {
  return `${line.node}/${line.machine}/${line.instance}`;
}

/** A node that started again, or lost trace lines, has actors that begin afresh. */
function forgetIncarnation(line: TraceLine, lastAfter: Map<string, TransitionLine>): void {
  if (line.kind !== "start" && line.kind !== "gap") return;
  for (const [key, last] of lastAfter) if (last.node === line.node) lastAfter.delete(key);
}

function checkStep(
  located: LocatedLine,
  line: TransitionLine,
  lastAfter: Map<string, TransitionLine>,
): Array<{ kind: Violation["kind"]; message: string }> {
  const problems: Array<{ kind: Violation["kind"]; message: string }> = [];
  const name = `node ${line.node} ${line.machine} ${line.instance}`;
  const key = instanceKey(line);
  if (joinsUp(line.machine)) {
    const last = lastAfter.get(key);
    if (line.before !== null && last !== undefined && !sameSnapshot(last.after, line.before)) {
      problems.push({
        kind: "join",
        message:
          `${name}: the step at ${located.file}:${located.lineNumber} does not start where its previous step ended: ` +
          differences(last.after, line.before).join("; "),
      });
    }
    lastAfter.set(key, line);
  }
  try {
    const replayed = replay(line);
    if (!sameSnapshot(replayed, line.after)) {
      problems.push({
        kind: "replay",
        message:
          `${name}: ${line.event.type} led to a state the machine does not reach (logged vs machine): ` +
          differences(line.after, replayed).join("; "),
      });
    }
  } catch (error) {
    problems.push({
      kind: "replay",
      message: `${name}: ${line.event.type} could not be replayed: ${(error as Error).message}`,
    });
  }
  return problems;
}
