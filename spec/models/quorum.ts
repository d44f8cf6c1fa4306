/**
 * The Quorum model: three voters, each the real Raft quorum machine, stepped
 * through xstate's pure `transition()`; the model only routes what the machine
 * asks to send. A node is plain data (its state value and context, rebuilt
 * with `machine.resolveState` to step it), the network a bounded multiset of
 * messages in flight (a sorted array; sends beyond its capacity are lost), and
 * the environment may deliver or drop any message, fire a node's election
 * timer, crash a node (keeping only its persisted quorum state and its durable
 * log) and restart it from the machine's input.
 *
 * Bounds that keep the space finite: no election timer fires on a node whose
 * epoch has reached `maxEpoch`, at most `maxCrashes` crashes, at most
 * `maxMessages` messages in flight.
 *
 * Not yet modelled: the observer joining as a voter, voter removal, fetches
 * and the clock (check-quorum resignation), message duplication.
 */
import { initialTransition, transition } from "xstate";
import {
  type Context,
  type Event,
  type Input,
  type LogPosition,
  type QuorumConfig,
  type RaftQuorumMachine,
  raftQuorumMachine,
} from "../../machines/raft-quorum.ts";
import type { Action, Model } from "../checker/model.ts";
import { canonicalize } from "../checker/serialize.ts";
import {
  type ClusterView,
  ElectionSafety,
  emptyHistory,
  observeLeaders,
  type QuorumLeaderSeen,
  type QuorumRole,
} from "../invariants/index.ts";

export interface QuorumModelOptions {
  /** The machine every node runs; a mutant from `raftQuorumMachine.provide(...)` for the mutation suite. */
  machine?: RaftQuorumMachine;
  /** Node ids of the voters. Default [1, 2, 3]. */
  voters?: number[];
  /** No election timer fires on a node already in this epoch. Default 3. */
  maxEpoch?: number;
  /** How many crashes a run may have in all. Default 1. */
  maxCrashes?: number;
  /** Messages in flight at most; a send beyond it is lost. Default 4. */
  maxMessages?: number;
}

/** What persistQuorumState wrote: the quorum-state file. */
export interface Persisted {
  epoch: number;
  votedFor: number | null;
}

export interface QuorumNode {
  id: number;
  up: boolean;
  /** The machine's state value while up; "down" while crashed. */
  value: string;
  /** The machine's context while up; null while crashed. */
  context: Context | null;
  persisted: Persisted;
  /** The durable log's end, as the machine last knew it (survives a crash). */
  log: LogPosition;
}

export type MessageEvent = Extract<
  Event,
  { type: "vote.requested" | "vote.answered" | "leader.announced" | "leader.resigned" }
>;

export interface Message {
  from: number;
  to: number;
  event: MessageEvent;
}

export interface QuorumState {
  nodes: QuorumNode[];
  /** In flight, a multiset kept sorted by canonical serialization. */
  messages: Message[];
  /** Ghost: every (epoch, leader) seen so far, sorted. */
  leaders: QuorumLeaderSeen[];
  crashes: number;
  restarts: number;
  /** Ghost: the first time a node persisted an epoch below one it had persisted before. */
  epochRegression: string | null;
}

const config: QuorumConfig = { fetchTimeoutMs: 1_000, checkQuorumTimeoutMs: 2_000 };

