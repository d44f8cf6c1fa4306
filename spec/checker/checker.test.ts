/**
 * The checker on toy models written here (not in the registry): a two-process
 * mutex with a check-then-set race, the same mutex fixed with an atomic
 * test-and-set, an unbounded counter, and a model that does nothing.
 */
import { describe, expect, it } from "vitest";
import { runCheckCommand } from "./command.ts";
import type { Action, Model, ModelEntry } from "./model.ts";
import { formatSummary, formatViolation } from "./report.ts";
import { search } from "./search.ts";

type Pc = "idle" | "checked" | "trying" | "critical";
interface MutexState {
  lock: boolean;
  pc: Pc[];
}

const mutualExclusion = {
  name: "MutualExclusion",
  holds: (s: MutexState) => {
    const inside = s.pc.flatMap((pc, i) => (pc === "critical" ? [`p${i}`] : []));
    return inside.length <= 1 || `${inside.join(" and ")} are both in the critical section`;
  },
};

function setPc(s: MutexState, i: number, pc: Pc, lock = s.lock): MutexState {
  return { lock, pc: s.pc.map((old, j) => (j === i ? pc : old)) };
}

/** Reads the lock, then (another step) takes it: two processes can both see it free. */
function buggyMutex(): Model<MutexState> {
  return {
    initialStates: () => [{ lock: false, pc: ["idle", "idle"] }],
    actions: (s) =>
      s.pc.flatMap((pc, i): Array<Action<MutexState>> => {
        if (pc === "idle" && !s.lock) return [{ label: `p${i}.check`, next: setPc(s, i, "checked") }];
        if (pc === "checked") return [{ label: `p${i}.set`, next: setPc(s, i, "critical", true) }];
        if (pc === "critical") return [{ label: `p${i}.release`, next: setPc(s, i, "idle", false) }];
        return [];
      }),
    invariants: [mutualExclusion],
    sometimes: [{ name: "p0 enters", reached: (s) => s.pc[0] === "critical" }],
    describe: (s) => ({ lock: s.lock, p0: s.pc[0], p1: s.pc[1] }),
  };
}

/** Tries, then takes the lock with one atomic test-and-set. */
function fixedMutex(options: { symmetric?: boolean; processes?: number } = {}): Model<MutexState> {
  const n = options.processes ?? 2;
  return {
    initialStates: () => [{ lock: false, pc: Array.from({ length: n }, () => "idle" as Pc) }],
    actions: (s) =>
      s.pc.flatMap((pc, i): Array<Action<MutexState>> => {
        if (pc === "idle") return [{ label: `p${i}.try`, next: setPc(s, i, "trying") }];
        if (pc === "trying" && !s.lock)
          return [{ label: `p${i}.acquire`, next: setPc(s, i, "critical", true) }];
        if (pc === "critical") return [{ label: `p${i}.release`, next: setPc(s, i, "idle", false) }];
        return [];
      }),
    invariants: [mutualExclusion],
    sometimes: [
      { name: "p0 enters", reached: (s) => s.pc[0] === "critical" },
      { name: "p1 enters", reached: (s) => s.pc[1] === "critical" },
      { name: "all trying", reached: (s) => s.pc.every((pc) => pc === "trying") },
    ],
    ...(options.symmetric
      ? { canonicalize: (s: MutexState) => ({ lock: s.lock, pc: [...s.pc].sort() }) }
      : {}),
  };
}

const quiet = { progress: false } as const;

