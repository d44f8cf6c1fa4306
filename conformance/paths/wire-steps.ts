/**
 * Generated paths made of wire steps. A machine event is not always something
 * a test can cause on its own over the wire: a CreateTopics is answered only
 * once its PartitionRecord has committed (partition.created, then
 * partition.creationCommitted), and a produce's append follows its admission
 * (produce.requested, then leader.appended). A wire step is one stimulus with
 * the machine events it makes the node take, in order; the graph of wire
 * steps, explored by xstate/graph from the machine's own generator, has as
 * vertices only the states a node rests in between stimuli.
 *
 * From that graph the suite takes, for every behaviour a wire step can show
 * (a transition with the effects it emitted: an answer with its error, a
 * record, a completed produce), the cheapest path that shows it (the cheapest
 * path to a state, then one more step), and keeps a covering few of those, so
 * that every reachable transition is driven against the node, in each way it
 * can act, while the run stays short.
 */
import {
  type AnyStateMachine,
  type EventObject,
  fromTransition,
  type SnapshotFrom,
  transition,
} from "xstate";
import { getAdjacencyMap } from "xstate/graph";
import { transitionKey } from "../../machines/testing/coverage.ts";

export interface WireStep<MachineEvent extends EventObject> {
  type: "wire.step";
  /** The machine events this one stimulus makes the node take, in order. */
  events: MachineEvent[];
}

/** One step of a chosen path, with the state the generator made it from. */
export interface PlannedStep<Machine extends AnyStateMachine> {
  step: WireStep<EventFromMachine<Machine>>;
  /** The representative state the graph keeps for the step's source vertex. */
  before: SnapshotFrom<Machine>;
}

export type EventFromMachine<Machine extends AnyStateMachine> = Parameters<Machine["transition"]>[1];

export interface PlannedPath<Machine extends AnyStateMachine> {
  steps: Array<PlannedStep<Machine>>;
  /** The transitions (coverage.ts keys) the path takes. */
  transitions: Set<string>;
  /** Its transitions with the effects each emitted: what the plan covers. */
  behaviours: Set<string>;
  /** The estimated seconds the path costs against a node: fences and waits dominate. */
  cost: number;
}

export interface WireGraphOptions<Machine extends AnyStateMachine> {
  machine: Machine;
  initial: SnapshotFrom<Machine>;
  /** The wire steps possible in a state: the generator's events there, grouped and filtered. */
  steps(snapshot: SnapshotFrom<Machine>): Array<WireStep<EventFromMachine<Machine>>>;
  serialize(snapshot: SnapshotFrom<Machine>): string;
  /** What a step costs from a state, in estimated seconds of wall time. */
  cost(step: WireStep<EventFromMachine<Machine>>, before: SnapshotFrom<Machine>): number;
}

/** Every machine event of the step, from `snapshot`, in turn. */
export function takeStep<Machine extends AnyStateMachine>(
  machine: Machine,
  snapshot: SnapshotFrom<Machine>,
  step: WireStep<EventFromMachine<Machine>>,
): SnapshotFrom<Machine> {
  return step.events.reduce(
    (state: SnapshotFrom<Machine>, event) => transition(machine, state, event)[0] as SnapshotFrom<Machine>,
    snapshot,
  );
}

/** An effect as the plan tells effects apart: its name, and the error or record it carries. */
function effectName(action: { type: string; params?: unknown }): string {
  const params = (action.params ?? {}) as {
    errorName?: string;
    errorCode?: number;
    record?: { type: string };
  };
  const detail = params.errorName ?? params.errorCode ?? params.record?.type;
  return detail === undefined ? action.type : `${action.type}(${detail})`;
}

/**
 * What the step's events do from `snapshot`: the transitions they take
 * (coverage.ts keys), and the behaviours, each transition with the effects
 * it emitted, which the plan covers so that a transition is also seen to
 * answer, append or refuse in each way it can.
 */
export function behaviourOfStep<Machine extends AnyStateMachine>(
  machine: Machine,
  snapshot: SnapshotFrom<Machine>,
  step: WireStep<EventFromMachine<Machine>>,
): { transitions: string[]; behaviours: string[] } {
  const transitions: string[] = [];
  const behaviours: string[] = [];
  let state = snapshot;
  for (const event of step.events) {
    const [next, actions] = transition(machine, state, event);
    const effects = [...new Set(actions.map(effectName))].sort().join(", ");
    for (const taken of machine.getTransitionData(state as never, event as never)) {
      transitions.push(transitionKey(taken));
      behaviours.push(`${transitionKey(taken)} -> [${effects}]`);
    }
    state = next as SnapshotFrom<Machine>;
  }
  return { transitions, behaviours };
}

interface Vertex<Machine extends AnyStateMachine> {
  state: SnapshotFrom<Machine>;
  edges: Array<{ step: WireStep<EventFromMachine<Machine>>; target: string; cost: number }>;
}

/** The graph of wire steps, explored by xstate/graph from the initial state. */
function wireGraph<Machine extends AnyStateMachine>(
  options: WireGraphOptions<Machine>,
): Map<string, Vertex<Machine>> {
  type Snapshot = SnapshotFrom<Machine>;
  const { machine } = options;
  const logic = fromTransition(
    (state: Snapshot, step: WireStep<EventFromMachine<Machine>>) => takeStep(machine, state, step),
    options.initial,
  );
  const adjacency = getAdjacencyMap(logic, {
    events: (snapshot) => options.steps(snapshot.context),
    serializeState: (snapshot) => options.serialize(snapshot.context),
  });
  const vertices = new Map<string, Vertex<Machine>>();
  for (const [key, { state, transitions }] of Object.entries(adjacency)) {
    vertices.set(key, {
      state: state.context,
      edges: Object.values(
        transitions as Record<
          string,
          { event: WireStep<EventFromMachine<Machine>>; state: { context: Snapshot } }
        >,
      ).map(({ event, state: next }) => ({
        step: event,
        target: options.serialize(next.context),
        cost: options.cost(event, state.context),
      })),
    });
  }
  return vertices;
}

