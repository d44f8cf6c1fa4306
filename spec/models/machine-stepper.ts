/**
 * How every model runs a machine: a node's machine is plain data (its state
 * value and context), stepped with xstate's pure `initialTransition()` and
 * `transition()`, and what the machine asks the runtime to do comes back as
 * plain effects ({ type, params }) for the model to carry out.
 *
 * Stepping is memoized: in a cluster model the same node state meets the same
 * event in a great many global states, and rebuilding a snapshot and running
 * the transition is by far the most expensive part of exploring one. The
 * cache is keyed by the canonical serialization of (state value, context,
 * event, as fingerprints), so it is exact; results are shared between states, which is safe
 * because models treat every state as immutable.
 */
import { type AnyStateMachine, initialTransition, transition } from "xstate";
import { Fingerprinter } from "../checker/serialize.ts";

/** A machine's state as plain data: what a model stores for one running instance. */
export interface MachineNode<Context> {
  /** The state value (a string, or an object for nested states). */
  value: unknown;
  context: Context;
  /** The machine reached a final state and takes no more events. */
  done: boolean;
}

/** One action the machine asked the runtime to run, with its resolved params. */
export interface Effect {
  type: string;
  params: Record<string, unknown>;
}

export interface Stepped<Context> {
  node: MachineNode<Context>;
  effects: readonly Effect[];
}

export interface MachineStepper<Context, Event, Input> {
  start(input: Input): Stepped<Context>;
  step(node: MachineNode<Context>, event: Event): Stepped<Context>;
  /** Cache hits and misses, for the scale report. */
  readonly stats: { hits: number; misses: number };
}

/** Distinct (state, event) pairs remembered at most; the cache starts over beyond this. */
const CACHE_LIMIT = 500_000;

/**
 * Wraps `machine` (the real one or a mutant from `machine.provide(...)`): every
 * snapshot is built from this machine, never reused from another, because a
 * snapshot remembers the machine it came from and would run its guards.
 */
export function createStepper<Context, Event extends { type: string }, Input>(
  machine: AnyStateMachine,
): MachineStepper<Context, Event, Input> {
  const cache = new Map<string, Stepped<Context>>();
  const fingerprints = new Fingerprinter();
  const stats = { hits: 0, misses: 0 };

  function remember(key: string, result: Stepped<Context>): Stepped<Context> {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, result);
    return result;
  }

  function toStepped(snapshot: unknown, actions: readonly unknown[]): Stepped<Context> {
    const s = snapshot as { value: unknown; context: Context; status: string };
    return {
      node: { value: s.value, context: s.context, done: s.status === "done" },
      effects: actions.map((action) => {
        const a = action as { type: string; params?: unknown };
        return { type: a.type, params: (a.params ?? {}) as Record<string, unknown> };
      }),
    };
  }

  return {
    stats,
    start(input: Input): Stepped<Context> {
      const key = `start ${fingerprints.key(input)}`;
      const known = cache.get(key);
      if (known !== undefined) {
        stats.hits++;
        return known;
      }
      stats.misses++;
      const [snapshot, actions] = initialTransition(machine, input as never);
      return remember(key, toStepped(snapshot, actions));
    },
    step(node: MachineNode<Context>, event: Event): Stepped<Context> {
      if (node.done) throw new Error(`model: ${event.type} sent to a machine in a final state`);
      const key = `${fingerprints.key(node.value)} ${fingerprints.key(node.context)} ${fingerprints.key(event)}`;
      const known = cache.get(key);
      if (known !== undefined) {
        stats.hits++;
        return known;
      }
      stats.misses++;
      const snapshot = machine.resolveState({ value: node.value, context: node.context } as never);
      const [next, actions] = transition(machine, snapshot, event as never);
      return remember(key, toStepped(next, actions));
    },
  };
}

/** The effects of the given types, in the order the machine listed them. */
export function effectsOf(effects: readonly Effect[], ...types: string[]): Effect[] {
  return effects.filter((effect) => types.includes(effect.type));
}
