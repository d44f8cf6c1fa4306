/**
 * Explicit-state exploration of a model: breadth-first (the default, which
 * yields the shortest counterexample) or depth-first, deduplicating states by
 * canonical serialization (after the model's symmetry reduction), checking
 * every invariant in every distinct state as it is discovered, and recording
 * which `sometimes` properties some state reached.
 *
 * Only the serialized keys, parent pointers, labels and depths are kept per
 * state; a counterexample is rebuilt by replaying its labels from the initial
 * state, so the model's actions must be deterministic.
 */
import type { Model } from "./model.ts";
import { Fingerprinter } from "./serialize.ts";

export interface SearchOptions {
  /** "bfs" (default) finds shortest counterexamples; "dfs" goes deep first. */
  strategy?: "bfs" | "dfs";
  /** Explore no state deeper than this many actions from an initial state. Default: unbounded. */
  maxDepth?: number;
  /** Stop discovering once this many distinct states are known. Default: unbounded. */
  maxStates?: number;
  /** Where the throttled progress line goes; false for none. Default: stderr. */
  progress?: false | ((line: string) => void);
  /** Minimum time between two progress lines. Default 500 ms. */
  progressIntervalMs?: number;
}

/** One step of a path: step 0 is an initial state, labelled "initial". */
export interface Step<S> {
  label: string;
  state: S;
}

export interface Violation<S> {
  invariant: string;
  /** The invariant's own explanation, when it returned a string. */
  message: string | undefined;
  /** From an initial state to the violating state; shortest under breadth-first search. */
  path: Array<Step<S>>;
}

export interface SearchStats {
  distinctStates: number;
  /** Actions taken: every successor generated, new or already known. */
  transitions: number;
  /** Deepest depth at which a distinct state was discovered. */
  maxDepth: number;
  elapsedMs: number;
  statesPerSecond: number;
}

export interface SometimesResult {
  name: string;
  reached: boolean;
  /** Depth of the first state that reached it (shortest under breadth-first search). */
  depth: number | undefined;
}

export interface SearchResult<S> {
  /** "bound-reached": no violation, but the depth or state bound cut the exploration short. */
  outcome: "ok" | "violated" | "bound-reached";
  /** Which bounds cut exploration short (empty when the state space was exhausted). */
  boundsHit: Array<"depth" | "states">;
  violation: Violation<S> | undefined;
  stats: SearchStats;
  sometimes: SometimesResult[];
  /** Names of the sometimes properties no explored state reached. */
  unreached: string[];
  /** No violation and every sometimes property reached. */
  passed: boolean;
}

interface Frame<S> {
  id: number;
  state: S;
}

const INITIAL_LABEL = "initial";

