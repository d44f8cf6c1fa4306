/**
 * The Quorum model: voters and observers, each running the real Raft quorum
 * machine (stepped through xstate's pure `transition()` by machine-stepper.ts),
 * with the adapter's part (logs, Fetch, effects) in quorum-runtime.ts. The
 * environment may:
 * - deliver any message in flight, in any order, drop it, or duplicate it;
 * - fire a node's election timer; let time pass (a clock tick to every node,
 *   which is what makes followers grant pre-votes again and leaders resign
 *   when a majority stops fetching);
 * - have a follower fetch from its leader, or an observer fetch from a voter;
 * - have the leader append a client record;
 * - send AddRaftVoter or RemoveRaftVoter to the leader;
 * - crash a node (it keeps only its quorum-state file and its log) and
 *   restart it from them.
 *
 * Budgets keep the space finite: epochs, crashes, ticks, duplicates, appends,
 * membership requests and messages in flight are bounded by the options. A
 * configuration may begin from a scripted prefix: a list of action labels taken
 * from the fresh cluster, through the same machines, to reach a starting point
 * (an established leader, say) from which every interleaving is explored. A
 * starting point may bring budgets of its own (a scenario), so that one model
 * can explore a few situations, each with only the moves it needs.
 */
import { type QuorumConfig, type RaftQuorumMachine, raftQuorumMachine } from "../../machines/raft-quorum.ts";
import type { Action, Invariant, Model, Sometimes } from "../checker/model.ts";
import { canonicalize } from "../checker/serialize.ts";
import {
  type ClusterView,
  ElectionSafety,
  EpochsMonotonic,
  HighWatermarkValid,
  LeaderCompleteness,
  LogMatching,
  MetadataLogMatching,
  OneMembershipChangeAtATime,
  observeLeaders,
} from "../invariants/index.ts";
import { createStepper } from "./machine-stepper.ts";
import { createQuorumRuntime, type QuorumStepper } from "./quorum-runtime.ts";
import {
  type Budget,
  isUp,
  logSummary,
  messageLabel,
  type QuorumNode,
  type QuorumState,
  roleOf,
  sortMessages,
  who,
} from "./quorum-state.ts";

export interface QuorumModelOptions {
  /** The machine every node runs; a mutant from `raftQuorumMachine.provide(...)` for the mutation suite. */
  machine?: RaftQuorumMachine;
  /** The voters before any voters record. Default [1, 2, 3]. */
  voters?: number[];
  /** Nodes that start as observers. Default none. */
  observers?: number[];
  /** No election timer fires on a node already in this epoch. Default 2. */
  maxEpoch?: number;
  maxCrashes?: number;
  /** Clock ticks in all; each is `fetchTimeoutMs`. */
  maxTicks?: number;
  maxDuplicates?: number;
  /** Client records the leaders append in all. */
  maxAppends?: number;
  /** AddRaftVoter and RemoveRaftVoter requests in all. */
  maxMembershipRequests?: number;
  /** Messages in flight at most; a send beyond it is lost. Default 4. */
  maxMessages?: number;
  /** Messages may be dropped. Default true. */
  drops?: boolean;
  /**
   * Starting points, each the action labels taken from the fresh cluster to
   * reach it, or a scenario: such labels with budgets that replace the
   * model's for the exploration from there. Default: the fresh cluster itself.
   */
  scripts?: Array<string[] | QuorumScenario>;
  /** Which of `quorumSometimes` must be reached. Default: all of them. */
  mustReach?: QuorumSometimesName[];
}

/** A starting point with budgets of its own (QuorumModelOptions names, the model's where left out). */
export interface QuorumScenario {
  script: string[];
  budget: Partial<
    Pick<
      QuorumModelOptions,
      "maxEpoch" | "maxCrashes" | "maxTicks" | "maxDuplicates" | "maxAppends" | "maxMembershipRequests"
    >
  >;
}

export const config: QuorumConfig = { fetchTimeoutMs: 1_000, checkQuorumTimeoutMs: 2_000 };

