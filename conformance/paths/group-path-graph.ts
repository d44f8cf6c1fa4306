/**
 * The candidate paths of a consumer group model. The generator
 * (machines/testing/consumer-group-paths.ts) gives every edge of each model's
 * bounded graph; a candidate is the shortest way to an edge's source followed
 * by that edge, so refusals that change nothing (which no shortest path
 * takes) are candidates too. A candidate becomes a run of the machine by
 * replaying its events from the model's start.
 */
import { initialTransition, transition } from "xstate";
import { consumerGroupMachine, type Effect, type Event, type Input } from "../../machines/consumer-group.ts";
import {
  type Model,
  relativeKey,
  type Snapshot,
  testModelOf,
} from "../../machines/testing/consumer-group-paths.ts";
import { transitionKey } from "../../machines/testing/coverage.ts";

export interface PathStep {
  event: Event;
  state: Snapshot;
  /** What the machine did on this step, in order. */
  effects: Effect[];
}

export interface Edge {
  sourceKey: string;
  /** The graph's representative of the source vertex: the event was made from it. */
  source: Snapshot;
  event: Event;
  target: Snapshot;
  targetKey: string;
  /** Transition keys (coverage.ts) the edge takes. */
  transitions: string[];
}

export interface Graph {
  model: Model;
  initial: Snapshot;
  edges: Edge[];
  /** The fewest edges from the initial vertex to each vertex. */
  shortest: Map<string, Edge[]>;
}

export interface Candidate {
  graph: Graph;
  edges: Edge[];
  /** Model time the path's ticks span, plus a little per step: what it costs to run. */
  cost: number;
}

const costPerStep = 2;

export function graphOf(model: Model): Graph {
  const [initial] = initialTransition(consumerGroupMachine, model.input);
  const edges: Edge[] = [];
  const bySource = new Map<string, Edge[]>();
  for (const [sourceKey, { state, transitions }] of Object.entries(testModelOf(model).getAdjacencyMap())) {
    const source = state as Snapshot;
    const outgoing = (Object.values(transitions) as Array<{ event: Event; state: Snapshot }>).map(
      ({ event, state: target }): Edge => ({
        sourceKey,
        source,
        event,
        target,
        targetKey: relativeKey(target),
        transitions: consumerGroupMachine.getTransitionData(source, event).map(transitionKey),
      }),
    );
    bySource.set(sourceKey, outgoing);
    edges.push(...outgoing);
  }
  const shortest = new Map<string, Edge[]>([[relativeKey(initial), []]]);
  const queue = [relativeKey(initial)];
  for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
    for (const edge of bySource.get(key) ?? []) {
      if (shortest.has(edge.targetKey)) continue;
      shortest.set(edge.targetKey, [...shortest.get(key)!, edge]);
      queue.push(edge.targetKey);
    }
  }
  return { model, initial, edges, shortest };
}

export function candidatesOf(graph: Graph): Candidate[] {
  return graph.edges.flatMap((edge) => {
    const prefix = graph.shortest.get(edge.sourceKey);
    if (prefix === undefined) return [];
    const edges = [...prefix, edge];
    const tickedMs = edges.reduce(
      (sum, step) =>
        sum + (step.event.type === "clock.ticked" ? step.event.nowMs - step.source.context.nowMs : 0),
      0,
    );
    return [{ graph, edges, cost: tickedMs + costPerStep * edges.length }];
  });
}

/**
 * The edges as one consistent run from the initial state. The graph merges
 * groups that differ only in their clock, so each edge's event is moved in
 * time to the group the run actually reached.
 */
export function materialize(initial: Snapshot, edges: readonly Edge[]): PathStep[] {
  const steps: PathStep[] = [];
  let current = initial;
  for (const edge of edges) {
    const deltaMs = current.context.nowMs - edge.source.context.nowMs;
    const event = "nowMs" in edge.event ? { ...edge.event, nowMs: edge.event.nowMs + deltaMs } : edge.event;
    const step = stepOf(current, event);
    if (relativeKey(step.state) !== edge.targetKey) {
      throw new Error(`the edge ${JSON.stringify(edge.event)} leads elsewhere when moved in time`);
    }
    steps.push(step);
    current = step.state;
  }
  return steps;
}

/** The same events from another input: the run another broker's limits give. */
export function replay(input: Input, events: readonly Event[]): PathStep[] {
  let current = initialTransition(consumerGroupMachine, input)[0];
  return events.map((event) => {
    const step = stepOf(current, event);
    current = step.state;
    return step;
  });
}

function stepOf(current: Snapshot, event: Event): PathStep {
  const [state, actions] = transition(consumerGroupMachine, current, event);
  return {
    event,
    state,
    effects: actions.map((action) => ({ type: action.type, params: action.params }) as Effect),
  };
}