export function search<S>(model: Model<S>, options: SearchOptions = {}): SearchResult<S> {
  const strategy = options.strategy ?? "bfs";
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const maxStates = options.maxStates ?? Number.POSITIVE_INFINITY;
  const progress =
    options.progress === undefined ? (line: string) => process.stderr.write(`${line}\n`) : options.progress;
  const progressIntervalMs = options.progressIntervalMs ?? 500;

  const fingerprints = new Fingerprinter();
  const keyOf = (state: S): string =>
    fingerprints.key(model.canonicalize ? model.canonicalize(state) : state);
  const index = new Map<string, number>();
  const keys: string[] = [];
  const parents: number[] = [];
  const labels: string[] = [];
  const depths: number[] = [];
  const sometimesDepth: Array<number | undefined> = model.sometimes.map(() => undefined);
  let transitions = 0;
  let deepest = 0;
  let depthBoundHit = false;
  let stateBoundHit = false;
  let found: { id: number; invariant: string; message: string | undefined } | undefined;

  const started = performance.now();
  let lastProgress = started;
  const frontier: Array<Frame<S>> = [];
  let head = 0; // breadth-first: queue from `head`; depth-first: stack at the end

  const stepInvariants = model.invariants.filter((invariant) => invariant.everyStep);
  const firstViolation = (state: S, previous: S | undefined, invariants: typeof model.invariants) => {
    for (const invariant of invariants) {
      const verdict = invariant.holds(state, previous);
      if (verdict !== true)
        return { invariant: invariant.name, message: typeof verdict === "string" ? verdict : undefined };
    }
    return undefined;
  };
  const remember = (key: string, parent: number, label: string, depth: number): number => {
    const id = keys.length;
    keys.push(key);
    parents.push(parent);
    labels.push(label);
    depths.push(depth);
    return id;
  };

  const discover = (state: S, parent: number, label: string, depth: number, previous?: S): void => {
    const key = keyOf(state);
    const known = index.get(key);
    if (known !== undefined) {
      // A change invariant judges the action, not the state: an action into a known state can break it.
      const broken = previous === undefined ? undefined : firstViolation(state, previous, stepInvariants);
      if (broken) {
        found = { id: remember(key, parent, label, depth), ...broken };
        return;
      }
      // Depth-first search can meet a state again on a shorter path; explore it
      // again from there so the depth bound cuts no state it should reach.
      if (strategy === "dfs" && depth < depths[known]!) {
        parents[known] = parent;
        labels[known] = label;
        depths[known] = depth;
        frontier.push({ id: known, state });
      }
      return;
    }
    if (index.size >= maxStates) {
      stateBoundHit = true;
      return;
    }
    const id = remember(key, parent, label, depth);
    index.set(key, id);
    if (depth > deepest) deepest = depth;
    const broken = firstViolation(state, previous, model.invariants);
    if (broken) {
      found = { id, ...broken };
      return;
    }
    model.sometimes.forEach((property, i) => {
      if (sometimesDepth[i] === undefined && property.reached(state)) sometimesDepth[i] = depth;
    });
    frontier.push({ id, state });
  };

  const elapsed = () => performance.now() - started;
  const rate = (ms: number) => (ms > 0 ? Math.round((index.size * 1000) / ms) : index.size);

  for (const state of model.initialStates()) {
    discover(state, -1, INITIAL_LABEL, 0);
    if (found) break;
  }

  let expansions = 0;
  while (!found) {
    let frame: Frame<S> | undefined;
    if (strategy === "bfs") {
      frame = frontier[head];
      if (frame === undefined) break;
      frontier[head++] = undefined as unknown as Frame<S>; // let the state be collected
      if (head > 65_536 && head * 2 > frontier.length) {
        frontier.splice(0, head);
        head = 0;
      }
    } else {
      frame = frontier.pop();
      if (frame === undefined) break;
    }
    const depth = depths[frame.id]!;
    const actions = model.actions(frame.state);
    if (depth >= maxDepth) {
      if (actions.length > 0) depthBoundHit = true;
      continue;
    }
    for (const action of actions) {
      transitions++;
      discover(action.next, frame.id, action.label, depth + 1, frame.state);
      if (found) break;
    }
    if (progress && (++expansions & 255) === 0) {
      const now = performance.now();
      if (now - lastProgress >= progressIntervalMs) {
        lastProgress = now;
        const pending = strategy === "bfs" ? frontier.length - head : frontier.length;
        progress(
          `check: ${index.size} states, ${transitions} transitions, depth ${deepest}, ` +
            `${pending} queued, ${rate(now - started)} states/s`,
        );
      }
    }
  }

  const elapsedMs = elapsed();
  const sometimes = model.sometimes.map((property, i) => ({
    name: property.name,
    reached: sometimesDepth[i] !== undefined,
    depth: sometimesDepth[i],
  }));
  const unreached = sometimes.filter((s) => !s.reached).map((s) => s.name);
  const boundsHit: Array<"depth" | "states"> = [];
  if (depthBoundHit) boundsHit.push("depth");
  if (stateBoundHit) boundsHit.push("states");
  const violation: Violation<S> | undefined = found
    ? { invariant: found.invariant, message: found.message, path: replay(model, found.id) }
    : undefined;
  return {
    outcome: violation ? "violated" : boundsHit.length > 0 ? "bound-reached" : "ok",
    boundsHit,
    violation,
    stats: {
      distinctStates: index.size,
      transitions,
      maxDepth: deepest,
      elapsedMs,
      statesPerSecond: rate(elapsedMs),
    },
    sometimes,
    unreached,
    passed: !violation && unreached.length === 0,
  };

  /** Rebuild the real states along the parent pointers by replaying the actions. */
  function replay(m: Model<S>, target: number): Array<Step<S>> {
    const chain: number[] = [];
    for (let id = target; id !== -1; id = parents[id]!) chain.unshift(id);
    const root = m.initialStates().find((s) => keyOf(s) === keys[chain[0]!]);
    if (root === undefined) throw new Error("model checker: initial states are not deterministic");
    const path: Array<Step<S>> = [{ label: INITIAL_LABEL, state: root }];
    let current: S = root;
    for (const id of chain.slice(1)) {
      const actions = m.actions(current);
      // The recorded label, unless symmetry reduction means the replayed
      // predecessor is another member of its class: then any action into the class.
      const step =
        actions.find((a) => a.label === labels[id] && keyOf(a.next) === keys[id]) ??
        actions.find((a) => keyOf(a.next) === keys[id]);
      if (step === undefined) throw new Error("model checker: actions are not deterministic; cannot replay");
      path.push({ label: step.label, state: step.next });
      current = step.next;
    }
    return path;
  }
}
