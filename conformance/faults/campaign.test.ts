/**
 * A short fault campaign (about a minute of faults, a fixed seed) on a real
 * three-node cluster in network namespaces, as CI runs it: the verdict must
 * be PASS, with no acknowledged record lost or duplicated. Needs root.
 */
import { describe, expect, it } from "vitest";
import { runCampaign } from "./campaign.ts";

const seed = 7;
const durationMs = 60_000;

describe("the fault campaign", () => {
  it(`passes seed ${seed} for ${durationMs / 1000} s`, async () => {
    const lines: string[] = [];
    const result = await runCampaign({ seed, durationMs, print: (line) => lines.push(line) });
    expect(result.verdict, lines.join("\n")).toMatch(/^faults: PASS /);
    expect(result.passed).toBe(true);
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
    expect(result.acknowledged).toBeGreaterThan(0);
    expect(result.read).toBeGreaterThanOrEqual(result.acknowledged);
    expect(result.replicasAgree).toBe(true);
  }, 420_000);
});