/** The `sometimes` properties this model knows, by name. */
export const quorumSometimes = {
  "a leader is elected": (s: QuorumState) => s.ghost.leaders.length > 0,
  "a vote is refused": (s: QuorumState) =>
    s.messages.some((m) => m.kind === "event" && m.event.type === "vote.answered" && !m.event.granted),
  "a record is committed": (s: QuorumState) => s.ghost.committed.some((e) => e.record.startsWith("r")),
  "a leader fails over": (s: QuorumState) => new Set(s.ghost.leaders.map((l) => l.nodeId)).size > 1,
  "a leader resigns": (s: QuorumState) => s.nodes.some((n) => roleOf(n) === "resigned"),
  "a node crashes and restarts": (s: QuorumState) => s.spent.restarts > 0,
  "a voter is added": (s: QuorumState) => s.ghost.votersAdded > 0,
  "a voter is removed": (s: QuorumState) => s.ghost.votersRemoved > 0,
  "a follower truncates its log": (s: QuorumState) => s.ghost.truncations > 0,
  // A leader elected after the last one went down, which is down still: the rest of the voters sufficed.
  "a leader is elected while the last one is down": (s: QuorumState) =>
    s.nodes.some(
      (down) =>
        !isUp(down) &&
        s.ghost.leaders.some((l) => l.nodeId === down.id) &&
        s.ghost.leaders.some((l) => l.epoch > down.persisted.epoch),
    ),
  "a leader that removed itself hands over": (s: QuorumState) =>
    s.ghost.leaders.some((l) => s.ghost.selfRemovalEpochs.some((epoch) => l.epoch > epoch)),
} satisfies Record<string, (s: QuorumState) => boolean>;

export type QuorumSometimesName = keyof typeof quorumSometimes;

