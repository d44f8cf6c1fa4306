/**
 * The renderers on a small machine (impl/diagrams/fixtures/door.ts): the
 * Mermaid and DOT texts byte for byte, the JSON structure, and an SVG that
 * Graphviz draws without a warning.
 */
import { describe, expect, it } from "vitest";
import { and, assign, not, raise, setup } from "xstate";
import { allTransitionKeys } from "../../machines/testing/coverage.ts";
import { labelLines, toDot } from "./dot.ts";
import { doorEventDescriptions, doorMachine } from "./fixtures/door.ts";
import { machineDocument, render, toJson } from "./formats.ts";
import { toMermaid } from "./mermaid.ts";
import { actionName, describeMachine, guardName, transitionLabel, wrap } from "./model.ts";
import { dotToSvg, dotWarnings } from "./svg.ts";

const door = describeMachine(doorMachine, doorEventDescriptions);

const expectedMermaid = `stateDiagram-v2
  state "any state" as any_state
  [*] --> closed
  state "closed" as closed
  state closed {
    state "any state" as closed_any
    [*] --> unlocked
    state "unlocked" as unlocked
    unlocked : Shut but free to open
    state "locked" as locked
    locked : Shut and locked, only the key opens
    locked : it: nothing else
    closed_any --> locked : door.slammed
    unlocked --> locked : door.locked / ringBell
    locked --> unlocked : door.unlocked [hasKey]
    locked --> locked : door.unlocked / recordAttempt, ringBell
  }
  state "open" as open
  open : The door is open
  state "gone" as gone
  gone : The door is no more
  gone --> [*]
  any_state --> any_state : clock.ticked / recordTime
  closed --> gone : door.removed
  unlocked --> open : door.opened
  open --> closed : door.closed
`;

const expectedDot = `digraph "door" {
  graph [compound=true, rankdir=TB, newrank=true, fontname="Helvetica", fontsize=12, fontcolor="#2d3748", labelloc=t, label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="2"><tr><td><b><font point-size="14">door</font></b></td></tr><tr><td><font point-size="9" color="#4a5568">A door that can be locked</font></td></tr><tr><td height="3"></td></tr><hr/><tr><td align="left" tooltip="Any state notes the time"><font point-size="9">clock.ticked / recordTime</font></td></tr></table>>, nodesep=0.6, ranksep=0.5, pad=0.25]
  node [shape=box, style="rounded,filled", fillcolor="#f7f9fc", color="#5a6b80", fontname="Helvetica", fontsize=11, fontcolor="#2d3748", margin="0.2,0.07"]
  edge [color="#5a6b80", fontname="Helvetica", fontsize=9, fontcolor="#2d3748", arrowsize=0.7]
  "door::initial" [shape=point, width=0.14, style=filled, fillcolor="#2d3748", color="#2d3748", label="", tooltip="initial state"]
  "door::initial" -> "door.closed::initial" [tooltip="initial state", lhead="cluster_door.closed"]
  subgraph "cluster_door.closed" {
    graph [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="2"><tr><td><b>closed</b></td></tr><tr><td><font point-size="9" color="#4a5568">The door is shut</font></td></tr></table>>, style="rounded", color="#5a6b80", tooltip="The door is shut"]
    "door.closed::any" [shape=plaintext, style="", label="any state", fontsize=10, fontcolor="#4a5568", tooltip="transitions closed takes in any of its states"]
    "door.closed::initial" [shape=point, width=0.14, style=filled, fillcolor="#2d3748", color="#2d3748", label="", tooltip="initial state"]
    "door.closed::initial" -> "door.closed.unlocked" [tooltip="initial state"]
    "door.closed.unlocked" [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="2"><tr><td><b>unlocked</b></td></tr><tr><td><font point-size="9" color="#4a5568">Shut but free to open</font></td></tr></table>>, tooltip="Shut but free to open"]
    "door.closed.locked" [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="2"><tr><td><b>locked</b></td></tr><tr><td><font point-size="9" color="#4a5568">Shut and locked; only the key opens it:</font></td></tr><tr><td><font point-size="9" color="#4a5568">nothing else</font></td></tr><tr><td height="3"></td></tr><hr/><tr><td align="left" tooltip="Without the key it stays locked"><font point-size="9">door.unlocked / recordAttempt, ringBell</font></td></tr></table>>, tooltip="Shut and locked; only the key opens it: nothing else"]
  }
  "door.open" [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="2"><tr><td><b>open</b></td></tr><tr><td><font point-size="9" color="#4a5568">The door is open</font></td></tr></table>>, tooltip="The door is open"]
  "door.gone" [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="2"><tr><td><b>gone</b></td></tr><tr><td><font point-size="9" color="#4a5568">The door is no more</font></td></tr></table>>, peripheries=2, tooltip="The door is no more"]
  "door.closed::any" -> "door.closed.locked" [label=<door.slammed>, tooltip="Slamming a shut door locks it"]
  "door.closed::initial" -> "door.gone" [label=<door.removed>, tooltip="A shut door can be taken off its hinges", ltail="cluster_door.closed"]
  "door.closed.unlocked" -> "door.closed.locked" [label=<door.locked / ringBell>, tooltip="Turning the key locks it"]
  "door.closed.unlocked" -> "door.open" [label=<door.opened>, tooltip="Opens when unlocked"]
  "door.closed.locked" -> "door.closed.unlocked" [label=<door.unlocked [hasKey]>, tooltip="The key unlocks it"]
  "door.open" -> "door.closed::initial" [label=<door.closed>, tooltip="Closing it leaves it unlocked", lhead="cluster_door.closed"]
}
`;

