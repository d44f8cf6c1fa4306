/**
 * The Quorum model's runtime: what the broker's Raft adapter does around each
 * node's machine, over plain data. It carries out the effects the machine
 * returns in their order (persist, append, send), answers Fetch from the
 * leader's log with the shared divergence rules, appends or truncates a
 * follower's log from a Fetch answer and tells its machine (log.appended,
 * voters.changed, fetch.answered). No protocol decision is made here: every
 * one is the machine's.
 */
import { epochStartsOf, fetchDivergence, truncationOffset } from "../../machines/log-divergence.ts";
import type { Context, Event, Input, QuorumConfig } from "../../machines/raft-quorum.ts";
import type { Effect, MachineStepper, Stepped } from "./machine-stepper.ts";
import {
  isUp,
  type LogEntry,
  lastEpochOf,
  type Message,
  type QuorumEvent,
  type QuorumNode,
  type QuorumState,
  sortMessages,
  votersOf,
} from "./quorum-state.ts";

export type QuorumStepper = MachineStepper<Context, Event, Input>;

export interface QuorumRuntimeOptions {
  stepper: QuorumStepper;
  /** The voter set before any voters record. */
  initialVoters: number[];
  /** Messages in flight at most; a send beyond it is lost. */
  maxMessages: number;
  config: QuorumConfig;
}

export interface QuorumRuntime {
  /** Starts (or restarts) node `id` from its disk: persisted quorum state and log. */
  start(state: QuorumState, id: number): QuorumState;
  step(state: QuorumState, id: number, event: Event): QuorumState;
  /** A Fetch arrives at its destination. */
  receiveFetch(state: QuorumState, fetch: Extract<Message, { kind: "fetch" }>): QuorumState;
  /** A Fetch answer arrives at the fetcher. */
  receiveFetchAnswer(state: QuorumState, answer: Extract<Message, { kind: "fetchAnswer" }>): QuorumState;
  /** The Fetch `node` sends to `to` now: from its log end, with its last epoch. */
  fetchOf(node: QuorumNode, to: number): Extract<Message, { kind: "fetch" }>;
}