describe("search", () => {
  it("finds the check-then-set race with the shortest counterexample", () => {
    const result = search(buggyMutex(), quiet);
    expect(result.outcome).toBe("violated");
    expect(result.passed).toBe(false);
    expect(result.violation?.invariant).toBe("MutualExclusion");
    expect(result.violation?.message).toBe("p0 and p1 are both in the critical section");
    expect(result.violation?.path.map((s) => s.label)).toEqual([
      "initial",
      "p0.check",
      "p1.check",
      "p0.set",
      "p1.set",
    ]);
    expect(result.violation?.path.at(-1)?.state).toEqual({ lock: true, pc: ["critical", "critical"] });
  });

  it("finds the race depth-first too, with a path the model can replay", () => {
    const result = search(buggyMutex(), { ...quiet, strategy: "dfs" });
    expect(result.outcome).toBe("violated");
    const path = result.violation!.path;
    expect(path.length).toBeGreaterThanOrEqual(5);
    expect(path.at(-1)?.state.pc).toEqual(["critical", "critical"]);
  });

  it("passes the fixed mutex, exhausting its 8 distinct states", () => {
    const result = search(fixedMutex(), quiet);
    expect(result.outcome).toBe("ok");
    expect(result.passed).toBe(true);
    expect(result.boundsHit).toEqual([]);
    // pcs in {idle, trying, critical}^2 without both critical; lock = someone critical
    expect(result.stats.distinctStates).toBe(8);
    // per state, one action per process except a trying process while the lock is held
    expect(result.stats.transitions).toBe(14);
    expect(result.stats.maxDepth).toBe(3); // try, try, acquire
    expect(result.unreached).toEqual([]);
    expect(result.sometimes.find((s) => s.name === "all trying")?.depth).toBe(2);
  });

  it("explores the same states depth-first", () => {
    const result = search(fixedMutex(), { ...quiet, strategy: "dfs" });
    expect(result.outcome).toBe("ok");
    expect(result.stats.distinctStates).toBe(8);
  });

  it("shrinks the state count with symmetry reduction", () => {
    expect(search(fixedMutex({ symmetric: true }), quiet).stats.distinctStates).toBe(5);
    const plain = search(fixedMutex({ processes: 3 }), quiet);
    const reduced = search(fixedMutex({ processes: 3, symmetric: true }), quiet);
    expect(plain.stats.distinctStates).toBe(20); // 3^3 minus the 7 with two or more critical
    expect(reduced.stats.distinctStates).toBe(7); // multisets of size 3 with at most one critical
    expect(reduced.violation).toBeUndefined();
    // A property that is not symmetric is unsound under reduction: only one
    // member of each class is explored, here the one where p0 is inside.
    expect(reduced.unreached).toEqual(["p1 enters"]);
  });

  it("replays a real path through symmetry-reduced states", () => {
    const model = {
      ...buggyMutex(),
      canonicalize: (s: MutexState) => ({ lock: s.lock, pc: [...s.pc].sort() }),
    };
    const path = search(model, quiet).violation!.path;
    expect(path).toHaveLength(5);
    for (let i = 1; i < path.length; i++) {
      const step = model.actions(path[i - 1]!.state).find((a) => a.label === path[i]!.label);
      expect(step?.next).toEqual(path[i]!.state);
    }
  });

  const counter: Model<{ n: number }> = {
    initialStates: () => [{ n: 0 }],
    actions: (s) => [{ label: "inc", next: { n: s.n + 1 } }],
    invariants: [{ name: "Small", holds: (s) => s.n < 100 }],
    sometimes: [{ name: "three", reached: (s) => s.n === 3 }],
  };

  it("honours the depth bound", () => {
    for (const strategy of ["bfs", "dfs"] as const) {
      const result = search(counter, { ...quiet, strategy, maxDepth: 5 });
      expect(result.outcome).toBe("bound-reached");
      expect(result.boundsHit).toEqual(["depth"]);
      expect(result.stats.distinctStates).toBe(6);
      expect(result.stats.maxDepth).toBe(5);
      expect(result.stats.transitions).toBe(5);
      expect(result.passed).toBe(true);
    }
    const deeper = search(counter, { ...quiet, maxDepth: 200 });
    expect(deeper.violation?.path).toHaveLength(101);
  });

  it("honours the state bound", () => {
    const result = search(counter, { ...quiet, maxStates: 10 });
    expect(result.outcome).toBe("bound-reached");
    expect(result.boundsHit).toEqual(["states"]);
    expect(result.stats.distinctStates).toBe(10);
  });

  it("reports a sometimes property no state reaches", () => {
    const model = fixedMutex();
    model.sometimes.push({ name: "both inside", reached: (s) => s.pc.every((pc) => pc === "critical") });
    const result = search(model, quiet);
    expect(result.outcome).toBe("ok");
    expect(result.unreached).toEqual(["both inside"]);
    expect(result.passed).toBe(false);
    expect(formatSummary("mutex", result)).toContain("NEVER: both inside");
  });

  it("fails a model that never does anything", () => {
    const idle: Model<{ n: number }> = { ...counter, actions: () => [] };
    const result = search(idle, quiet);
    expect(result.outcome).toBe("ok");
    expect(result.unreached).toEqual(["three"]);
    expect(result.passed).toBe(false);
  });

  it("checks the initial states", () => {
    const result = search({ ...counter, initialStates: () => [{ n: 100 }] }, quiet);
    expect(result.violation?.path.map((s) => s.label)).toEqual(["initial"]);
  });

  it("writes a throttled progress line", () => {
    const lines: string[] = [];
    search(
      { ...counter, invariants: [] },
      { maxDepth: 5000, progress: (line) => lines.push(line), progressIntervalMs: 0 },
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^check: \d+ states, \d+ transitions, depth \d+, \d+ queued, \d+ states\/s$/);
  });
});

describe("report", () => {
  it("prints the counterexample as a transcript", () => {
    const model = buggyMutex();
    const result = search(model, quiet);
    expect(formatViolation(model, result.violation!)).toBe(
      [
        "Invariant MutualExclusion violated after 4 steps: p0 and p1 are both in the critical section",
        "  0  initial   lock=false p0=idle p1=idle",
        "  1  p0.check  p0: idle → checked",
        "  2  p1.check  p1: idle → checked",
        "  3  p0.set    lock: false → true, p0: checked → critical",
        "  4  p1.set    p1: checked → critical",
      ].join("\n"),
    );
    expect(formatSummary("buggy-mutex", result)).toMatch(
      /^buggy-mutex: VIOLATED MutualExclusion; \d+ distinct states, \d+ transitions, depth 4, /,
    );
  });

  it("diffs nested state without describe()", () => {
    const model = { ...buggyMutex(), describe: undefined };
    const text = formatViolation(model, search(model, quiet).violation!);
    expect(text).toContain("  1  p0.check  pc[0]: idle → checked");
  });
});

