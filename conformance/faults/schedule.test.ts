/** The fault schedule is a function of its seed: a replay gets the same faults, another seed others. */
import { describe, expect, it } from "vitest";
import { faultKinds, formatSchedule, planSchedule } from "./schedule.ts";

const plan = (seed: number, durationMs = 120_000) =>
  planSchedule({ seed, durationMs, nodeIds: [1, 2, 3], partitions: 3 });

describe("the fault schedule", () => {
  it("is the same for the same seed", () => {
    expect(plan(7)).toEqual(plan(7));
    expect(formatSchedule(plan(7), "faults")).toEqual(formatSchedule(plan(7), "faults"));
  });

  it("differs between seeds", () => {
    expect(formatSchedule(plan(7), "faults")).not.toEqual(formatSchedule(plan(8), "faults"));
  });

  it("keeps faults apart, within the duration, on real nodes", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const faults = plan(seed, 60_000);
      expect(faults.length).toBeGreaterThan(0);
      for (const [position, fault] of faults.entries()) {
        expect(fault.atMs + fault.holdMs).toBeLessThanOrEqual(60_000);
        const next = faults[position + 1];
        if (next !== undefined) expect(next.atMs).toBeGreaterThan(fault.atMs + fault.holdMs);
        expect(fault.nodes.length).toBe(fault.kind === "cut" ? 2 : 1);
        expect(new Set(fault.nodes).size).toBe(fault.nodes.length);
        for (const node of fault.nodes) expect([1, 2, 3]).toContain(node);
        expect(fault.corruption === null).toBe(fault.kind !== "corrupt");
        if (fault.kind === "corrupt") expect(fault.impatient).toBe(false);
      }
    }
  });

  it("draws every kind of fault over a few seeds", () => {
    const kinds = new Set([1, 2, 3, 4, 5].flatMap((seed) => plan(seed).map((fault) => fault.kind)));
    expect([...kinds].sort()).toEqual([...faultKinds].sort());
  });
});