export function createQuorumModel(options: QuorumModelOptions = {}): Model<QuorumState> {
  const voters = options.voters ?? [1, 2, 3];
  const observers = options.observers ?? [];
  const allIds = [...voters, ...observers].sort((a, b) => a - b);
  const maxMessages = options.maxMessages ?? 4;
  const budgetOf = (o: QuorumScenario["budget"]): Budget => ({
    maxEpoch: o.maxEpoch ?? 2,
    ticks: o.maxTicks ?? 0,
    crashes: o.maxCrashes ?? 0,
    duplicates: o.maxDuplicates ?? 0,
    appends: o.maxAppends ?? 0,
    membershipRequests: o.maxMembershipRequests ?? 0,
  });
  const budget = budgetOf(options);
  const drops = options.drops ?? true;
  const stepper: QuorumStepper = createStepper(options.machine ?? raftQuorumMachine);
  const runtime = createQuorumRuntime({ stepper, initialVoters: voters, maxMessages, config });

  function fresh(): QuorumState {
    let state: QuorumState = {
      nodes: allIds.map((id) => ({ id, machine: null, persisted: { epoch: 0, votedFor: null }, log: [] })),
      messages: [],
      nowMs: 0,
      budget,
      spent: { ticks: 0, crashes: 0, restarts: 0, duplicates: 0, appends: 0, membershipRequests: 0 },
      ghost: {
        leaders: [],
        committed: [],
        votersAdded: 0,
        votersRemoved: 0,
        truncations: 0,
        epochRegression: null,
        selfRemovalEpochs: [],
      },
    };
    for (const id of allIds) state = runtime.start(state, id);
    return withLeaders(state);
  }

  function scripted(start: string[] | QuorumScenario): QuorumState {
    const { script, budget: own } = Array.isArray(start) ? { script: start, budget: {} } : start;
    // The scenario's epoch bound holds for its script too; the script spends no other budget.
    let state: QuorumState = { ...fresh(), budget: budgetOf({ ...options, ...own }) };
    for (const label of script) {
      const taken = actions(state, { scripted: true }).find((a) => a.label === label);
      if (taken === undefined) {
        throw new Error(
          `quorum model: scripted step "${label}" is not enabled; enabled: ${actions(state)
            .map((a) => a.label)
            .join(" | ")}`,
        );
      }
      state = taken.next;
    }
    // What the script spent and did is its own: exploration starts with the full budget, and the
    // `sometimes` counters start from zero so that only what the exploration does reaches them.
    // The history the invariants read (leaders seen, the committed log) stays.
    return {
      ...state,
      spent: { ...state.spent, ...zeroBudget },
      ghost: { ...state.ghost, votersAdded: 0, votersRemoved: 0, truncations: 0, selfRemovalEpochs: [] },
    };
  }

  /** A script may drop messages, and spend budgets, even where exploration may not. */
  function actions(state: QuorumState, mode = { scripted: false }): Array<Action<QuorumState>> {
    const out: Array<Action<QuorumState>> = [];
    const add = (label: string, next: QuorumState) => out.push({ label, next: withLeaders(next) });
    // A script is not limited by the exploration's budgets (and does not spend them: initial() resets).
    const allows = (what: Exclude<keyof Budget, "maxEpoch">) =>
      mode.scripted || state.spent[what] < state.budget[what];
    const spend = (s: QuorumState, what: keyof QuorumState["spent"]): QuorumState => ({
      ...s,
      spent: { ...s.spent, [what]: s.spent[what] + 1 },
    });

    const seen = new Set<string>();
    state.messages.forEach((message, i) => {
      const key = canonicalize(message);
      if (seen.has(key)) return; // identical copies lead to identical states
      seen.add(key);
      const rest = { ...state, messages: state.messages.filter((_, j) => j !== i) };
      const name = messageLabel(message);
      const target = state.nodes.find((n) => n.id === message.to)!;
      if (isUp(target)) {
        const delivered =
          message.kind === "fetch"
            ? runtime.receiveFetch(rest, message)
            : message.kind === "fetchAnswer"
              ? runtime.receiveFetchAnswer(rest, message)
              : runtime.step(rest, message.to, message.event);
        add(`${name} delivered`, delivered);
      }
      if (drops || mode.scripted) add(`${name} dropped`, rest);
      if (allows("duplicates") && state.messages.length < maxMessages) {
        add(
          `${name} duplicated`,
          spend({ ...state, messages: sortMessages([...state.messages, message]) }, "duplicates"),
        );
      }
    });

    for (const node of state.nodes) {
      if (!isUp(node)) {
        const restarted = runtime.start(spend(state, "restarts"), node.id);
        add(
          `n${node.id} restarts (epoch ${node.persisted.epoch}, voted ${who(node.persisted.votedFor)}, log ${node.log.length})`,
          restarted,
        );
        continue;
      }
      const context = node.machine.context;
      const role = roleOf(node);
      const isVoter = context.voters.includes(node.id);
      if (role !== "leader" && (isVoter || role === "follower") && context.epoch < state.budget.maxEpoch) {
        add(
          `n${node.id} election timeout (${role}, epoch ${context.epoch})`,
          runtime.step(state, node.id, { type: "election.timedOut" }),
        );
      }
      for (const to of fetchTargets(node)) {
        const fetch = runtime.fetchOf(node, to);
        if (state.messages.length >= maxMessages) break;
        if (state.messages.some((m) => canonicalize(m) === canonicalize(fetch))) continue;
        add(`n${node.id} fetches from n${to}`, {
          ...state,
          messages: sortMessages([...state.messages, fetch]),
        });
      }
      if (role === "leader") {
        if (allows("appends")) {
          const record = `r${state.spent.appends + 1}`;
          const log = [...node.log, { epoch: context.epoch, record }];
          const appended = {
            ...spend(state, "appends"),
            nodes: state.nodes.map((n) => (n.id === node.id ? { ...n, log } : n)),
          };
          add(
            `n${node.id} appends ${record}`,
            runtime.step(appended, node.id, {
              type: "log.appended",
              endOffset: log.length,
              lastEpoch: context.epoch,
            }),
          );
        }
        if (allows("membershipRequests")) {
          const requested = spend(state, "membershipRequests");
          for (const id of allIds) {
            const type = context.voters.includes(id) ? "voter.removeRequested" : "voter.addRequested";
            const name = type === "voter.addRequested" ? "AddRaftVoter" : "RemoveRaftVoter";
            add(`${name}(n${id}) to n${node.id}`, runtime.step(requested, node.id, { type, nodeId: id }));
          }
        }
      }
      if (allows("crashes")) {
        add(`n${node.id} crashes`, {
          ...spend(state, "crashes"),
          nodes: state.nodes.map((n) => (n.id === node.id ? { ...n, machine: null } : n)),
        });
      }
    }

    if (allows("ticks")) {
      let ticked = spend({ ...state, nowMs: state.nowMs + config.fetchTimeoutMs }, "ticks");
      for (const node of ticked.nodes) {
        if (isUp(node)) ticked = runtime.step(ticked, node.id, { type: "clock.ticked", nowMs: ticked.nowMs });
      }
      add(`time passes (now ${ticked.nowMs} ms)`, ticked);
    }
    return out;
  }

  /** A follower fetches from its leader; an observer that knows no leader asks the voters. */
  function fetchTargets(node: QuorumNode & { machine: NonNullable<QuorumNode["machine"]> }): number[] {
    const context = node.machine.context;
    if (roleOf(node) === "follower" && context.leaderId !== null) return [context.leaderId];
    if (roleOf(node) === "unattached" && !context.voters.includes(node.id))
      return context.voters.filter((id) => id !== node.id);
    return [];
  }

  const views = new WeakMap<QuorumState, ClusterView>();
  const view = (s: QuorumState): ClusterView => {
    let v = views.get(s);
    if (v === undefined) {
      v = clusterView(s);
      views.set(s, v);
    }
    return v;
  };
  const shared = (
    invariant: { name: string; check(v: ClusterView, p?: ClusterView): string | null },
    everyStep = false,
  ) =>
    ({
      name: invariant.name,
      everyStep,
      holds: (s: QuorumState, previous?: QuorumState) =>
        invariant.check(view(s), previous === undefined ? undefined : view(previous)) ?? true,
    }) satisfies Invariant<QuorumState>;

  const scripts = options.scripts ?? [[]];
  // Built once: the checker replays counterexamples from these very objects, and prelude() finds them by identity.
  const initials = scripts.map(scripted);
  const scriptOf = (start: string[] | QuorumScenario) => (Array.isArray(start) ? start : start.script);
  const mustReach = options.mustReach ?? (Object.keys(quorumSometimes) as QuorumSometimesName[]);
  return {
    initialStates: () => initials,
    actions: (s) => actions(s),
    invariants: [
      shared(ElectionSafety),
      shared(LogMatching),
      shared(LeaderCompleteness),
      shared(MetadataLogMatching),
      shared(OneMembershipChangeAtATime),
      shared(HighWatermarkValid, true),
      {
        name: "EpochsMonotonic",
        everyStep: true,
        holds: (s, previous) =>
          s.ghost.epochRegression ??
          (previous === undefined ? null : EpochsMonotonic.check(view(s), view(previous))) ??
          true,
      },
    ],
    sometimes: mustReach.map((name): Sometimes<QuorumState> => ({ name, reached: quorumSometimes[name] })),
    // One leaf per fact, so a transcript line shows only what the step changed.
    describe: (s) => {
      const shown: Record<string, unknown> = {};
      for (const n of s.nodes) {
        const c = n.machine?.context;
        shown[`n${n.id}`] =
          c === undefined
            ? {
                role: "down",
                epoch: n.persisted.epoch,
                voted: who(n.persisted.votedFor),
                log: logSummary(n.log),
              }
            : {
                role: roleOf(n),
                epoch: c.epoch,
                voted: who(c.votedFor),
                leader: who(c.leaderId),
                voters: `[${c.voters.join(",")}]`,
                hw: c.highWatermark,
                log: logSummary(n.log),
              };
      }
      const inFlight: Record<string, string> = {};
      for (const m of s.messages) {
        const label = messageLabel(m);
        inFlight[label] = inFlight[label] === undefined ? "in flight" : `${inFlight[label]} +1`;
      }
      if (s.messages.length > 0) shown.net = inFlight;
      shown.committed = logSummary(s.ghost.committed);
      return shown;
    },
    prelude: (s) => {
      const start = scripts[initials.indexOf(s)];
      return start === undefined ? [] : scriptOf(start);
    },
  };
}