export function createQuorumModel(options: QuorumModelOptions = {}): Model<QuorumState> {
  const machine = options.machine ?? raftQuorumMachine;
  const voters = options.voters ?? [1, 2, 3];
  const maxEpoch = options.maxEpoch ?? 3;
  const maxCrashes = options.maxCrashes ?? 1;
  const maxMessages = options.maxMessages ?? 4;

  type Snapshot = ReturnType<typeof machine.resolveState>;
  type Effect = { type: string; params?: unknown };

  /** A node's new snapshot and effects folded into the model state. */
  function apply(
    state: QuorumState,
    id: number,
    snapshot: Snapshot,
    effects: readonly Effect[],
  ): QuorumState {
    let epochRegression = state.epochRegression;
    let messages = [...state.messages];
    const old = state.nodes.find((n) => n.id === id)!;
    let persisted = old.persisted;
    const send = (to: number, event: MessageEvent) => {
      if (messages.length < maxMessages) messages.push({ from: id, to, event });
    };
    for (const effect of effects) {
      const p = effect.params as Record<string, never>;
      switch (effect.type) {
        case "persistQuorumState": {
          const written = p as unknown as Persisted;
          if (written.epoch < persisted.epoch && epochRegression === null)
            epochRegression = `n${id} persisted epoch ${written.epoch} after epoch ${persisted.epoch}`;
          persisted = { epoch: written.epoch, votedFor: written.votedFor };
          break;
        }
        case "sendVoteRequests": {
          const r = p as unknown as {
            epoch: number;
            preVote: boolean;
            lastEpoch: number;
            endOffset: number;
            voters: number[];
          };
          for (const to of r.voters) {
            send(to, {
              type: "vote.requested",
              candidateId: id,
              epoch: r.epoch,
              lastEpoch: r.lastEpoch,
              endOffset: r.endOffset,
              preVote: r.preVote,
            });
          }
          break;
        }
        case "sendVoteAnswer": {
          const a = p as unknown as { to: number; epoch: number; granted: boolean; preVote: boolean };
          send(a.to, {
            type: "vote.answered",
            voterId: id,
            epoch: a.epoch,
            granted: a.granted,
            preVote: a.preVote,
          });
          break;
        }
        case "sendBeginQuorumEpoch":
        case "sendEndQuorumEpoch": {
          const b = p as unknown as { epoch: number; leaderId: number; voters: number[] };
          const type = effect.type === "sendBeginQuorumEpoch" ? "leader.announced" : "leader.resigned";
          for (const to of b.voters) send(to, { type, leaderId: b.leaderId, epoch: b.epoch });
          break;
        }
        default:
          break; // timers, log appends, high watermark: nothing for this model to route
      }
    }
    messages = sortMessages(messages);
    const context = snapshot.context as Context;
    const node: QuorumNode = {
      id,
      up: true,
      value: String(snapshot.value),
      context,
      persisted,
      log: { lastEpoch: context.log.lastEpoch, endOffset: context.log.endOffset },
    };
    return withLeaders({
      ...state,
      nodes: state.nodes.map((n) => (n.id === id ? node : n)),
      messages,
      epochRegression,
    });
  }

  function start(state: QuorumState, id: number, input: Input): QuorumState {
    const [snapshot, effects] = initialTransition(machine, input);
    return apply(state, id, snapshot as Snapshot, effects as readonly Effect[]);
  }

  function step(state: QuorumState, node: QuorumNode, event: Event): QuorumState {
    const snapshot = machine.resolveState({ value: node.value, context: node.context! } as never);
    const [next, effects] = transition(machine, snapshot, event);
    return apply(state, node.id, next as Snapshot, effects as readonly Effect[]);
  }

  function initial(): QuorumState {
    let state: QuorumState = {
      nodes: voters.map((id) => ({
        id,
        up: false,
        value: "down",
        context: null,
        persisted: { epoch: 0, votedFor: null },
        log: { lastEpoch: 0, endOffset: 0 },
      })),
      messages: [],
      leaders: [],
      crashes: 0,
      restarts: 0,
      epochRegression: null,
    };
    for (const id of voters) state = start(state, id, { nodeId: id, voters, config });
    return state;
  }

  function actions(state: QuorumState): Array<Action<QuorumState>> {
    const out: Array<Action<QuorumState>> = [];
    const seen = new Set<string>();
    state.messages.forEach((message, i) => {
      const key = canonicalize(message);
      if (seen.has(key)) return; // identical copies lead to identical states
      seen.add(key);
      const rest = state.messages.filter((_, j) => j !== i);
      const target = state.nodes.find((n) => n.id === message.to)!;
      const name = messageLabel(message);
      if (target.up) {
        out.push({
          label: `${name} delivered`,
          next: step({ ...state, messages: rest }, target, message.event),
        });
      }
      out.push({ label: `${name} dropped`, next: { ...state, messages: rest } });
    });
    for (const node of state.nodes) {
      if (node.up) {
        if (node.value !== "leader" && node.context!.epoch < maxEpoch) {
          out.push({
            label: `n${node.id} election timeout (${node.value}, epoch ${node.context!.epoch})`,
            next: step(state, node, { type: "election.timedOut" }),
          });
        }
        if (state.crashes < maxCrashes) {
          const down: QuorumNode = { ...node, up: false, value: "down", context: null };
          out.push({
            label: `n${node.id} crashes`,
            next: {
              ...state,
              nodes: state.nodes.map((n) => (n.id === node.id ? down : n)),
              crashes: state.crashes + 1,
            },
          });
        }
      } else {
        const restarted = start({ ...state, restarts: state.restarts + 1 }, node.id, {
          nodeId: node.id,
          voters,
          config,
          persisted: node.persisted,
          log: node.log,
        });
        out.push({
          label: `n${node.id} restarts (epoch ${node.persisted.epoch}, voted ${who(node.persisted.votedFor)})`,
          next: restarted,
        });
      }
    }
    return out;
  }

  return {
    initialStates: () => [initial()],
    actions,
    invariants: [
      {
        name: "ElectionSafety",
        holds: (s) => ElectionSafety.check(clusterView(s)) ?? true,
      },
      {
        name: "EpochsMonotonic",
        holds: (s) => {
          if (s.epochRegression !== null) return s.epochRegression;
          const behind = s.nodes.find((n) => n.up && n.context!.epoch < n.persisted.epoch);
          return behind === undefined
            ? true
            : `n${behind.id} runs in epoch ${behind.context!.epoch} below its persisted epoch ${behind.persisted.epoch}`;
        },
      },
    ],
    sometimes: [
      { name: "a leader is elected", reached: (s) => s.leaders.length > 0 },
      {
        name: "a vote is refused",
        reached: (s) => s.messages.some((m) => m.event.type === "vote.answered" && !m.event.granted),
      },
      { name: "a node crashes and restarts", reached: (s) => s.restarts > 0 },
    ],
    describe: (s) => {
      const view: Record<string, unknown> = {};
      for (const n of s.nodes) {
        view[`n${n.id}`] = n.up
          ? `${n.value} epoch ${n.context!.epoch} voted ${who(n.context!.votedFor)} leader ${who(n.context!.leaderId)}`
          : `down (persisted epoch ${n.persisted.epoch}, voted ${who(n.persisted.votedFor)})`;
      }
      view.inFlight = s.messages.map(messageLabel).join("; ") || "none";
      view.leaders = s.leaders.map((l) => `epoch ${l.epoch}: n${l.nodeId}`).join(", ") || "none";
      return view;
    },
  };
}

