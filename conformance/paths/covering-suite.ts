/**
 * One covering run of a machine against a node, as the ISR and partition
 * lifecycle suites both do it: plan the paths that take every transition a
 * wire step can take, drive each through the suite's runner, then print the
 * coverage and check it: every state reached, every transition not taken
 * named with its reason, no reason given for one that was taken, and exactly
 * the planned transitions taken (no path strayed from its plan).
 */
import { expect } from "vitest";
import { type AnyStateMachine, type InputFrom, initialTransition } from "xstate";
import { Coverage } from "../../machines/testing/coverage.ts";
import { formatSummary, summarizeCoverage } from "./coverage-report.ts";
import { type PlannedPath, planCoveringPaths, type WireGraphOptions } from "./wire-steps.ts";

export interface CoveringSuite<Machine extends AnyStateMachine>
  extends Omit<WireGraphOptions<Machine>, "initial"> {
  /** The name the coverage line starts with. */
  name: string;
  input: InputFrom<Machine>;
  /** A runner for the suite's node, recording into `coverage`. */
  runnerFor(coverage: Coverage): { run(path: PlannedPath<Machine>, label: string): Promise<void> };
  /** The label (a fresh topic name) for the path at `index`. */
  labelOf(index: number): string;
  whyUnreachableOverTheWire(transitionKey: string): string | null;
}

export async function runCoveringSuite<Machine extends AnyStateMachine>(
  suite: CoveringSuite<Machine>,
): Promise<void> {
  const { machine, input } = suite;
  const { paths, reachable } = planCoveringPaths({
    machine,
    initial: initialTransition(machine, input)[0],
    steps: suite.steps,
    serialize: suite.serialize,
    cost: suite.cost,
  });
  const coverage = new Coverage(machine, input);
  const runner = suite.runnerFor(coverage);
  for (const [index, path] of paths.entries()) await runner.run(path, suite.labelOf(index));

  const summary = summarizeCoverage(
    suite.name,
    machine,
    coverage,
    paths.length,
    suite.whyUnreachableOverTheWire,
  );
  console.log(formatSummary(summary));
  expect(summary.missingStates).toEqual([]);
  expect(summary.missingWithoutReason).toEqual([]);
  expect(summary.reasonedButTaken).toEqual([]);
  expect([...summary.taken].sort()).toEqual([...reachable].sort());
}
