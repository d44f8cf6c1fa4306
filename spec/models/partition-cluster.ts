/**
 * A cluster of nodes replicating one partition, with a controller that runs
 * the real partition lifecycle machine: the model both the replication and the
 * metadata-before-data models are configurations of (their initial state,
 * bounds and `sometimes` properties differ). partition-state.ts holds the
 * state, partition-replicas.ts the nodes' data path, partition-view.ts the
 * cluster view and the invariants; this file holds the controller, the
 * environment's actions and the model.
 *
 * The controller is not a quorum here (the quorum model checks that): it never
 * fails, its lifecycle machine's `appendMetadataRecord` effects go to its
 * metadata log, and records commit either as they are appended or in a
 * separate step, one record at a time. Brokers learn of records only by
 * applying committed ones, in order, each as its own step, so every node's
 * application lags independently. AlterPartition requests and answers travel
 * as messages; an answer is delivered only once the records it answers for
 * have committed. The controller also keeps the broker registry: it fences a
 * crashed node (`broker.fenced`, which elects a new leader from the ISR if
 * the node led), a fenced node may restart (Kafka fences a re-registering
 * broker), and a restarted node is unfenced once it has applied every
 * committed record.
 *
 * The environment: deliver or lose any message (at most `maxDrops` losses),
 * a follower fetches, a node applies the next committed record, a client
 * produces an acks=all record to a node that leads, the clock jumps past
 * replica.lag.time.max.ms, a node begins a controlled shutdown (the
 * controller moves its leadership and takes it out of the ISR while it still
 * runs), a node crashes, is fenced, restarts, is unfenced,
 * a leader sends a lost AlterPartition again, and, when the partition does
 * not exist yet, CreateTopics.
 */

import type {
  AlterPartitionAnswer,
  PartitionLifecycleEvent,
  PartitionMetadataRecord,
} from "../../machines/partition-lifecycle.ts";
import { partitionLifecycleMachine } from "../../machines/partition-lifecycle.ts";
import type { Action, Model, Sometimes } from "../checker/model.ts";
import { canonicalize } from "../checker/serialize.ts";
import { createStepper } from "./machine-stepper.ts";
import {
  deliverFetch,
  deliverFetchAnswer,
  nextFetch,
  pendingAlterPartition,
  produce,
  reconcile,
  sendFetch,
  stepIsr,
  tick,
} from "./partition-replicas.ts";
import {
  appliedImage,
  type ClusterOptions,
  type ClusterState,
  list,
  logEnd,
  type Message,
  messageLabel,
  nodeOf,
  PARTITION_ID,
  type PartitionNode,
  type Runtime,
  recordSummary,
  send,
  TOPIC_ID,
  withNode,
} from "./partition-state.ts";
import { clusterInvariants, describeCluster, withLeaders } from "./partition-view.ts";

export function createRuntime(options: ClusterOptions): Runtime {
  return {
    options,
    isr: createStepper(options.isrMachine),
    lifecycle: createStepper(partitionLifecycleMachine),
  };
}

/** No partition yet: the controller's lifecycle machine started, every node up with nothing applied. */
export function emptyCluster(rt: Runtime): ClusterState {
  return {
    nowMs: 0,
    ticks: 0,
    controller: rt.lifecycle.start({ topicId: TOPIC_ID, partitionId: PARTITION_ID }).node,
    fenced: [],
    metadata: [],
    committed: 0,
    nodes: rt.options.nodeIds.map((id) => ({
      id,
      up: true,
      applied: 0,
      replica: null,
      isr: null,
      awaitingAlterPartition: false,
    })),
    messages: [],
    produced: 0,
    acked: [],
    leaders: [],
    crashes: 0,
    shutdowns: 0,
    drops: 0,
    isrStory: "none",
    truncated: false,
  };
}

// --- the controller -----------------------------------------------------------------------

