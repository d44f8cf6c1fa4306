/**
 * A deliberately broken variant of a machine or of a model's runtime, which
 * the checker must catch. Machine mutants come from `machine.provide({ guards
 * | actions })`, so they differ from the real machine in exactly one rule; the
 * model is then built around the mutant machine (every snapshot created from
 * it, never from the original). The mutation suite (mutants.test.ts) runs each
 * one and expects a violation of `caughtBy`, printing its counterexample.
 */
import type { Model } from "../checker/model.ts";

export interface Mutant {
  /** What is broken, as a sentence: "a voter grants two votes in one epoch". */
  name: string;
  /** Where the break is: the machine and the guard or action replaced, or the model's runtime step. */
  breaks: string;
  /** The invariant whose violation catches it. */
  caughtBy: string;
  /** The model around the mutant, configured so the counterexample is within `bounds`. */
  create(): Model<unknown>;
  bounds: { depth: number; maxStates: number };
}