/** Dijkstra over step costs: the cheapest way from the initial state to each vertex. */
function cheapestRoutes<Machine extends AnyStateMachine>(
  vertices: Map<string, Vertex<Machine>>,
  start: string,
): Map<string, { cost: number; previous: string | null; step: WireStep<EventFromMachine<Machine>> | null }> {
  const routes = new Map<
    string,
    { cost: number; previous: string | null; step: WireStep<EventFromMachine<Machine>> | null }
  >([[start, { cost: 0, previous: null, step: null }]]);
  const settled = new Set<string>();
  // The graphs hold a few thousand vertices: a linear scan for the next one is fast enough.
  for (;;) {
    let next: string | null = null;
    for (const [key, route] of routes) {
      if (!settled.has(key) && (next === null || route.cost < routes.get(next)!.cost)) next = key;
    }
    if (next === null) return routes;
    settled.add(next);
    const from = routes.get(next)!;
    for (const edge of vertices.get(next)?.edges ?? []) {
      const cost = from.cost + edge.cost;
      const known = routes.get(edge.target);
      if (known === undefined || cost < known.cost) {
        routes.set(edge.target, { cost, previous: next, step: edge.step });
      }
    }
  }
}

/**
 * Paths that together show every behaviour a wire step can: greedily, the
 * candidate (cheapest route to a state plus one step) that shows the most
 * behaviours not yet shown, the cheaper one on a tie. Also returns every
 * transition some wire step takes, which the suite must then have covered.
 */
export function planCoveringPaths<Machine extends AnyStateMachine>(
  options: WireGraphOptions<Machine>,
): { paths: Array<PlannedPath<Machine>>; reachable: Set<string> } {
  const { machine } = options;
  const vertices = wireGraph(options);
  const start = options.serialize(options.initial);
  const routes = cheapestRoutes(vertices, start);
  const routeOf = (key: string): Array<PlannedStep<Machine>> => {
    const steps: Array<PlannedStep<Machine>> = [];
    for (let at = key; ; ) {
      const route = routes.get(at)!;
      if (route.previous === null || route.step === null) return steps.reverse();
      steps.push({ step: route.step, before: vertices.get(route.previous)!.state });
      at = route.previous;
    }
  };
  // What an edge does is worked out once, however many routes pass through it.
  type Behaviour = ReturnType<typeof behaviourOfStep>;
  const known = new WeakMap<SnapshotFrom<Machine>, WeakMap<WireStep<EventFromMachine<Machine>>, Behaviour>>();
  const behaviourOf = (before: SnapshotFrom<Machine>, step: WireStep<EventFromMachine<Machine>>) => {
    let fromState = known.get(before);
    if (fromState === undefined) {
      fromState = new WeakMap();
      known.set(before, fromState);
    }
    let behaviour = fromState.get(step);
    if (behaviour === undefined) {
      behaviour = behaviourOfStep(machine, before, step);
      fromState.set(step, behaviour);
    }
    return behaviour;
  };
  const candidates: Array<PlannedPath<Machine>> = [];
  const reachable = new Set<string>();
  for (const [key, vertex] of vertices) {
    const route = routes.get(key);
    if (route === undefined) continue;
    const prefix = routeOf(key);
    const prefixBehaviours = prefix.map(({ step, before }) => behaviourOf(before, step));
    for (const edge of vertex.edges) {
      const last = behaviourOf(vertex.state, edge.step);
      for (const each of last.transitions) reachable.add(each);
      const all = [...prefixBehaviours, last];
      candidates.push({
        steps: [...prefix, { step: edge.step, before: vertex.state }],
        transitions: new Set(all.flatMap((each) => each.transitions)),
        behaviours: new Set(all.flatMap((each) => each.behaviours)),
        cost: route.cost + edge.cost,
      });
    }
  }
  const uncovered = new Set(candidates.flatMap((candidate) => [...candidate.behaviours]));
  const paths: Array<PlannedPath<Machine>> = [];
  while (uncovered.size > 0) {
    let best: { path: PlannedPath<Machine>; gain: number } | null = null;
    for (const candidate of candidates) {
      let gain = 0;
      for (const behaviour of candidate.behaviours) if (uncovered.has(behaviour)) gain++;
      if (gain === 0) continue;
      const better =
        best === null ||
        gain > best.gain ||
        (gain === best.gain && candidate.cost < best.path.cost) ||
        (gain === best.gain &&
          candidate.cost === best.path.cost &&
          candidate.steps.length < best.path.steps.length);
      if (better) best = { path: candidate, gain };
    }
    if (best === null) throw new Error("a behaviour is on no candidate path");
    paths.push(best.path);
    for (const behaviour of best.path.behaviours) uncovered.delete(behaviour);
  }
  return { paths: withoutRedundant(paths), reachable };
}

/** Drops each path whose behaviours the other kept paths show too, the costliest first. */
function withoutRedundant<Machine extends AnyStateMachine>(
  paths: Array<PlannedPath<Machine>>,
): Array<PlannedPath<Machine>> {
  const kept = [...paths].sort((left, right) => right.cost - left.cost);
  for (const path of [...kept]) {
    const others = kept.filter((other) => other !== path);
    const shownByOthers = [...path.behaviours].every((behaviour) =>
      others.some((other) => other.behaviours.has(behaviour)),
    );
    if (shownByOthers) kept.splice(kept.indexOf(path), 1);
  }
  return kept.sort((left, right) => left.cost - right.cost);
}
