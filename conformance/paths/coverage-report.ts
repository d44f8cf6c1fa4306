/**
 * The coverage a suite reached against a node, as one line per machine, and
 * the check that the transitions it did not take are exactly the ones its
 * wire mapping says it cannot reach, each for its stated reason.
 */
import type { AnyStateMachine } from "xstate";
import { allStateIds, allTransitionKeys, type Coverage } from "../../machines/testing/coverage.ts";

export interface CoverageSummary {
  line: string;
  /** The transitions the suite took. */
  taken: string[];
  missingStates: string[];
  /** Transitions not taken that have no stated reason: each is a gap in the suite. */
  missingWithoutReason: string[];
  /** Transitions with a stated reason that the suite took after all: the reason is wrong. */
  reasonedButTaken: string[];
  /** The transitions not taken, each with why the wire cannot reach it. */
  unreachable: Array<{ transition: string; reason: string }>;
}

export function summarizeCoverage(
  name: string,
  machine: AnyStateMachine,
  coverage: Coverage,
  pathCount: number,
  whyUnreachable: (transitionKey: string) => string | null,
): CoverageSummary {
  const states = allStateIds(machine);
  const transitions = allTransitionKeys(machine);
  const missingStates = coverage.missingStates();
  const missing = new Set(coverage.missingTransitions());
  const unreachable = transitions
    .filter((key) => whyUnreachable(key) !== null)
    .map((key) => ({ transition: key, reason: whyUnreachable(key)! }));
  const line =
    `${name}: ${pathCount} paths, ${states.length - missingStates.length}/${states.length} states, ` +
    `${transitions.length - missing.size}/${transitions.length} transitions ` +
    `(${transitions.length - unreachable.length}/${transitions.length} reachable over the wire)`;
  return {
    line,
    taken: transitions.filter((key) => !missing.has(key)),
    missingStates,
    missingWithoutReason: [...missing].filter((key) => whyUnreachable(key) === null),
    reasonedButTaken: unreachable.map(({ transition }) => transition).filter((key) => !missing.has(key)),
    unreachable,
  };
}

/** The summary as the test prints it: the coverage line, then each unreachable transition and why. */
export function formatSummary(summary: CoverageSummary): string {
  return [
    summary.line,
    ...summary.unreachable.map(({ transition, reason }) => `  not over the wire: ${transition}: ${reason}`),
  ].join("\n");
}