export function createQuorumRuntime(options: QuorumRuntimeOptions): QuorumRuntime {
  const { stepper, initialVoters, maxMessages, config } = options;

  function nodeOf(state: QuorumState, id: number): QuorumNode {
    const node = state.nodes.find((n) => n.id === id);
    if (node === undefined) throw new Error(`quorum model: no node ${id}`);
    return node;
  }

  function withNode(state: QuorumState, node: QuorumNode): QuorumState {
    return { ...state, nodes: state.nodes.map((n) => (n.id === node.id ? node : n)) };
  }

  /** Folds a machine step into the state: the new machine, then each effect in order. */
  function apply(state: QuorumState, id: number, stepped: Stepped<Context>): QuorumState {
    let node: QuorumNode = { ...nodeOf(state, id), machine: stepped.node };
    let messages = state.messages;
    let ghost = state.ghost;
    const send = (message: Message) => {
      if (messages.length < maxMessages) messages = [...messages, message];
    };
    const sendEvent = (to: number, event: QuorumEvent) => send({ from: id, to, kind: "event", event });
    for (const effect of stepped.effects) {
      const p = effect.params;
      switch (effect.type) {
        case "persistQuorumState": {
          const epoch = p.epoch as number;
          if (epoch < node.persisted.epoch && ghost.epochRegression === null) {
            ghost = {
              ...ghost,
              epochRegression: `n${id} persisted epoch ${epoch} after epoch ${node.persisted.epoch}`,
            };
          }
          node = { ...node, persisted: { epoch, votedFor: p.votedFor as number | null } };
          break;
        }
        case "appendLeaderChangeRecord":
          node = {
            ...node,
            log: appendAt(node, effect, { epoch: p.epoch as number, record: `LeaderChange n${id}` }),
          };
          break;
        case "appendVotersRecord": {
          const voters = p.voters as number[];
          node = {
            ...node,
            log: appendAt(node, effect, {
              epoch: p.epoch as number,
              record: `Voters [${voters.join(",")}]`,
              voters,
            }),
          };
          break;
        }
        case "applyCommittedRecords":
          ghost = publishCommit(ghost, node, p.highWatermark as number);
          break;
        case "answerMembershipRequest":
          if (p.error === "NONE") {
            ghost =
              p.kind === "add"
                ? { ...ghost, votersAdded: ghost.votersAdded + 1 }
                : { ...ghost, votersRemoved: ghost.votersRemoved + 1 };
            if (p.kind === "remove" && p.nodeId === id) {
              const epoch = stepped.node.context.epoch;
              ghost = {
                ...ghost,
                selfRemovalEpochs: [...new Set([...ghost.selfRemovalEpochs, epoch])].sort((a, b) => a - b),
              };
            }
          }
          break;
        case "sendVoteRequests":
          for (const to of p.voters as number[]) {
            sendEvent(to, {
              type: "vote.requested",
              candidateId: id,
              epoch: p.epoch as number,
              lastEpoch: p.lastEpoch as number,
              endOffset: p.endOffset as number,
              preVote: p.preVote as boolean,
            });
          }
          break;
        case "sendVoteAnswer":
          sendEvent(p.to as number, {
            type: "vote.answered",
            voterId: id,
            epoch: p.epoch as number,
            granted: p.granted as boolean,
            preVote: p.preVote as boolean,
          });
          break;
        case "sendBeginQuorumEpoch":
        case "sendEndQuorumEpoch": {
          const type = effect.type === "sendBeginQuorumEpoch" ? "leader.announced" : "leader.resigned";
          for (const to of p.voters as number[])
            sendEvent(to, { type, leaderId: p.leaderId as number, epoch: p.epoch as number });
          break;
        }
        default:
          break; // timers: the model fires them as actions of their own
      }
    }
    return { ...withNode(state, node), messages: sortMessages([...messages]), ghost };
  }

  /** The leader's own records go exactly at the offset the machine names (its log end). */
  function appendAt(node: QuorumNode, effect: Effect, entry: LogEntry): LogEntry[] {
    const offset = effect.params.offset as number;
    if (offset !== node.log.length) {
      throw new Error(
        `quorum model: n${node.id} ${effect.type} at ${offset} but its log ends at ${node.log.length}`,
      );
    }
    return [...node.log, entry];
  }

  /**
   * A leader's high watermark is the commit point: the committed log becomes its
   * prefix. A prefix that contradicts what was committed before is kept out, so
   * that MetadataLogMatching reports the node that applied it.
   */
  function publishCommit(ghost: QuorumState["ghost"], node: QuorumNode, highWatermark: number) {
    if (node.machine?.context.leaderId !== node.id) return ghost;
    if (highWatermark <= ghost.committed.length) return ghost;
    const agrees = ghost.committed.every(
      (entry, offset) => node.log[offset]?.epoch === entry.epoch && node.log[offset]?.record === entry.record,
    );
    return agrees ? { ...ghost, committed: node.log.slice(0, highWatermark) } : ghost;
  }

  function step(state: QuorumState, id: number, event: Event): QuorumState {
    const node = nodeOf(state, id);
    if (!isUp(node)) throw new Error(`quorum model: ${event.type} to n${id}, which is down`);
    return apply(state, id, stepper.step(node.machine, event));
  }

  function start(state: QuorumState, id: number): QuorumState {
    const node = nodeOf(state, id);
    return apply(
      state,
      id,
      stepper.start({
        nodeId: id,
        voters: votersOf(node.log, initialVoters),
        config,
        persisted: node.persisted,
        log: { lastEpoch: lastEpochOf(node.log), endOffset: node.log.length },
        nowMs: state.nowMs,
      }),
    );
  }

  /** A node's log changed under it (append or truncation): tell its machine, and its voters if they changed. */
  function logChanged(state: QuorumState, id: number, log: LogEntry[]): QuorumState {
    const before = nodeOf(state, id);
    let next = withNode(state, { ...before, log });
    if (log.length < before.log.length)
      next = { ...next, ghost: { ...next.ghost, truncations: next.ghost.truncations + 1 } };
    next = step(next, id, { type: "log.appended", endOffset: log.length, lastEpoch: lastEpochOf(log) });
    const voters = votersOf(log, initialVoters);
    const machine = nodeOf(next, id).machine;
    if (machine !== null && voters.join() !== machine.context.voters.join()) {
      next = step(next, id, { type: "voters.changed", voters });
    }
    return next;
  }

  return {
    start,
    step,
    fetchOf(node, to) {
      const context = node.machine!.context;
      return {
        from: node.id,
        to,
        kind: "fetch",
        epoch: context.epoch,
        fetchOffset: node.log.length,
        lastFetchedEpoch: lastEpochOf(node.log),
      };
    },

    receiveFetch(state, fetch) {
      const leader = nodeOf(state, fetch.to);
      if (!isUp(leader)) return state;
      const context = leader.machine.context;
      const leads = leader.machine.value === "leader";
      if (fetch.epoch > context.epoch || (leads && fetch.epoch === context.epoch)) {
        const diverging = leads
          ? fetchDivergence(
              epochStartsOf(leader.log.map((e) => e.epoch)),
              leader.log.length,
              fetch.fetchOffset,
              fetch.lastFetchedEpoch,
            )
          : null;
        // A diverging fetch says nothing of the replica's progress: only a matching one is recorded.
        const next =
          diverging === null
            ? step(state, leader.id, {
                type: "replica.fetched",
                replicaId: fetch.from,
                epoch: fetch.epoch,
                fetchOffset: fetch.fetchOffset,
                lastFetchedEpoch: fetch.lastFetchedEpoch,
                nowMs: state.nowMs,
              })
            : state;
        const after = nodeOf(next, leader.id);
        if (after.machine?.value !== "leader") return next;
        const answer: Message = {
          from: leader.id,
          to: fetch.from,
          kind: "fetchAnswer",
          epoch: after.machine.context.epoch,
          leaderId: leader.id,
          highWatermark: after.machine.context.highWatermark,
          fetchOffset: fetch.fetchOffset,
          records: diverging === null ? after.log.slice(fetch.fetchOffset) : [],
          diverging,
        };
        return next.messages.length < maxMessages
          ? { ...next, messages: sortMessages([...next.messages, answer]) }
          : next;
      }
      // Not the leader of the fetcher's epoch: answer with the leader it knows, as Kafka's error answers do.
      if (context.leaderId === null || context.leaderId === fetch.from) return state;
      const hint: Message = {
        from: leader.id,
        to: fetch.from,
        kind: "event",
        event: { type: "leader.announced", leaderId: context.leaderId, epoch: context.epoch },
      };
      return state.messages.length < maxMessages
        ? { ...state, messages: sortMessages([...state.messages, hint]) }
        : state;
    },

    receiveFetchAnswer(state, answer) {
      const node = nodeOf(state, answer.to);
      if (!isUp(node)) return state;
      const context = node.machine.context;
      const current = answer.epoch === context.epoch && context.leaderId === answer.leaderId;
      const answered: Event = {
        type: "fetch.answered",
        leaderId: answer.leaderId,
        epoch: answer.epoch,
        highWatermark: answer.highWatermark,
        nowMs: state.nowMs,
      };
      if (!current) {
        // A newer leader: follow it first; its records come with the next fetch.
        return answer.epoch >= context.epoch ? step(state, node.id, answered) : state;
      }
      if (answer.diverging !== null) {
        const end = truncationOffset(
          epochStartsOf(node.log.map((e) => e.epoch)),
          node.log.length,
          answer.diverging,
        );
        return end < node.log.length ? logChanged(state, node.id, node.log.slice(0, end)) : state;
      }
      // An answer to an older fetch, overtaken by another: its records would not line up.
      if (answer.fetchOffset !== node.log.length) return state;
      const next =
        answer.records.length > 0 ? logChanged(state, node.id, [...node.log, ...answer.records]) : state;
      return step(next, node.id, answered);
    },
  };
}
