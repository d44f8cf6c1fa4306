/**
 * Replaying traced transitions with the machines themselves: each transition
 * line's `before` snapshot is resolved in the pure machine from machines/,
 * the line's event is given to xstate's `transition()`, and the result must be
 * the `after` the node logged. That is what shows the runtime ran the machine
 * and nothing else: no step the machine would not take, no state it would not
 * reach, no context field changed behind its back.
 *
 * Consecutive lines of one actor must also join up (one's `after` is the
 * next one's `before`), so nothing changed an actor between its steps. The
 * partition lifecycle is the exception by design: the controller makes its
 * snapshots from the applied image before each decision
 * (impl/controller/partition-lifecycles.ts), so only each step is replayed.
 */
import { type AnyMachineSnapshot, initialTransition, transition } from "xstate";
import type { TracedSnapshot, TransitionLine } from "../../impl/trace/trace-lines.ts";
import { findMachine, type MachineName } from "../../machines/registry.ts";
import { canonicalize } from "../../spec/checker/serialize.ts";

/** Machines whose runtime is one long-lived actor per instance, so its steps must join up. */
const actorMachines: ReadonlySet<MachineName> = new Set(["raft-quorum", "isr", "consumer-group"]);

export function joinsUp(machine: MachineName): boolean {
  return actorMachines.has(machine);
}

function comparable(snapshot: TracedSnapshot): string {
  return canonicalize({ value: snapshot.value, context: snapshot.context, status: snapshot.status });
}

function tracedOf(snapshot: AnyMachineSnapshot): TracedSnapshot {
  return { value: snapshot.value, context: snapshot.context, status: snapshot.status };
}

/** The snapshot `machineName` reaches from `before` (null: from its input) on `event`, as the trace would hold it. */
export function replay(
  machineName: MachineName,
  before: TracedSnapshot | null,
  event: TransitionLine["event"],
): TracedSnapshot {
  const registered = findMachine(machineName);
  if (registered === undefined) throw new Error(`unknown machine ${machineName}`);
  const machine = registered.machine;
  if (before === null) {
    if (event.type !== "xstate.init") throw new Error(`a first step must be xstate.init, not ${event.type}`);
    return tracedOf(initialTransition(machine, event.input)[0] as AnyMachineSnapshot);
  }
  const resolved = machine.resolveState({ value: before.value as never, context: before.context as never });
  const snapshot = before.status === "done" ? { ...resolved, status: "done" as const } : resolved;
  return tracedOf(transition(machine, snapshot as never, event as never)[0] as AnyMachineSnapshot);
}

/** What differs between two snapshots: the state value, the status, or the names of context fields. */
export function differences(expected: TracedSnapshot, actual: TracedSnapshot): string[] {
  const found: string[] = [];
  if (canonicalize(expected.value) !== canonicalize(actual.value)) {
    found.push(`state ${JSON.stringify(expected.value)} vs ${JSON.stringify(actual.value)}`);
  }
  if (expected.status !== actual.status) found.push(`status ${expected.status} vs ${actual.status}`);
  const expectedContext = (expected.context ?? {}) as Record<string, unknown>;
  const actualContext = (actual.context ?? {}) as Record<string, unknown>;
  for (const field of new Set([...Object.keys(expectedContext), ...Object.keys(actualContext)])) {
    if (canonicalize(expectedContext[field]) !== canonicalize(actualContext[field])) {
      found.push(
        `context.${field} ${JSON.stringify(expectedContext[field])} vs ${JSON.stringify(actualContext[field])}`,
      );
    }
  }
  return found;
}

/**
 * Equal snapshots, whatever order their keys are in. Plain JSON first: the
 * runtime and the replay build contexts with the same code, so their keys
 * almost always come in the same order, and the canonical form (sorted keys,
 * much slower on large contexts) is only needed to confirm a difference.
 */
export function sameSnapshot(a: TracedSnapshot, b: TracedSnapshot): boolean {
  const plain = (snapshot: TracedSnapshot) =>
    JSON.stringify({ value: snapshot.value, context: snapshot.context, status: snapshot.status });
  return plain(a) === plain(b) || comparable(a) === comparable(b);
}
