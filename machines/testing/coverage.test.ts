import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import { createTestModel } from "xstate/graph";
import { Coverage } from "./coverage.ts";

const toggle = setup({
  types: { events: {} as { type: "toggle.flipped" } | { type: "toggle.locked"; force: boolean } },
  guards: { forced: ({ event }) => event.type === "toggle.locked" && event.force },
}).createMachine({
  id: "toggle",
  initial: "off",
  states: {
    off: { on: { "toggle.flipped": "on" } },
    on: {
      on: {
        "toggle.flipped": "off",
        "toggle.locked": [{ guard: "forced", target: "locked" }, { target: "off" }],
      },
    },
    locked: {},
  },
});

describe("coverage", () => {
  it("counts every guarded branch as its own transition", () => {
    const model = createTestModel(toggle, {
      events: [{ type: "toggle.flipped" }, { type: "toggle.locked", force: true }],
    });
    const coverage = new Coverage(toggle);
    const initial = toggle.getInitialSnapshot(undefined as never);
    for (const path of model.getShortestPaths()) coverage.record(initial, path);
    expect(coverage.missingStates()).toEqual([]);
    // The unforced branch of toggle.locked is never sent, so it is reported missing.
    expect(coverage.missingTransitions()).toEqual(["toggle.on --toggle.locked#1"]);
    expect(coverage.report("toggle")).toMatch(/states 4\/4, transitions 3\/4/);
  });
});
