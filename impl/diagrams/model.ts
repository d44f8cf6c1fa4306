/**
 * A machine definition as plain data: its state nodes (walked from
 * `machine.root` in document order), its transitions (from each node's
 * `transitions` and `always`, in declaration order) and the event types it
 * accepts (sorted). Every renderer (Mermaid, DOT, JSON, the docs pages) works
 * from this one structure, so they agree with each other and their output is
 * the same byte for byte for the same machine.
 */
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from "xstate";

export type StateType = "atomic" | "compound" | "parallel" | "final" | "history";

export interface StateInfo {
  /** The state node's id, `machineId.parent.child`, unique in the machine. */
  id: string;
  /** Its key in the parent (`""` for the root). */
  key: string;
  /** Keys from the root, `[]` for the root. */
  path: string[];
  /** The parent's id, `null` for the root. */
  parent: string | null;
  type: StateType;
  description: string | null;
  /** The id of the initial child of a compound state. */
  initial: string | null;
  entry: string[];
  exit: string[];
  /** Children ids, in document order. */
  children: string[];
}

export interface TransitionInfo {
  /** `source --event#branch`, as in machines/testing/coverage.ts. */
  key: string;
  /** Id of the state node that declares the transition. */
  source: string;
  /** Event type; `""` for an eventless (`always`) transition. */
  event: string;
  /** Position among the branches the source declares for this event. */
  branch: number;
  guard: string | null;
  actions: string[];
  /** Target state ids; empty for a transition that stays where it is. */
  targets: string[];
  reenter: boolean;
  description: string | null;
}

export interface EventInfo {
  type: string;
  description: string | null;
  /** Keys of the transitions this event drives, in transition order. */
  transitions: string[];
}

export interface MachineGraph {
  id: string;
  description: string | null;
  /** Id of the root state node (the machine id). */
  root: string;
  /** Document order: each node before its children. */
  states: StateInfo[];
  /** Declaration order: by source state, then event, then branch. */
  transitions: TransitionInfo[];
  /** Sorted by type. */
  events: EventInfo[];
}

export type EventDescriptions = Readonly<Record<string, string>>;

/** A guard's name: `hasQuorum`, `not(isVoter)`, `and(a, b)`; inline functions by their name. */
export function guardName(guard: unknown): string {
  if (typeof guard === "string") return guard;
  if (typeof guard === "function") {
    const fn = guard as { name?: string; guards?: unknown[] };
    if (Array.isArray(fn.guards)) return `${fn.name || "guard"}(${fn.guards.map(guardName).join(", ")})`;
    return fn.name || "(inline)";
  }
  if (guard !== null && typeof guard === "object" && "type" in guard) return String(guard.type);
  return "(inline)";
}

/** An action's name: the named action for `"x"` or `{ type: "x", params }`; `assign`, `raise`, ... for built-ins. */
export function actionName(action: unknown): string {
  if (typeof action === "string") return action;
  const typed = action as { type?: unknown; name?: string } | null;
  if (typed !== null && (typeof typed === "object" || typeof typed === "function")) {
    if (typeof typed.type === "string") return typed.type.replace(/^xstate\./, "");
    if (typeof action === "function" && typed.name) return typed.name;
  }
  return "(inline)";
}

function descriptionOf(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function walk(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states as Record<string, AnyStateNode>).flatMap(walk)];
}

function transitionsOf(node: AnyStateNode): TransitionInfo[] {
  const groups: Array<[string, readonly AnyTransitionDefinition[]]> = [...node.transitions.entries()];
  if (node.always && node.always.length > 0) groups.push(["", node.always]);
  return groups.flatMap(([event, branches]) =>
    branches.map((transition, branch) => ({
      key: `${node.id} --${event === "" ? "always" : event}#${branch}`,
      source: node.id,
      event,
      branch,
      guard: transition.guard === undefined ? null : guardName(transition.guard),
      actions: transition.actions.map(actionName),
      targets: (transition.target ?? []).map((target: AnyStateNode) => target.id),
      reenter: transition.reenter,
      description: descriptionOf(transition.description),
    })),
  );
}

export function describeMachine(
  machine: AnyStateMachine,
  eventDescriptions: EventDescriptions = {},
): MachineGraph {
  const nodes = walk(machine.root);
  const states: StateInfo[] = nodes.map((node) => ({
    id: node.id,
    key: node.parent ? node.key : "",
    path: [...node.path],
    parent: node.parent?.id ?? null,
    type: node.type,
    description: descriptionOf(node.description),
    initial: node.type === "compound" ? (node.initial.target[0]?.id ?? null) : null,
    entry: node.entry.map(actionName),
    exit: node.exit.map(actionName),
    children: Object.values(node.states as Record<string, AnyStateNode>).map((child) => child.id),
  }));
  const transitions = nodes.flatMap(transitionsOf);
  const eventTypes = new Set<string>(machine.events as string[]);
  for (const transition of transitions) if (transition.event !== "") eventTypes.add(transition.event);
  const events = [...eventTypes].sort(compareStrings).map((type) => ({
    type,
    description: descriptionOf(eventDescriptions[type]),
    transitions: transitions.filter((transition) => transition.event === type).map((t) => t.key),
  }));
  return {
    id: machine.id,
    description: descriptionOf(machine.root.description),
    root: machine.root.id,
    states,
    transitions,
    events,
  };
}

/** Code-unit order, independent of the locale (unlike `localeCompare`). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A state's name relative to the machine: `leader.checking`; the root is `(machine)`. */
export function shortName(graph: MachineGraph, id: string): string {
  const state = graph.states.find((candidate) => candidate.id === id);
  if (!state) return id;
  return state.path.length === 0 ? "(machine)" : state.path.join(".");
}

/** `event [guard] / a, b`: the label every diagram puts on a transition. */
export function transitionLabel(transition: TransitionInfo): string {
  let label = transition.event === "" ? "always" : transition.event;
  if (transition.guard) label += ` [${transition.guard}]`;
  if (transition.actions.length > 0) label += ` / ${transition.actions.join(", ")}`;
  return label;
}

/** Splits text into lines of at most `width` characters at spaces (a longer word stays whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