const zeroBudget = { ticks: 0, crashes: 0, restarts: 0, duplicates: 0, appends: 0, membershipRequests: 0 };

/** The nodes as the shared invariants read them, with the leaders seen so far as history. */
function clusterView(s: QuorumState): ClusterView {
  return {
    nodes: s.nodes.map((n) => {
      const c = n.machine?.context;
      return {
        nodeId: n.id,
        alive: c !== undefined,
        quorum: {
          role: (c === undefined
            ? "unattached"
            : roleOf(n)) as ClusterView["nodes"][number]["quorum"]["role"],
          epoch: c?.epoch ?? n.persisted.epoch,
          votedFor: c === undefined ? n.persisted.votedFor : c.votedFor,
          leaderId: c?.leaderId ?? null,
          voters: c?.voters ?? [],
          highWatermark: c?.highWatermark ?? 0,
        },
        metadataLog: n.log.map((e, offset) => ({
          offset,
          epoch: e.epoch,
          record: e.record,
          ...(e.voters === undefined ? {} : { voters: e.voters }),
        })),
        appliedMetadataOffset: c?.highWatermark ?? 0,
        replicas: {},
      };
    }),
    committedMetadata: s.ghost.committed.map((e, offset) => ({ offset, epoch: e.epoch, record: e.record })),
    committedMetadataOffset: s.ghost.committed.length,
    partitions: {},
    acked: [],
    history: { quorumLeaders: s.ghost.leaders, partitionLeaders: [] },
  };
}

/** Records every node now leading, with its epoch, in the ghost history (sorted). */
function withLeaders(s: QuorumState): QuorumState {
  const leading = s.nodes.filter(
    (n) =>
      roleOf(n) === "leader" &&
      !s.ghost.leaders.some((l) => l.nodeId === n.id && l.epoch === n.machine!.context.epoch),
  );
  if (leading.length === 0) return s;
  const seen = observeLeaders(clusterView(s)).quorumLeaders;
  return { ...s, ghost: { ...s.ghost, leaders: seen } };
}
