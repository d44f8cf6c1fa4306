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
      const from =
        line.before === null
          ? "(initial) "
          : line.before === undefined
            ? ""
            : `${JSON.stringify(line.before.value)} `;
      return `${at} ${line.machine} ${line.instance}: ${from}--${line.event.type}--> ${JSON.stringify(line.after.value)}  [${where}]`;
    }
  }
}

/** Takes merged lines one at a time (a long run's traces are streamed, never held whole). */
export class TraceChecker {
  private readonly view = new TraceView();
  private readonly lastAfter = new Map<string, TransitionLine>();
  // What a violation shows: for a step, that instance's steps before it; for an invariant, the
  // lines that changed what the invariants read.
  private readonly recentByInstance = new Map<string, LocatedLine[]>();
  private readonly recentChanges: LocatedLine[] = [];
  private previous: ClusterView | undefined;
  /** The node whose run of applied entries awaits the invariants' check, if any. */
  private unchecked: number | null = null;
  readonly result: TraceCheckResult = {
    lines: 0,
    transitionsByMachine: {},
    statesChecked: 0,
    violations: [],
    violationsOmitted: 0,
  };

  take(located: LocatedLine): void {
    const { line } = located;
    // A node applies committed entries in runs (all of them after a restart): the invariants are
    // checked once a run ends, on the image the node then shows, not after every entry of it.
    if (this.unchecked !== null && !(line.kind === "applied" && line.node === this.unchecked)) {
      this.checkInvariants();
    }
    this.result.lines++;
    this.forgetIncarnation(line);
    if (line.kind === "transition") {
      const counts = this.result.transitionsByMachine;
      counts[line.machine] = (counts[line.machine] ?? 0) + 1;
      const key = instanceKey(line);
      if (line.event.type === "xstate.init") this.recentByInstance.delete(key);
      const steps = this.recentByInstance.get(key) ?? [];
      keepRecent(steps, located);
      this.recentByInstance.set(key, steps);
      for (const problem of checkStep(located, line, this.lastAfter))
        this.report(problem.kind, problem.message, steps);
    }
    if (line.kind === "stopped")
      this.recentByInstance.delete(`${line.node}/${line.machine}/${line.instance}`);
    if (!this.view.apply(line)) return;
    keepRecent(this.recentChanges, located);
    if (line.kind === "applied") this.unchecked = line.node;
    else this.checkInvariants();
  }

  /** The end of the history: a last run of applied entries gets its check. */
  finish(): TraceCheckResult {
    if (this.unchecked !== null) this.checkInvariants();
    return this.result;
  }

  private checkInvariants(): void {
    this.unchecked = null;
    const current = this.view.view();
    this.result.statesChecked++;
    for (const invariant of tracedInvariants) {
      const message = invariant.check(current, this.previous);
      if (message !== null) this.report("invariant", `${invariant.name}: ${message}`, this.recentChanges);
    }
    this.previous = current;
  }

  private report(kind: Violation["kind"], message: string, steps: readonly LocatedLine[]): void {
    if (this.result.violations.length >= violationsShownMax) {
      this.result.violationsOmitted++;
      return;
    }
    this.result.violations.push({ kind, message, steps: steps.map(describeLine) });
  }

  /** A node that started again, or lost trace lines, has actors that begin afresh. */
  private forgetIncarnation(line: TraceLine): void {
    if (line.kind !== "start" && line.kind !== "gap") return;
    for (const [key, last] of this.lastAfter) if (last.node === line.node) this.lastAfter.delete(key);
  }
}

export function checkTrace(lines: Iterable<LocatedLine>): TraceCheckResult {
  const checker = new TraceChecker();
  for (const line of lines) checker.take(line);
  return checker.finish();
}

function keepRecent(steps: LocatedLine[], located: LocatedLine): void {
  steps.push(located);
  if (steps.length > stepsShownMax) steps.shift();
}

function instanceKey(line: TransitionLine): string {
  return `${line.node}/${line.machine}/${line.instance}`;
}

function checkStep(
  located: LocatedLine,
  line: TransitionLine,
  lastAfter: Map<string, TransitionLine>,
): Array<{ kind: Violation["kind"]; message: string }> {
  const problems: Array<{ kind: Violation["kind"]; message: string }> = [];
  const name = `node ${line.node} ${line.machine} ${line.instance}`;
  const key = instanceKey(line);
  let before = line.before;
  if (before === undefined) {
    // Left out by the writer: the step starts where this instance's previous step ended.
    const last = lastAfter.get(key);
    if (last === undefined || !joinsUp(line.machine)) {
      lastAfter.delete(key);
      return [
        {
          kind: "join",
          message: `${name}: the step at ${located.file}:${located.lineNumber} continues a step the trace does not hold`,
        },
      ];
    }
    before = last.after;
  } else if (joinsUp(line.machine)) {
    const last = lastAfter.get(key);
    if (before !== null && last !== undefined && !sameSnapshot(last.after, before)) {
      problems.push({
        kind: "join",
        message:
          `${name}: the step at ${located.file}:${located.lineNumber} does not start where its previous step ended: ` +
          differences(last.after, before).join("; "),
      });
    }
  }
  if (joinsUp(line.machine)) lastAfter.set(key, line);
  try {
    const replayed = replay(line.machine, before, line.event);
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
