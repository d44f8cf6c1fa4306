/**
 * Which generated consumer group paths run against a broker: from every
 * candidate (group-path-graph.ts), the cheapest set that takes every
 * transition of the machine, each path in a phase where it can really happen.
 *
 * On one node:
 * - a write the machine waits for (the leader's assignment, a static member's
 *   new id) is finished by the broker a moment later, and a deadline at the
 *   current time (a group without members has a rebalance timeout of 0) is
 *   due at once: the path's next event must be that move, nothing can be
 *   slipped in before it;
 * - a phase either stores every group write or fails every one (a node whose
 *   __consumer_offsets has fewer in-sync replicas than min.insync.replicas),
 *   so a path holds only persisted or only persistFailed answers, and a failing
 *   phase takes no offset commit or deletion, whose answers are the write's;
 * - coordinator.unloaded needs the group's partition to move to another node.
 * On a cluster, only for what one node cannot do: a write is held under way by
 * pausing the partition's follower (no commit or deletion is answered
 * meanwhile), and the coordinator is moved, as the path's last step, by
 * pausing it until it is fenced; its effect must be seen in an answer.
 * Everywhere, the broker's own limits must lead the path the same way: a new
 * member's join timeout is Kafka's fixed five minutes there, and pending
 * members are bounded by group.max.size.
 */
import { isDeepStrictEqual } from "node:util";
import { consumerGroupMachine, type Event, type Input } from "../../machines/consumer-group.ts";
import {
  adminCommitRequestId,
  type Model,
  newGroupModel,
  relativeKey,
  type Snapshot,
} from "../../machines/testing/consumer-group-paths.ts";
import { allTransitionKeys, transitionKey } from "../../machines/testing/coverage.ts";
import { deadlinesOf } from "./group-path-clock.ts";
import {
  type Candidate,
  candidatesOf,
  type Edge,
  type Graph,
  graphOf,
  materialize,
  type PathStep,
  replay,
} from "./group-path-graph.ts";

/** A broker configuration paths run in: one node between two restarts, or a cluster. */
export interface Phase {
  name: string;
  /** Real milliseconds per model millisecond. */
  scale: number;
  groupMaxSize: number;
  /** Every write of a group to __consumer_offsets fails (NOT_ENOUGH_REPLICAS). */
  groupWritesFail: boolean;
  /** A cluster, for what one node cannot do: hold a write under way, or move the coordinator. */
  cluster: null | "holds writes" | "moves the coordinator";
  /** The models whose paths run in it (a restored one only where its groups are loaded at the start). */
  models: Model[];
}

export interface GroupPath {
  model: Model;
  phase: Phase;
  /** The model's name and the path's number among the chosen ones, for reports. */
  name: string;
  initial: Snapshot;
  steps: PathStep[];
}

/** A write the machine waits for is under way in this state. */
export function awaitsWrite(state: Snapshot): boolean {
  const context = state.context;
  return (
    state.status === "active" &&
    (context.persistingAssignment !== null || context.persistingStaticJoin !== null)
  );
}

const writeAnswers: ReadonlyArray<Event["type"]> = ["group.persisted", "group.persistFailed"];

/**
 * Whether `next` is what a broker does by itself at once in `state`: the
 * answer to a write the machine waits for, or the tick to a deadline at the
 * current time. Null when the broker rests in the state.
 */
export function ownMoveFollows(state: Snapshot, next: Event | undefined): boolean | null {
  if (awaitsWrite(state)) return next !== undefined && writeAnswers.includes(next.type);
  const nowMs = state.context.nowMs;
  if (state.status === "active" && deadlinesOf(state.context).some((deadline) => deadline <= nowMs)) {
    return next?.type === "clock.ticked" && next.nowMs === nowMs;
  }
  return null;
}

/** What can be told from the edges alone, before a candidate is replayed. */
function orderFits(edges: readonly Edge[], phase: Phase): boolean {
  return edges.every((edge, index) => {
    const next = edges[index + 1]?.event;
    if (edge.event.type === "coordinator.unloaded") {
      return phase.cluster === "moves the coordinator" && next === undefined;
    }
    return (
      phase.cluster === "holds writes" ||
      !awaitsWrite(edge.target) ||
      (next !== undefined && writeAnswers.includes(next.type))
    );
  });
}

/** Whether the path can happen in the phase (see the top of this file). */
function feasible(steps: readonly PathStep[], phase: Phase, brokerInput: Input): boolean {
  let held = false;
  for (const [index, step] of steps.entries()) {
    if (writeAnswers.includes(step.event.type)) held = false;
    if (!stepFits(step, phase, held)) return false;
    if (ownMoveFollows(step.state, steps[index + 1]?.event) === false) {
      // The broker would move on before the next event, unless the write is held.
      if (phase.cluster !== "holds writes" || !awaitsWrite(step.state)) return false;
      held = true;
    }
  }
  const brokerRun = replay(
    brokerInput,
    steps.map((step) => step.event),
  );
  return steps.every((step, index) =>
    isDeepStrictEqual(withoutLimits(step), withoutLimits(brokerRun[index]!)),
  );
}