describe("the machine graph", () => {
  it("lists every state node in document order, each before its children", () => {
    expect(door.states.map((state) => state.id)).toEqual([
      "door",
      "door.closed",
      "door.closed.unlocked",
      "door.closed.locked",
      "door.open",
      "door.gone",
    ]);
    expect(door.states.find((state) => state.id === "door.closed")).toMatchObject({
      type: "compound",
      initial: "door.closed.unlocked",
      children: ["door.closed.unlocked", "door.closed.locked"],
      description: "The door is shut",
    });
    expect(door.states.find((state) => state.id === "door.gone")?.type).toBe("final");
  });

  it("names transitions as the coverage helper does", () => {
    expect(door.transitions.map((transition) => transition.key)).toEqual(allTransitionKeys(doorMachine));
  });

  it("keeps guard, actions, targets and description of every branch", () => {
    const unlock = door.transitions.filter((transition) => transition.event === "door.unlocked");
    expect(unlock).toEqual([
      {
        key: "door.closed.locked --door.unlocked#0",
        source: "door.closed.locked",
        event: "door.unlocked",
        branch: 0,
        guard: "hasKey",
        actions: [],
        targets: ["door.closed.unlocked"],
        reenter: false,
        description: "The key unlocks it",
      },
      {
        key: "door.closed.locked --door.unlocked#1",
        source: "door.closed.locked",
        event: "door.unlocked",
        branch: 1,
        guard: null,
        actions: ["recordAttempt", "ringBell"],
        targets: [],
        reenter: false,
        description: "Without the key it stays locked",
      },
    ]);
  });

  it("sorts the events and joins each with its description and transitions", () => {
    expect(door.events.map((event) => event.type)).toEqual([
      "clock.ticked",
      "door.closed",
      "door.locked",
      "door.opened",
      "door.removed",
      "door.slammed",
      "door.unlocked",
    ]);
    expect(door.events.find((event) => event.type === "door.unlocked")).toEqual({
      type: "door.unlocked",
      description: "Someone tried to unlock, with or without the key",
      transitions: ["door.closed.locked --door.unlocked#0", "door.closed.locked --door.unlocked#1"],
    });
  });

  it("names higher-order guards and built-in actions", () => {
    const machine = setup({
      types: { events: {} as { type: "x.happened" } },
      guards: { a: () => true, b: () => true },
      actions: { named: () => {} },
    }).createMachine({
      initial: "s",
      states: {
        s: {
          always: { guard: "b", target: "t" },
          on: {
            "x.happened": {
              guard: and(["a", not("b")]),
              actions: [
                "named",
                { type: "named" },
                assign({}),
                raise({ type: "x.happened" }),
                function custom() {},
              ],
            },
          },
        },
        t: {},
      },
    });
    const graph = describeMachine(machine);
    const [happened, always] = graph.transitions;
    expect(happened?.guard).toBe("and(a, not(b))");
    expect(happened?.actions).toEqual(["named", "named", "assign", "raise", "custom"]);
    expect(always).toMatchObject({
      event: "",
      key: "(machine).s --always#0",
      guard: "b",
      targets: ["(machine).t"],
    });
    expect(transitionLabel(always!)).toBe("always [b]");
    expect(guardName({ type: "g", params: {} })).toBe("g");
    expect(actionName(() => {})).toBe("(inline)");
  });
});

describe("renderers", () => {
  it("writes Mermaid stateDiagram-v2", () => {
    expect(toMermaid(door)).toBe(expectedMermaid);
  });

  it("writes Graphviz DOT", () => {
    expect(toDot(door)).toBe(expectedDot);
  });

  it("writes JSON with the registry's name, title and summary", async () => {
    const source = {
      name: "door",
      title: "Door",
      summary: "A sample",
      machine: doorMachine,
      eventDescriptions: doorEventDescriptions,
    };
    const text = await render(source, "json");
    expect(text).toBe(toJson(machineDocument(source)));
    expect(JSON.parse(text)).toEqual({ name: "door", title: "Door", summary: "A sample", ...door });
  });

  it("draws SVG with Graphviz, with every state in it and no warning", async () => {
    const dot = toDot(door);
    expect(await dotWarnings(dot)).toEqual([]);
    const svg = await dotToSvg(dot);
    expect(svg).toContain("<svg");
    for (const state of door.states.slice(1))
      expect(svg).toMatch(new RegExp(`<title>(cluster_)?${state.id}</title>`));
    for (const transition of door.transitions) {
      if (transition.description) expect(svg).toContain(transition.description.replace(/'/g, "&#39;"));
    }
    expect(await dotToSvg(dot)).toBe(svg);
  });

  it("is the same text every time", async () => {
    const again = describeMachine(doorMachine, doorEventDescriptions);
    expect(toMermaid(again)).toBe(toMermaid(door));
    expect(toDot(again)).toBe(toDot(door));
  });
});

describe("labels", () => {
  it("wraps at spaces and keeps a long word whole", () => {
    expect(wrap("one two three four", 9)).toEqual(["one two", "three", "four"]);
    expect(wrap("averyveryverylongword x", 5)).toEqual(["averyveryverylongword", "x"]);
  });

  it("breaks a transition label between event, guard parts and actions", () => {
    const transition = door.transitions.find((t) => t.key === "door.closed.locked --door.unlocked#1")!;
    expect(labelLines(transition, 20)).toEqual(["door.unlocked", "/ recordAttempt,", "ringBell"]);
    expect(labelLines({ ...transition, guard: "and(alpha, beta, gamma)", actions: [] }, 25)).toEqual([
      "door.unlocked [and(alpha,",
      "beta, gamma)]",
    ]);
  });
});