function stepController(rt: Runtime, state: ClusterState, event: PartitionLifecycleEvent): ClusterState {
  const { node, effects } = rt.lifecycle.step(state.controller, event);
  let s: ClusterState = { ...state, controller: node };
  for (const effect of effects) {
    if (effect.type === "appendMetadataRecord") {
      s = { ...s, metadata: [...s.metadata, effect.params.record as PartitionMetadataRecord] };
    } else if (effect.type === "answerAlterPartition") {
      const a = effect.params as unknown as AlterPartitionAnswer;
      s = send(rt, s, {
        type: "AlterPartitionAnswer",
        to: a.brokerId,
        errorCode: a.errorCode,
        errorName: a.errorName,
        leaderEpoch: a.leaderEpoch,
        partitionEpoch: a.partitionEpoch,
        isr: a.isr,
        request:
          event.type === "isr.changeRequested"
            ? { leaderEpoch: event.leaderEpoch, partitionEpoch: event.partitionEpoch, newIsr: event.newIsr }
            : { leaderEpoch: -1, partitionEpoch: -1, newIsr: [] },
        committedAt: s.metadata.length,
      });
    }
  }
  while (rt.options.commitOnAppend && s.committed < s.metadata.length) s = commitNext(rt, s);
  return s;
}

/** The next record of the metadata log commits; the lifecycle machine hears when its PartitionRecord did. */
export function commitNext(rt: Runtime, state: ClusterState): ClusterState {
  const record = state.metadata[state.committed]!;
  const s = { ...state, committed: state.committed + 1 };
  return record.type === "PartitionRecord" && s.controller.value === "New"
    ? stepController(rt, s, { type: "partition.creationCommitted" })
    : s;
}

/** CreateTopics for the partition, replicated on every node. */
export function createTopic(rt: Runtime, state: ClusterState): ClusterState {
  const live = rt.options.nodeIds.filter((id) => !state.fenced.includes(id));
  return stepController(rt, state, {
    type: "partition.created",
    replicas: rt.options.nodeIds,
    liveBrokers: live,
    uncleanLeaderElectionEnabled: false,
  });
}

/** Node `id` applies the next record of the metadata log. */
export function applyNext(rt: Runtime, state: ClusterState, id: number): ClusterState {
  const node = nodeOf(state, id);
  const before = appliedImage(state, node);
  return reconcile(rt, withNode(state, { ...node, applied: node.applied + 1 }), id, before);
}

function deliverAlterPartition(
  rt: Runtime,
  state: ClusterState,
  m: Extract<Message, { type: "AlterPartition" }>,
): { state: ClusterState; outcome: string } {
  const before = state.controller.context.isr;
  const appended = state.metadata.length;
  let s = stepController(rt, state, {
    type: "isr.changeRequested",
    brokerId: m.from,
    leaderEpoch: m.leaderEpoch,
    partitionEpoch: m.partitionEpoch,
    newIsr: m.newIsr,
  });
  const after = s.controller.context.isr;
  if (after.length < before.length && s.isrStory === "none") s = { ...s, isrStory: "shrank" };
  if (after.length > before.length && s.isrStory === "shrank") s = { ...s, isrStory: "shrankAndExpanded" };
  const answer = s.messages.find((x) => x.type === "AlterPartitionAnswer" && x.to === m.from);
  const outcome = s.metadata.length > appended ? `isr ${list(after)} appended` : "no record";
  return {
    state: s,
    outcome: answer?.type === "AlterPartitionAnswer" ? `${outcome}, ${answer.errorName}` : outcome,
  };
}

function deliverAlterPartitionAnswer(
  rt: Runtime,
  state: ClusterState,
  m: Extract<Message, { type: "AlterPartitionAnswer" }>,
): { state: ClusterState; outcome: string } {
  const node = nodeOf(state, m.to);
  const pending = pendingAlterPartition(node);
  if (pending === null || canonicalize(pending) !== canonicalize(m.request)) {
    return { state, outcome: "ignored (answers an earlier request)" };
  }
  const s = withNode(state, { ...node, awaitingAlterPartition: false });
  if (m.errorCode === 0) {
    const event = { leaderEpoch: m.leaderEpoch, partitionEpoch: m.partitionEpoch, isr: m.isr };
    return { state: stepIsr(rt, s, m.to, { type: "isr.committed", ...event }), outcome: "isr.committed" };
  }
  return {
    state: stepIsr(rt, s, m.to, { type: "isr.rejected", errorCode: m.errorCode }),
    outcome: "isr.rejected",
  };
}