function who(id: number | null): string {
  return id === null ? "none" : `n${id}`;
}

function sortMessages(messages: Message[]): Message[] {
  return messages
    .map((m) => [canonicalize(m), m] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, m]) => m);
}

/** A transcript name for a message: `n2→n1 Vote(epoch 2, pre)`. */
export function messageLabel(m: Message): string {
  const e = m.event;
  const route = `n${m.from}→n${m.to}`;
  switch (e.type) {
    case "vote.requested":
      return `${route} Vote(epoch ${e.epoch}${e.preVote ? ", pre" : ""}, log ${e.lastEpoch}:${e.endOffset})`;
    case "vote.answered":
      return `${route} VoteAnswer(epoch ${e.epoch}${e.preVote ? ", pre" : ""}, ${e.granted ? "granted" : "refused"})`;
    case "leader.announced":
      return `${route} BeginQuorumEpoch(epoch ${e.epoch}, leader n${e.leaderId})`;
    case "leader.resigned":
      return `${route} EndQuorumEpoch(epoch ${e.epoch}, leader n${e.leaderId})`;
  }
}

/** The nodes as the shared invariants read them, with the leaders seen so far as history. */
function clusterView(s: QuorumState): ClusterView {
  return {
    nodes: s.nodes.map((n) => ({
      nodeId: n.id,
      alive: n.up,
      quorum: {
        role: (n.up ? n.value : "unattached") as QuorumRole,
        epoch: n.up ? n.context!.epoch : n.persisted.epoch,
        votedFor: n.up ? n.context!.votedFor : n.persisted.votedFor,
        leaderId: n.up ? n.context!.leaderId : null,
        voters: n.up ? n.context!.voters : [],
        highWatermark: n.up ? n.context!.highWatermark : 0,
      },
      metadataLog: [],
      appliedMetadataOffset: 0,
      replicas: {},
    })),
    committedMetadata: [],
    committedMetadataOffset: 0,
    partitions: {},
    acked: [],
    history: { ...emptyHistory, quorumLeaders: s.leaders },
  };
}

/** Records every node now leading, with its epoch, in the ghost history (sorted). */
function withLeaders(s: QuorumState): QuorumState {
  const seen = observeLeaders(clusterView(s)).quorumLeaders;
  if (seen.length === s.leaders.length) return s;
  const leaders = [...seen].sort((a, b) => a.epoch - b.epoch || a.nodeId - b.nodeId);
  return { ...s, leaders };
}