/** One step against the phase's writes, with a write held under way or not. */
function stepFits(step: PathStep, phase: Phase, held: boolean): boolean {
  const type = step.event.type;
  const waitsOnWrite = step.effects.some(
    (effect) => effect.type === "acceptOffsetCommit" || effect.type === "writeGroupTombstone",
  );
  if (held && (waitsOnWrite || type === "coordinator.unloaded")) return false;
  if (phase.groupWritesFail && (type === "group.persisted" || waitsOnWrite)) return false;
  if (!phase.groupWritesFail && type === "group.persistFailed") return false;
  // A move of the coordinator is seen in the answers to what waits.
  return (
    type !== "coordinator.unloaded" ||
    step.effects.some((effect) => effect.type === "answerJoin" || effect.type === "answerSync")
  );
}

const limitNames = [
  "groupMinSessionTimeoutMs",
  "groupMaxSessionTimeoutMs",
  "groupMaxSize",
  "groupInitialRebalanceDelayMs",
  "groupNewMemberJoinTimeoutMs",
  "pendingMembersMax",
] as const;

/** A step as the limits do not change it: a new member's session ends at its join timeout, which differs. */
function withoutLimits(step: PathStep): unknown {
  const context: Record<string, unknown> = { ...step.state.context };
  for (const name of limitNames) delete context[name];
  context.members = step.state.context.members.map((member) =>
    member.isNew ? { ...member, sessionDeadlineMs: null } : member,
  );
  return { status: step.state.status, value: step.state.value, context, effects: step.effects };
}

/** Kafka's group.new.member.join.timeout, which a broker does not let one configure. */
const newMemberJoinTimeoutMs = 5 * 60 * 1000;

/** The model's input with the limits a broker in this phase really has, in the model's time. */
function brokerInputOf(model: Model, phase: Phase): Input {
  return {
    ...model.input,
    groupMaxSize: phase.groupMaxSize,
    // The coordinator bounds members given an id that have not joined yet like members.
    pendingMembersMax: phase.groupMaxSize,
    groupNewMemberJoinTimeoutMs: newMemberJoinTimeoutMs / phase.scale,
  };
}

/**
 * A new group exists on a broker only once something stores it. Where writes
 * are stored, the admin's commit (a step of the model that changes nothing)
 * makes it exist before the path; where they fail, the path's own first step
 * must be a join without a member id, which starts the group's machine.
 */
function creatingSteps(graph: Graph, edges: readonly Edge[], phase: Phase): Edge[] | null {
  if (graph.model !== newGroupModel) return [...edges];
  const first = edges[0]?.event;
  const creates =
    (first?.type === "group.joinRequested" && first.memberId === "") ||
    (first?.type === "offsets.commitRequested" && first.requestId === adminCommitRequestId);
  if (creates) return [...edges];
  if (phase.groupWritesFail) return null;
  const initialKey = relativeKey(graph.initial);
  const creation = graph.edges.find(
    (edge) =>
      edge.sourceKey === initialKey &&
      edge.event.type === "offsets.commitRequested" &&
      edge.event.requestId === adminCommitRequestId,
  );
  return creation === undefined ? null : [creation, ...edges];
}

export interface Selection {
  paths: GroupPath[];
  /** Transitions no feasible path takes. */
  untaken: string[];
}

/**
 * A small set of feasible paths that together take every transition they can:
 * the rarest transition first, each by its cheapest feasible path in the
 * first tier of phases that has one (one node before a cluster).
 */
export function choosePaths(models: readonly Model[], tiers: ReadonlyArray<readonly Phase[]>): Selection {
  const candidates = models.flatMap((model) => candidatesOf(graphOf(model))).sort((a, b) => a.cost - b.cost);
  const byTransition = new Map<string, Candidate[]>();
  for (const candidate of candidates) {
    for (const key of new Set(candidate.edges.flatMap((edge) => edge.transitions))) {
      const listed = byTransition.get(key);
      if (listed === undefined) byTransition.set(key, [candidate]);
      else listed.push(candidate);
    }
  }
  const keys = allTransitionKeys(consumerGroupMachine).sort(
    (a, b) => (byTransition.get(a)?.length ?? 0) - (byTransition.get(b)?.length ?? 0),
  );
  const taken = new Set<string>();
  const paths: GroupPath[] = [];
  const untaken: string[] = [];
  for (const key of keys) {
    if (taken.has(key)) continue;
    const chosen = tiers.reduce<Omit<GroupPath, "name"> | null>(
      (found, phases) => found ?? firstFeasible(byTransition.get(key) ?? [], phases),
      null,
    );
    if (chosen === null) {
      untaken.push(key);
      continue;
    }
    for (const transition of transitionsOf(chosen)) taken.add(transition);
    paths.push({ ...chosen, name: `${chosen.model.name} #${paths.length + 1}` });
  }
  return { paths, untaken };
}

function transitionsOf(path: Omit<GroupPath, "name">): string[] {
  let previous = path.initial;
  return path.steps.flatMap((step) => {
    const taken = consumerGroupMachine.getTransitionData(previous, step.event);
    previous = step.state;
    return taken.map(transitionKey);
  });
}

function firstFeasible(
  candidates: readonly Candidate[],
  phases: readonly Phase[],
): Omit<GroupPath, "name"> | null {
  for (const candidate of candidates) {
    const model = candidate.graph.model;
    for (const phase of phases) {
      if (!phase.models.includes(model)) continue;
      const edges = creatingSteps(candidate.graph, candidate.edges, phase);
      if (edges === null || !orderFits(edges, phase)) continue;
      const steps = materialize(candidate.graph.initial, edges);
      if (feasible(steps, phase, brokerInputOf(model, phase))) {
        return { model, phase, initial: candidate.graph.initial, steps };
      }
    }
  }
  return null;
}