describe("chronik check", () => {
  const registry: ModelEntry[] = [
    {
      name: "buggy-mutex",
      description: "check-then-set race",
      create: buggyMutex as () => Model<unknown>,
      ciBounds: { depth: 10, maxStates: 1000 },
    },
    {
      name: "fixed-mutex",
      description: "atomic test-and-set",
      create: fixedMutex as () => Model<unknown>,
      ciBounds: { depth: 10, maxStates: 1000 },
    },
  ];

  async function run(args: string[], models: ModelEntry[] = registry) {
    let out = "";
    let err = "";
    const code = await runCheckCommand(args, models, {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
    });
    return { code, out, err };
  }

  it("exits 0 for a model that passes", async () => {
    const { code, out } = await run(["check", "fixed-mutex"]);
    expect(code).toBe(0);
    expect(out).toMatch(/^fixed-mutex: no violation \(state space exhausted\); 8 distinct states/);
  });

  it("exits 1 with the transcript on a violation", async () => {
    const { code, out } = await run(["check", "buggy-mutex"]);
    expect(code).toBe(1);
    expect(out).toContain("  4  p1.set    p1: checked → critical");
  });

  it("takes --depth, --max-states and --dfs", async () => {
    const { code, out, err } = await run([
      "check",
      "fixed-mutex",
      "--depth",
      "1",
      "--max-states",
      "50",
      "--dfs",
    ]);
    expect(err).toContain("checking fixed-mutex (dfs, depth 1, at most 50 states)");
    expect(out).toContain("depth bound reached");
    expect(code).toBe(1); // the bound is too shallow to reach "p0 enters"
    expect(out).toContain("NEVER: p0 enters, p1 enters");
  });

  it("exits 2 listing the models for an unknown one", async () => {
    const { code, err } = await run(["check", "nope"]);
    expect(code).toBe(2);
    expect(err).toContain('unknown model "nope"');
    expect(err).toContain("buggy-mutex");
    expect(err).toContain("fixed-mutex");
  });

  it("says when no models are registered", async () => {
    const { code, err } = await run(["check", "nope"], []);
    expect(code).toBe(2);
    expect(err).toContain("no models are registered");
  });

  it("--all checks every model and ends with one summary line each", async () => {
    const { code, out } = await run(["check", "--all"], [registry[1]!, registry[0]!]);
    expect(code).toBe(1); // buggy-mutex fails
    const summaries = out.split("\n\n").at(-1)!.trim().split("\n");
    expect(summaries).toHaveLength(2);
    expect(summaries[0]).toMatch(/^fixed-mutex: no violation/);
    expect(summaries[1]).toMatch(/^buggy-mutex: VIOLATED MutualExclusion/);
    const { code: passing } = await run(["check", "--all"], [registry[1]!]);
    expect(passing).toBe(0);
  });

  it("refuses --all with a model or with bounds, and no model at all", async () => {
    expect((await run(["check", "--all", "fixed-mutex"])).code).toBe(2);
    expect((await run(["check", "--all", "--depth", "3"])).code).toBe(2);
    const none = await run(["check"]);
    expect(none.code).toBe(2);
    expect(none.err).toContain("which model?");
  });

  it("exits 2 on a bad flag value", async () => {
    const { code } = await run(["check", "fixed-mutex", "--depth", "x"]);
    expect(code).toBe(2);
  });
});

describe("change invariants", () => {
  /** A counter modulo 3: the wrap from 2 back to 0 leads to a state already known. */
  const wrappingCounter: Model<{ n: number }> = {
    initialStates: () => [{ n: 0 }],
    actions: (s) => [{ label: `increment from ${s.n}`, next: { n: (s.n + 1) % 3 } }],
    invariants: [
      {
        name: "NeverDecreases",
        everyStep: true,
        holds: (s, previous) =>
          previous === undefined || s.n >= previous.n || `went from ${previous.n} to ${s.n}`,
      },
    ],
    sometimes: [],
  };

  it("checks every action, also one into a known state, and replays the path to it", () => {
    const result = search(wrappingCounter, { progress: false });
    expect(result.violation?.invariant).toBe("NeverDecreases");
    expect(result.violation?.message).toBe("went from 2 to 0");
    expect(result.violation?.path.map((step) => step.label)).toEqual([
      "initial",
      "increment from 0",
      "increment from 1",
      "increment from 2",
    ]);
    expect(result.stats.distinctStates).toBe(3);
  });
});
