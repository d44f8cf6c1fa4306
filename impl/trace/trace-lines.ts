/**
 * The lines of a transition trace (`chronik start --trace FILE`), one JSON
 * object per line. The trace checker (`chronik trace check`) reads them back:
 * every transition line carries the machine's whole snapshot before and after
 * the event, so each line can be replayed with xstate's `transition()` on its
 * own, and consecutive lines of one instance must join up (one's `after` is the
 * next one's `before`).
 *
 * `atMs` is wall-clock milliseconds with a fraction (performance.timeOrigin +
 * performance.now()): the checker merges the nodes' traces by it, which is
 * meaningful because the nodes it is used for share one machine's clock.
 */
import type { MachineName } from "../../machines/registry.ts";

export interface TracedSnapshot {
  value: unknown;
  context: unknown;
  /** "active", or "done" for a machine that reached its final state. */
  status: string;
}

/** A node process started writing to the trace: whatever an earlier incarnation held is gone. */
export interface StartLine {
  kind: "start";
  node: number;
  atMs: number;
  pid: number;
}

/**
 * One step of one machine instance. `before` is null for the initial step
 * (`xstate.init`, with the input), and left out when it is the `after` of the
 * instance's previous line in the same file, which halves an actor's trace.
 */
export interface TransitionLine {
  kind: "transition";
  node: number;
  atMs: number;
  machine: MachineName;
  instance: string;
  event: { type: string; [field: string]: unknown };
  before?: TracedSnapshot | null;
  after: TracedSnapshot;
}

/** The runtime dropped an instance (a leader resigned, a coordinator moved, the node shut down). */
export interface StoppedLine {
  kind: "stopped";
  node: number;
  atMs: number;
  machine: MachineName;
  instance: string;
}

/** A partition as an applied metadata record left it in the node's image. */
export interface AppliedPartition {
  /** `${topicId}:${partitionId}`, the name partition machines are traced under. */
  instance: string;
  leader: number;
  isr: number[];
  replicas: number[];
  leaderEpoch: number;
  partitionEpoch: number;
}

/** A committed metadata log entry the node applied to its image, summarized. */
export interface AppliedLine {
  kind: "applied";
  node: number;
  atMs: number;
  offset: number;
  epoch: number;
  /** The record type and its key fields, comparable between nodes. */
  record: string;
  /** Set on a voters entry: the voter set it installs, sorted. */
  voters?: number[];
  /** Set when the record created or changed a partition. */
  partition?: AppliedPartition;
}

/** Lines the writer had to drop (its buffer was full or the file failed): instances do not join up across it. */
export interface GapLine {
  kind: "gap";
  node: number;
  atMs: number;
  dropped: number;
}

export type TraceLine = StartLine | TransitionLine | StoppedLine | AppliedLine | GapLine;

/** The name partition machines (lifecycle on the controller, ISR on the leader) are traced under. */
export function partitionInstance(topicId: string, partitionId: number): string {
  return `${topicId}:${partitionId}`;
}
