/** The campaign's verdicts on small, hand-made logs: each kind of violation is named, a clean log passes. */
import { describe, expect, it } from "vitest";
import { checkConsumption, checkLogs, compareReplicas, type ReadRecord } from "./checks.ts";
import type { Acknowledgement } from "./workload.ts";

const log = (...values: string[]): ReadRecord[] =>
  values.map((value, offset) => ({ offset: BigInt(offset), value }));

function acknowledgedAt(partition: number, ...values: string[]): Map<string, Acknowledgement> {
  return new Map(values.map((value, offset) => [value, { partition, offset: BigInt(offset) }]));
}

describe("the log verdict", () => {
  it("passes a log holding every acknowledged record once, in order, where it was acknowledged", () => {
    const verdict = checkLogs(
      acknowledgedAt(0, "r-0-0", "r-1-0", "r-0-1"),
      new Map([[0, log("r-0-0", "r-1-0", "r-0-1", "r-1-1")]]),
    );
    expect(verdict).toEqual({
      read: 4,
      lost: [],
      duplicated: [],
      misplaced: [],
      outOfOrder: [],
      unacknowledged: 1,
    });
  });

  it("names lost, duplicated, misplaced and reordered records", () => {
    const acknowledged = acknowledgedAt(0, "r-0-0", "r-0-1", "r-0-2", "r-0-3");
    const verdict = checkLogs(acknowledged, new Map([[0, log("r-0-0", "r-0-2", "r-0-1", "r-0-0")]]));
    expect(verdict.lost).toEqual(["r-0-3"]);
    expect(verdict.duplicated).toEqual(["r-0-0"]);
    expect(verdict.misplaced).toHaveLength(2);
    expect(verdict.outOfOrder).toEqual(["r-0-1", "r-0-0"]);
  });
});

describe("the consumption verdict", () => {
  it("names what the group never saw and counts redeliveries", () => {
    const verdict = checkConsumption(acknowledgedAt(0, "r-0-0", "r-0-1"), new Map([["r-0-0", 3]]));
    expect(verdict).toEqual({ missed: ["r-0-1"], redelivered: 2 });
  });
});

describe("replica agreement", () => {
  it("accepts replicas that agree below the high watermark and differ above it", () => {
    const replicas = new Map([
      [1, log("a", "b", "c")],
      [2, log("a", "b", "x")],
    ]);
    expect(compareReplicas("t-0", replicas, 2n)).toEqual([]);
  });

  it("names a replica that differs or lacks records below the high watermark", () => {
    const replicas = new Map([
      [1, log("a", "b", "c")],
      [2, log("a", "x", "c")],
      [3, log("a")],
    ]);
    const problems = compareReplicas("t-0", replicas, 3n);
    expect(problems).toHaveLength(2);
    expect(problems.join("\n")).toMatch(/node 3 does not hold/);
    expect(problems.join("\n")).toMatch(/nodes 1 and 2 differ at offset 1/);
  });

  it("lets a metadata voter lag while a majority holds everything and all agree", () => {
    const replicas = new Map([
      [1, log("a", "b", "c")],
      [2, log("a", "b", "c")],
      [3, log("a")],
    ]);
    expect(compareReplicas("m-0", replicas, 3n, false)).toEqual([]);
    replicas.set(2, log("a", "b"));
    expect(compareReplicas("m-0", replicas, 3n, false)).toEqual([
      "m-0: only 1 of 3 replicas hold everything below 3",
    ]);
  });
});
