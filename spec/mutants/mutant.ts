/**
 * A deliberately broken variant of a machine or of a model's runtime, which
 * the checker must catch. Machine mutants come from `machine.provide({ guards
 * | actions })`, so they differ from the real machine in exactly one rule; the
 * model is then built around the mutant machine (every snapshot created from
 * it, never from the original). The mutation suite (mutants.test.ts) runs each
 * one and expects a violation of `caughtBy`, printing its counterexample; or,
 * for a mutant that gets a cluster stuck without breaking any invariant, that
 * the `sometimes` property `caughtBy` is never reached.
 */
import type { Model } from "../checker/model.ts";

export interface Mutant {
  /** What is broken, as a sentence: "a voter grants two votes in one epoch". */
  name: string;
  /** Where the break is: the machine and the guard or action replaced, or the model's runtime step. */
  breaks: string;
  /** The invariant whose violation catches it; with `stuck`, the `sometimes` property it leaves unreached. */
  caughtBy: string;
  /**
   * Set for a mutant that loses liveness: no state violates an invariant, but
   * some outcome can no longer happen. `control` is the same model around the
   * real machine, which must reach `caughtBy` within the same bounds, so that
   * the mutant, and not the bounds, is what leaves it unreached.
   */
  stuck?: { control(): Model<unknown> };
  /** The model around the mutant, configured so the counterexample is within `bounds`. */
  create(): Model<unknown>;
  bounds: { depth: number; maxStates: number };
}