// --- the environment's actions ------------------------------------------------------------

function deliver(
  rt: Runtime,
  state: ClusterState,
  m: Message,
): { state: ClusterState; outcome: string } | null {
  switch (m.type) {
    case "Fetch":
      return deliverFetch(rt, state, m);
    case "FetchAnswer":
    case "FetchDiverging":
      return deliverFetchAnswer(rt, state, m);
    case "AlterPartition":
      return deliverAlterPartition(rt, state, m);
    case "AlterPartitionAnswer":
      return state.committed < m.committedAt && !rt.options.faults.answerAlterPartitionBeforeCommit
        ? null
        : deliverAlterPartitionAnswer(rt, state, m);
  }
}

function alterPartitionInFlight(state: ClusterState, id: number): boolean {
  return state.messages.some(
    (m) =>
      (m.type === "AlterPartition" && m.from === id) || (m.type === "AlterPartitionAnswer" && m.to === id),
  );
}

/**
 * A crash closes the node's connections: what was sent to it is gone, and so
 * are its own fetches, whose answers could not reach it. What it sent before
 * (fetch answers, an AlterPartition) may still arrive and be acted on.
 */
function crash(state: ClusterState, node: PartitionNode): ClusterState {
  const down: PartitionNode = { ...node, up: false, isr: null, awaitingAlterPartition: false };
  const lost = (m: Message) => ("to" in m && m.to === node.id) || (m.type === "Fetch" && m.from === node.id);
  return {
    ...withNode(state, down),
    messages: state.messages.filter((m) => !lost(m)),
    crashes: state.crashes + 1,
  };
}

/**
 * A live node asks the controller to let it shut down: the partition exists,
 * and the controller has neither fenced it nor begun its shutdown already.
 */
function mayBeginControlledShutdown(state: ClusterState, id: number): boolean {
  const controller = state.controller;
  return (
    controller.value !== "NonExistent" &&
    controller.value !== "Deleted" &&
    !state.fenced.includes(id) &&
    !controller.context.shuttingDownBrokers.includes(id)
  );
}

/** How far the budgets reach: the exploration's start plus the options' bounds (a script has none). */
interface Limits {
  produced: number;
  ticks: number;
  crashes: number;
  shutdowns: number;
  drops: number;
}

const unlimited: Limits = { produced: 1e9, ticks: 1e9, crashes: 1e9, shutdowns: 1e9, drops: 1e9 };

function limitsFrom(rt: Runtime, start: ClusterState): Limits {
  const o = rt.options;
  return {
    produced: start.produced + o.maxProduce,
    ticks: start.ticks + o.maxTicks,
    crashes: start.crashes + o.maxCrashes,
    shutdowns: start.shutdowns + (o.maxControlledShutdowns ?? 0),
    drops: start.drops + o.maxDrops,
  };
}

