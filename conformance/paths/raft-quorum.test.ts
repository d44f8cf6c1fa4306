/**
 * The Raft quorum machine's generated paths, driven against one real node
 * over the Kafka wire, the test playing its other voters. The paths are the
 * ones machines/raft-quorum.paths.test.ts checks, from the same generator
 * (machines/testing/raft-quorum-models.ts); raft-quorum-plan.ts turns each
 * event into a real stimulus, raft-quorum-selection.ts keeps a covering few,
 * and raft-quorum-driver.ts runs each against a fresh `bin/chronik start`
 * (node 1 of the path's voters, its peers the test's servers) and checks
 * after every step what the node did and shows against the machine's state.
 *
 * The node's quorum timeouts are set small and known through Kafka's own
 * settings (controller.quorum.*): a fetch timeout of 1 s (check quorum 1.5 s)
 * and an election timeout of 2 s (to 4 s at random), so that one tick of the
 * models' clock (one fetch timeout) passes well inside an election timeout.
 * Nothing waits a fixed time: the driver waits until the node's trace shows
 * the step, and a path whose timing the node's real clock overran is run
 * again, not failed.
 *
 * Three transitions have no faithful wire stimulus (noWireStimulus below);
 * the suite asserts that exactly those are not taken.
 */
import { afterAll, describe, expect, it } from "vitest";
import { raftQuorumMachine } from "../../machines/raft-quorum.ts";
import { allStateIds, allTransitionKeys, Coverage } from "../../machines/testing/coverage.ts";
import { threeVoters } from "../../machines/testing/raft-quorum-models.ts";
import { runPlan, TimingMiss } from "./raft-quorum-driver.ts";
import { selectPlans } from "./raft-quorum-selection.ts";

const timeouts = {
  electionTimeoutMs: 2_000,
  fetchTimeoutMs: 1_000,
  electionBackoffMaxMs: 200,
  // Requests the test holds must outlive any path: the node drops a connection whose request timed out.
  requestTimeoutMs: 60_000,
};
/** Room the test keeps around the node's timers for its own steps. */
const timerMarginMs = 200;
const settleMs = 15_000;
/** Runs of one path at most when the node's clock overran its timing each time. */
const attemptsMax = 3;

const noWireStimulus: Record<string, string> = {
  "raftQuorum --voter.addRequested#0":
    "a node that does not lead forwards AddRaftVoter to the controller (Envelope) and relays its answer, or answers NOT_CONTROLLER: its own machine never sees the request",
  "raftQuorum --voter.removeRequested#0":
    "a node that does not lead forwards RemoveRaftVoter to the controller (Envelope) and relays its answer, or answers NOT_CONTROLLER: its own machine never sees the request",
  "raftQuorum.resigned --election.timedOut#0":
    "the only voter resigns only when it shuts down, and the node then stops its timers and exits: its election timer never fires in that state",
};

const selection = selectPlans({
  ticksPerElectionTimeout: Math.floor(
    (timeouts.electionTimeoutMs - timerMarginMs) / (timeouts.fetchTimeoutMs + timerMarginMs),
  ),
});
const coverage = new Coverage(raftQuorumMachine, threeVoters);
const suiteStartMs = Date.now();
let pathsPassed = 0;
let runsRepeated = 0;

function title(index: number): string {
  const { model, plan } = selection.chosen[index]!;
  const events = plan.generated.map((event) => event.type).join(" → ");
  return `path ${index + 1} of ${selection.chosen.length} (${model.name}): ${events}`;
}

describe("the Raft quorum machine's paths against a real node, the test playing its peers", () => {
  afterAll(() => {
    const seconds = ((Date.now() - suiteStartMs) / 1000).toFixed(0);
    console.log(
      `${selection.planned} generated paths planned, ${selection.realizable} realizable over the wire, ` +
        `${selection.chosen.length} chosen; ${runsRepeated} runs repeated after a timing miss; ${seconds} s`,
    );
  });

  selection.chosen.forEach(({ model, plan }, index) => {
    it(
      title(index),
      async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            await runPlan(plan, model, { timeouts, settleMs });
            break;
          } catch (error) {
            if (!(error instanceof TimingMiss) || attempt >= attemptsMax) throw error;
            runsRepeated++;
            console.log(`repeating ${title(index)} after: ${error.message}`);
          }
        }
        coverage.record(plan.initial, {
          steps: plan.steps.flatMap((step) =>
            step.events.map(({ event, after }) => ({ event, state: after })),
          ),
        });
        pathsPassed++;
      },
      attemptsMax * (plan.costMs * 3 + 30_000),
    );
  });

  it("takes every transition a wire stimulus can reach, and only those have none", () => {
    const states = allStateIds(raftQuorumMachine).length;
    const transitions = allTransitionKeys(raftQuorumMachine).length;
    console.log(
      `raft-quorum against a node: ${pathsPassed} paths, ` +
        `${states - coverage.missingStates().length}/${states} states, ` +
        `${transitions - coverage.missingTransitions().length}/${transitions} transitions`,
    );
    for (const [key, reasons] of selection.unreached) {
      console.log(`  no wire stimulus for ${key}: ${noWireStimulus[key] ?? "(not explained)"}`);
      console.log(`    (the planner: ${[...reasons].join("; ")})`);
    }
    expect(pathsPassed).toBe(selection.chosen.length);
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions().sort()).toEqual(Object.keys(noWireStimulus).sort());
    expect([...selection.unreached.keys()].sort()).toEqual(Object.keys(noWireStimulus).sort());
  });
});
