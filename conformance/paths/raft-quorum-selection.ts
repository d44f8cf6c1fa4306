/**
 * Which generated paths the suite drives against a node. Paths of the shared
 * generator (machines/testing/raft-quorum-models.ts) are planned: the
 * shortest paths of each model, then, for a transition none of them takes,
 * every edge that takes it (a shortest path to its source plus the edge:
 * refusals that change nothing are in no shortest path). The models' simple
 * paths are left out: they add no transition a node can be driven through
 * that these lack, and would double the planning time.
 * From the realizable plans a greedy cover keeps, at each turn, the plan that
 * takes the most transitions not yet taken per second of estimated run time,
 * so that every transition a wire stimulus can reach is driven while the run
 * stays short. A path that ends just before the node takes a timer's step by
 * itself (the only voter's election timer fires at once, a leader resigns on
 * its next tick) cannot be observed at its end; it is taken on by that step. For a transition no plan takes, the reasons its edges could
 * not be realized are kept for the report.
 */
import { transition } from "xstate";
import { type Event, raftQuorumMachine } from "../../machines/raft-quorum.ts";
import { allTransitionKeys, transitionKey } from "../../machines/testing/coverage.ts";
import {
  edgePaths,
  eventsOf,
  type Model,
  models,
  startOf,
  stateName,
  testModelOf,
} from "../../machines/testing/raft-quorum-models.ts";
import { planPath } from "./raft-quorum-plan.ts";
import { type Plan, type PlanSettings, Unrealizable } from "./raft-quorum-steps.ts";

/** Timer steps a path is taken on by at most. */
const extensionsMax = 2;

export interface Candidate {
  model: Model;
  plan: Plan;
}

export interface Selection {
  /** The plans to drive, in the order chosen. */
  chosen: Candidate[];
  /** How many generated paths were planned, and how many of them can be driven over the wire. */
  planned: number;
  realizable: number;
  /** Per transition no plan takes: why each of its edges could not be driven. */
  unreached: Map<string, Set<string>>;
}

/** The test's peers for a model: every voter of its input but node 1. */
export function peersOf(model: Model): number[] {
  return model.input.voters.filter((id) => id !== 1);
}

export function selectPlans(settings: Omit<PlanSettings, "peers">): Selection {
  const candidates: Candidate[] = [];
  const taken = new Set<string>();
  let planned = 0;
  /**
   * Plans a path; when it cannot be driven, says why, if it is its last event
   * that cannot. A path that ends just where the node takes a timer's step by
   * itself at once is taken on by that step, when the model's graph has it.
   */
  const plan = (model: Model, events: readonly Event[], extensions = 0): string | null => {
    planned++;
    try {
      const made = planPath(model, events, { ...settings, peers: peersOf(model) });
      candidates.push({ model, plan: made });
      for (const key of made.transitions) taken.add(key);
      return null;
    } catch (error) {
      if (!(error instanceof Unrealizable)) throw error;
      const next = error.endsBefore === null ? undefined : nextOfType(model, events, error.endsBefore);
      if (next !== undefined && extensions < extensionsMax)
        return plan(model, [...events, next], extensions + 1);
      const last = model.prefix.length + events.length - 1;
      return error.atEvent >= last ? error.message : "every path to it fails before it";
    }
  };
  const graphs = models.map((model) => {
    const { start } = startOf(model);
    return { model, start, testModel: testModelOf(model, start) };
  });
  for (const { model, testModel } of graphs) {
    for (const path of testModel.getShortestPaths()) plan(model, eventsOf(path));
  }
  const unreached = new Map<string, Set<string>>();
  for (const { model, start, testModel } of graphs) {
    for (const edge of edgePaths(model, start, testModel)) {
      const event = edge.events[edge.events.length - 1]!;
      const keys = raftQuorumMachine
        .getTransitionData(edge.source as never, event as never)
        .map(transitionKey);
      if (keys.every((key) => taken.has(key))) continue;
      const reason = plan(model, edge.events);
      if (reason === null) continue;
      for (const key of keys) {
        if (!unreached.has(key)) unreached.set(key, new Set());
        unreached.get(key)!.add(reason);
      }
    }
  }
  for (const key of taken) unreached.delete(key);
  for (const key of allTransitionKeys(raftQuorumMachine)) {
    if (!taken.has(key) && !unreached.has(key)) unreached.set(key, new Set(["no generated path takes it"]));
  }
  return { chosen: cover(candidates, taken), planned, realizable: candidates.length, unreached };
}

/** The event of that type in the model's alphabet where `events` end, if it has one. */
function nextOfType(model: Model, events: readonly Event[], type: Event["type"]): Event | undefined {
  let snapshot = startOf(model).start;
  for (const event of events) [snapshot] = transition(raftQuorumMachine, snapshot, event);
  return model.events(snapshot.context, stateName(snapshot)).find((event) => event.type === type);
}

function cover(candidates: readonly Candidate[], transitions: ReadonlySet<string>): Candidate[] {
  const missing = new Set(transitions);
  const chosen: Candidate[] = [];
  while (missing.size > 0) {
    let best: Candidate | null = null;
    let bestScore = 0;
    for (const candidate of candidates) {
      const gained = [...candidate.plan.transitions].filter((key) => missing.has(key)).length;
      const score = gained / candidate.plan.costMs;
      if (score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    if (best === null) break;
    chosen.push(best);
    for (const key of best.plan.transitions) missing.delete(key);
  }
  return chosen;
}
