/**
 * What a model gives the checker. A model is an explicit transition system over
 * plain-data states: where it may start, which labelled actions each state
 * enables and where they lead, the invariants every reachable state must
 * satisfy, and the `sometimes` properties some reachable state must satisfy
 * (so a model that never does anything cannot pass).
 *
 * States must be plain data (numbers, strings, booleans, null, bigint, arrays,
 * plain objects; Map and Set are tolerated) because the checker deduplicates
 * them by canonical serialization (serialize.ts). `actions` must be
 * deterministic: the checker stores no states for its counterexamples, it
 * replays the labels from the initial state.
 */

/** One enabled action: its label (a transcript line) and the state it leads to. */
export interface Action<S> {
  label: string;
  next: S;
}

/**
 * Holds in every reachable state; a string result is a violation with that
 * explanation. An invariant about change (a value that must never decrease)
 * reads `previous`, the state the action started from (undefined for an
 * initial state), and sets `everyStep` so that it is checked on every action
 * taken, also those leading to a state already known.
 */
export interface Invariant<S> {
  name: string;
  /** true when the invariant holds; false, or a string saying what is wrong, when it does not. */
  holds(state: S, previous?: S): boolean | string;
  everyStep?: boolean;
}

/** Must be reached in at least one explored state. */
export interface Sometimes<S> {
  name: string;
  reached(state: S): boolean;
}

export interface Model<S> {
  initialStates(): S[];
  actions(state: S): Array<Action<S>>;
  invariants: Array<Invariant<S>>;
  sometimes: Array<Sometimes<S>>;
  /**
   * Symmetry reduction: map a state to the representative of its class (e.g.
   * node ids renamed into a canonical order). Two states with equal
   * representatives are explored once. The checker only uses the result for
   * deduplication; the transcripts show the real states. Every invariant and
   * sometimes property must then be symmetric too (give the same answer for
   * every member of a class): only one member of each class is explored.
   */
  canonicalize?(state: S): S;
  /**
   * The view of a state a transcript shows: a string, or plain data whose
   * changed leaves are printed step by step. Defaults to the state itself.
   */
  describe?(state: S): string | Record<string, unknown>;
  /**
   * When an initial state was reached by a scripted prefix of actions from a
   * fresh system, their labels: a transcript from that state begins with them.
   * A list when there is one initial state; a function of the initial state
   * when there are several.
   */
  prelude?: string[] | ((initial: S) => string[]);
}

/** The registry's entry for one model (spec/models/index.ts). */
export interface ModelEntry {
  name: string;
  description: string;
  create(): Model<unknown>;
  /** The bounds `npm run check` explores to in CI. */
  ciBounds: { depth: number; maxStates: number };
}
