/**
 * The trace checker on small hand-made histories: the cluster-wide invariants
 * it takes from spec/ must fire on what merged traces show (two nodes leading
 * one partition in one leader epoch, two nodes applying different records at
 * one offset, a leader ahead of the committed metadata), and stay quiet on a
 * history where nothing is wrong.
 */

import { describe, expect, it } from "vitest";
import { initialTransition, transition } from "xstate";
import type { AppliedLine, TraceLine, TransitionLine } from "../../impl/trace/trace-lines.ts";
import type { Event, Input } from "../../machines/isr.ts";
import { isrMachine } from "../../machines/isr.ts";
import { checkTrace } from "./trace-check.ts";
import type { LocatedLine } from "./trace-files.ts";

const instance = "c0ffee00c0ffee00c0ffee00c0ffee00:0";

function located(lines: TraceLine[]): LocatedLine[] {
  return lines.map((line, index) => ({ line, file: "made-up", lineNumber: index + 1 }));
}

function started(node: number, atMs: number): TraceLine {
  return { kind: "start", node, atMs, pid: 1000 + node };
}

function applied(
  node: number,
  atMs: number,
  offset: number,
  record: string,
  partition?: AppliedLine["partition"],
) {
  return {
    kind: "applied",
    node,
    atMs,
    offset,
    epoch: 1,
    record,
    ...(partition ? { partition } : {}),
  } as const;
}

function created(node: number, atMs: number, leader: number, leaderEpoch = 0): TraceLine {
  return applied(node, atMs, 0, `PartitionRecord leader ${leader}`, {
    instance,
    leader,
    isr: [1, 2, 3],
    replicas: [1, 2, 3],
    leaderEpoch,
    partitionEpoch: 0,
  });
}

/** A node's ISR machine starting to lead the partition, as the runtime traces it. */
function leads(node: number, atMs: number, leaderEpoch: number): TransitionLine {
  const input: Input = {
    leaderId: node,
    leaderEpoch,
    partitionEpoch: 0,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    leaderEndOffset: 0,
    leaderEpochStartOffset: 0,
    highWatermark: 0,
    minInsyncReplicas: 2,
    ineligibleReplicas: [],
    replicaLagMsMax: 30_000,
    nowMs: atMs,
    waitingProducesMax: 10,
  };
  const [snapshot] = initialTransition(isrMachine, input);
  return {
    kind: "transition",
    node,
    atMs,
    machine: "isr",
    instance,
    event: { type: "xstate.init", input },
    before: null,
    after: { value: snapshot.value, context: snapshot.context, status: snapshot.status },
  };
}

/** The leader's next step after `previous` on `event`, as the runtime traces it; `alter` tampers with what it logs. */
function stepsOn(
  previous: TransitionLine,
  atMs: number,
  event: Event,
  alter: (context: Record<string, unknown>) => Record<string, unknown> = (context) => context,
): TransitionLine {
  const before = previous.after;
  const resolved = isrMachine.resolveState({
    value: before.value as never,
    context: before.context as never,
  });
  const [after] = transition(isrMachine, resolved, event);
  return {
    ...previous,
    atMs,
    event,
    before,
    after: { value: after.value, context: alter(after.context as never), status: after.status },
  };
}

function violationsOf(lines: TraceLine[]): string[] {
  const result = checkTrace(located(lines));
  return result.violations.map((violation) => `${violation.kind}: ${violation.message}`);
}

describe("the trace checker's invariants over merged traces", () => {
  it("passes a history where one node leads after applying the record that makes it leader", () => {
    const result = checkTrace(
      located([started(1, 1), started(2, 2), created(1, 3, 1), created(2, 4, 1), leads(1, 5, 0)]),
    );
    expect(result.violations).toEqual([]);
    expect(result.transitionsByMachine).toEqual({ isr: 1 });
    expect(result.statesChecked).toBe(5);
  });

  it("finds two nodes leading one partition in one leader epoch", () => {
    const violations = violationsOf([
      started(1, 1),
      started(2, 2),
      created(1, 3, 1),
      created(2, 4, 1),
      leads(1, 5, 0),
      leads(2, 6, 0),
    ]);
    expect(violations).toContainEqual(
      expect.stringContaining(`ElectionSafety: partition ${instance} leader epoch 0 has leaders nodes 1, 2`),
    );
  });

  it("finds two nodes that applied different records at one offset", () => {
    const violations = violationsOf([
      started(1, 1),
      started(2, 2),
      applied(1, 3, 0, "TopicRecord a"),
      applied(2, 4, 0, "TopicRecord b"),
    ]);
    expect(violations).toContainEqual(
      expect.stringContaining(
        'MetadataLogMatching: node 2 applied metadata offset 0 (epoch 1 "TopicRecord b")',
      ),
    );
  });

  it("finds a node leading before it applied the partition's record, and ahead of the committed epoch", () => {
    const violations = violationsOf([started(1, 1), created(2, 2, 1), leads(1, 3, 4)]);
    expect(violations).toContainEqual(
      expect.stringContaining(`MetadataBeforeData: node 1 leads partition ${instance} before applying`),
    );
    const ahead = violationsOf([started(1, 1), created(1, 2, 1), leads(1, 3, 4)]);
    expect(ahead).toContainEqual(expect.stringContaining("at leader epoch 4 partition epoch 0, ahead of"));
  });

  it("replays a leader learning a fenced follower and a changed min.insync.replicas, and names a step logged otherwise", () => {
    const history = [started(1, 1), created(1, 3, 1), leads(1, 5, 0)];
    const leading = history[2] as TransitionLine;
    const fenced = stepsOn(leading, 6, { type: "replicas.eligibilityChanged", ineligibleReplicas: [3] });
    const raised = stepsOn(fenced, 7, { type: "topic.configChanged", minInsyncReplicas: 3 });
    const result = checkTrace(located([...history, fenced, raised]));
    expect(result.violations).toEqual([]);
    expect(result.transitionsByMachine).toEqual({ isr: 3 });
    const ignored = stepsOn(fenced, 7, { type: "topic.configChanged", minInsyncReplicas: 3 }, (context) => ({
      ...context,
      minInsyncReplicas: 2,
    }));
    expect(violationsOf([...history, fenced, ignored]).join("\n")).toMatch(/replay.*topic\.configChanged/);
  });
});