export function clusterActions(
  rt: Runtime,
  state: ClusterState,
  limits: Limits,
): Array<Action<ClusterState>> {
  const o = rt.options;
  const out: Array<Action<ClusterState>> = [];
  const seen = new Set<string>();
  state.messages.forEach((m, i) => {
    const key = canonicalize(m);
    if (seen.has(key)) return; // identical copies lead to identical states
    seen.add(key);
    const rest: ClusterState = { ...state, messages: state.messages.filter((_, j) => j !== i) };
    const label = messageLabel(m);
    const delivered = deliver(rt, rest, m);
    if (delivered !== null) out.push({ label: `${label}: ${delivered.outcome}`, next: delivered.state });
    if (state.drops < limits.drops)
      out.push({ label: `${label} lost`, next: { ...rest, drops: state.drops + 1 } });
  });
  if (state.controller.value === "NonExistent") {
    out.push({
      label: `CreateTopics ${TOPIC_ID} (replicas ${list(o.nodeIds)})`,
      next: createTopic(rt, state),
    });
  }
  if (state.committed < state.metadata.length) {
    const record = recordSummary(state.metadata[state.committed]!);
    out.push({ label: `metadata offset ${state.committed} commits: ${record}`, next: commitNext(rt, state) });
  }
  if (state.ticks < limits.ticks) out.push({ label: "time passes", next: tick(rt, state) });
  for (const node of state.nodes) {
    const n = `n${node.id}`;
    if (!node.up) {
      if (!state.fenced.includes(node.id)) {
        const fenced = { ...state, fenced: [...state.fenced, node.id].sort((a, b) => a - b) };
        out.push({
          label: `controller fences ${n}`,
          next: stepController(rt, fenced, { type: "broker.fenced", brokerId: node.id }),
        });
      } else {
        out.push({
          label: `${n} restarts`,
          next: reconcile(rt, withNode(state, { ...node, up: true }), node.id, null),
        });
      }
      continue;
    }
    const applicable = o.faults.applyUncommittedMetadata ? state.metadata.length : state.committed;
    if (node.applied < applicable) {
      out.push({
        label: `${n} applies ${recordSummary(state.metadata[node.applied]!)}`,
        next: applyNext(rt, state, node.id),
      });
    }
    const fetch = nextFetch(rt, state, node.id);
    if (fetch !== null)
      out.push({ label: `${n} sends ${messageLabel(fetch)}`, next: sendFetch(rt, state, node.id) });
    if (node.isr !== null && state.produced < limits.produced) {
      const next = produce(rt, state, node.id);
      const appended = logEnd(nodeOf(next, node.id).replica) > logEnd(node.replica);
      out.push({
        label: `client produces r${state.produced + 1} to ${n}: ${appended ? "appended" : "refused"}`,
        next,
      });
    }
    const request = pendingAlterPartition(node);
    if (node.awaitingAlterPartition && request !== null && !alterPartitionInFlight(state, node.id)) {
      const resend: Message = { type: "AlterPartition", from: node.id, ...request };
      out.push({ label: `${n} sends again ${messageLabel(resend)}`, next: send(rt, state, resend) });
    }
    if (state.crashes < limits.crashes) out.push({ label: `${n} crashes`, next: crash(state, node) });
    if (state.shutdowns < limits.shutdowns && mayBeginControlledShutdown(state, node.id)) {
      out.push({
        label: `${n} begins controlled shutdown`,
        next: stepController(
          rt,
          { ...state, shutdowns: state.shutdowns + 1 },
          { type: "broker.shutdownStarted", brokerId: node.id },
        ),
      });
    }
    if (state.fenced.includes(node.id) && node.applied === state.committed) {
      const unfenced = { ...state, fenced: state.fenced.filter((id) => id !== node.id) };
      out.push({
        label: `controller unfences ${n}`,
        next: stepController(rt, unfenced, { type: "broker.unfenced", brokerId: node.id }),
      });
    }
  }
  return out.map((a) => ({ label: a.label, next: withLeaders(a.next) }));
}

/**
 * The model over a runtime, from an initial state, with the configuration's
 * `sometimes` properties. A script (action labels, taken from the initial
 * state without the bounds) may lead to where exploration starts; the bounds
 * then count from there.
 */
export function createPartitionClusterModel(
  rt: Runtime,
  initial: ClusterState,
  sometimes: Array<Sometimes<ClusterState>>,
  script: readonly string[] = [],
): Model<ClusterState> {
  let start = withLeaders(initial);
  for (const label of script) {
    const enabled = clusterActions(rt, start, unlimited);
    const taken = enabled.find((a) => a.label === label);
    if (taken === undefined) {
      throw new Error(
        `model: scripted step "${label}" is not enabled; enabled: ${enabled.map((a) => a.label).join(" | ")}`,
      );
    }
    start = taken.next;
  }
  const limits = limitsFrom(rt, start);
  return {
    initialStates: () => [start],
    actions: (state) => clusterActions(rt, state, limits),
    invariants: clusterInvariants,
    sometimes,
    describe: describeCluster,
    ...(script.length === 0 ? {} : { prelude: [...script] }),
  };
}
