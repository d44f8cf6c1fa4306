/**
 * The writer behind `chronik start --trace FILE`: machine transitions and
 * applied metadata as NDJSON lines (trace-lines.ts), appended to FILE.
 *
 * Lines are buffered and written by a timer with synchronous writes, so they
 * reach the file in the order they happened and a process killed with -9 loses
 * at most the last flush interval. The buffer is bounded: when it is full (the
 * disk is slower than the machines) lines are dropped and counted, and a gap
 * line tells the checker where the trace has a hole. A write error stops the
 * trace (logged once) but never the broker.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { InspectionEvent, Snapshot } from "xstate";
import type { MachineName } from "../../machines/registry.ts";
import type { Logger } from "../log.ts";
import type { AppliedLine, TracedSnapshot, TraceLine, TransitionLine } from "./trace-lines.ts";

const flushIntervalMs = 50;
/** Pending bytes that make a push flush at once rather than wait for the timer. */
const flushBytesSoon = 1 << 20;
/** Pending bytes beyond which lines are dropped. */
const pendingBytesMax = 16 << 20;

export function traceClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export class TransitionTrace {
  private pending: string[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private failed = false;
  /**
   * Actor instances ("machine/instance") whose previous step is in the file:
   * their next step can leave out its `before`. Emptied when lines are dropped.
   */
  private readonly chained = new Set<string>();
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly fd: number,
    private readonly file: string,
    readonly nodeId: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => this.flush(), flushIntervalMs);
    this.timer.unref();
    this.push({ kind: "start", node: nodeId, atMs: traceClockMs(), pid: process.pid });
  }

  /** Opens FILE for appending: a restarted node continues the same file after a start line. */
  static open(file: string, nodeId: number, logger: Logger): TransitionTrace {
    return new TransitionTrace(openSync(file, "a"), file, nodeId, logger);
  }

  transition(line: Omit<TransitionLine, "kind" | "node" | "atMs">): void {
    this.push({ kind: "transition", node: this.nodeId, atMs: traceClockMs(), ...line });
  }

  /** An actor's step from the snapshot its previous step reached: `before` is written only when that step is not in the file. */
  private actorStep(line: Omit<TransitionLine, "kind" | "node" | "atMs">): void {
    const key = `${line.machine}/${line.instance}`;
    const { before, ...rest } = line;
    const chained = before !== null && this.chained.has(key);
    const written = this.push({
      kind: "transition",
      node: this.nodeId,
      atMs: traceClockMs(),
      ...(chained ? rest : line),
    });
    if (written) this.chained.add(key);
  }

  stopped(machine: MachineName, instance: string): void {
    this.chained.delete(`${machine}/${instance}`);
    this.push({ kind: "stopped", node: this.nodeId, atMs: traceClockMs(), machine, instance });
  }

  applied(line: Omit<AppliedLine, "kind" | "node" | "atMs">): void {
    this.push({ kind: "applied", node: this.nodeId, atMs: traceClockMs(), ...line });
  }

  /**
   * The `inspect` option for an actor running `machine`: each snapshot the
   * actor reports becomes a transition line from the one before it.
   */
  inspector(machine: MachineName, instance: string): (inspection: InspectionEvent) => void {
    let before: TracedSnapshot | null = null;
    return (inspection) => {
      if (inspection.type !== "@xstate.snapshot") return;
      const after = tracedSnapshot(inspection.snapshot);
      if (after === null) return;
      this.actorStep({ machine, instance, event: inspection.event, before, after });
      before = after;
    };
  }

  /** Writes what is pending and closes the file. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.timer);
    this.flush();
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch (error) {
      this.logger.warn({ err: error, file: this.file }, "closing the trace file failed");
    }
  }

  /** Queues one line; false when it was dropped. */
  private push(line: TraceLine): boolean {
    if (this.closed || this.failed) return false;
    const text = `${JSON.stringify(line)}\n`;
    if (this.pendingBytes + text.length > pendingBytesMax) {
      this.dropped++;
      this.chained.clear();
      return false;
    }
    if (this.dropped > 0) {
      const gap = JSON.stringify({
        kind: "gap",
        node: this.nodeId,
        atMs: traceClockMs(),
        dropped: this.dropped,
      });
      this.logger.warn(
        { dropped: this.dropped, file: this.file },
        "trace lines dropped: the trace file falls behind",
      );
      this.dropped = 0;
      this.pending.push(`${gap}\n`);
    }
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= flushBytesSoon) this.flush();
    return true;
  }

  private flush(): void {
    if (this.pending.length === 0 || this.failed || this.closed) return;
    const text = this.pending.join("");
    this.pending = [];
    this.pendingBytes = 0;
    try {
      writeSync(this.fd, text);
    } catch (error) {
      this.failed = true;
      this.chained.clear();
      this.logger.error({ err: error, file: this.file }, "writing the trace failed; tracing stopped");
    }
  }
}

/** A snapshot as the trace keeps it; null for one that is not a machine's (stopped, errored). */
export function tracedSnapshot(snapshot: Snapshot<unknown>): TracedSnapshot | null {
  if (snapshot.status !== "active" && snapshot.status !== "done") return null;
  const { value, context } = snapshot as Snapshot<unknown> & { value: unknown; context: unknown };
  return { value, context, status: snapshot.status };
}
