import { describe, expect, it } from "vitest";
import { deferred } from "./deferred.ts";
import { EffectQueue, EffectQueueFullError } from "./effect-queue.ts";
import { inReadyOrder, type RaftEffect } from "./effects.ts";

interface Step {
  name: string;
  wait?: Promise<void>;
  fail?: boolean;
}

function queueOf(capacity = 10) {
  const ran: string[] = [];
  const discarded: string[] = [];
  const failures: string[] = [];
  const queue = new EffectQueue<Step>({
    capacity,
    run: async (step) => {
      ran.push(`start ${step.name}`);
      await step.wait;
      if (step.fail) throw new Error(`${step.name} failed`);
      ran.push(`done ${step.name}`);
    },
    discard: (step, reason) => discarded.push(`${step.name}: ${reason.message}`),
    onFailure: (error, step) => failures.push(`${step.name}: ${error.message}`),
  });
  return { queue, ran, discarded, failures };
}

describe("EffectQueue", () => {
  it("runs effects one at a time, in order, each after the one before completed", async () => {
    const { queue, ran } = queueOf();
    const persist = deferred<void>();
    queue.pushAll([{ name: "persist", wait: persist.promise }, { name: "send" }]);
    queue.pushAll([{ name: "answer" }]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(ran).toEqual(["start persist"]);
    persist.resolve();
    await queue.idle();
    expect(ran).toEqual([
      "start persist",
      "done persist",
      "start send",
      "done send",
      "start answer",
      "done answer",
    ]);
    expect(queue.completed).toBe(3);
  });

  it("never runs an effect inside the call that queued it", () => {
    const { queue, ran } = queueOf();
    queue.pushAll([{ name: "send" }]);
    expect(ran).toEqual([]);
  });

  it("stops at the first failure: nothing after it runs, the rest is discarded", async () => {
    const { queue, ran, discarded, failures } = queueOf();
    queue.pushAll([{ name: "persist", fail: true }, { name: "send" }, { name: "answer" }]);
    await expect(queue.idle()).rejects.toThrow("persist failed");
    expect(ran).toEqual(["start persist"]);
    expect(failures).toEqual(["persist: persist failed"]);
    expect(discarded).toEqual(["persist: persist failed", "send: persist failed", "answer: persist failed"]);
    queue.pushAll([{ name: "later" }]);
    expect(discarded.at(-1)).toBe("later: persist failed");
    expect(queue.isStopped).toBe(true);
  });

  it("refuses a batch beyond its capacity", () => {
    const { queue } = queueOf(2);
    queue.pushAll([{ name: "a" }, { name: "b" }]);
    expect(() => queue.pushAll([{ name: "c" }])).toThrow(EffectQueueFullError);
  });
});

describe("inReadyOrder", () => {
  it("puts a step's persist first, then appends, then sends and answers, then apply", () => {
    const effects: RaftEffect[] = [
      { type: "applyCommittedRecords", highWatermark: 1 },
      { type: "sendBeginQuorumEpoch", epoch: 1, leaderId: 1, voters: [2] },
      { type: "appendLeaderChangeRecord", epoch: 1, offset: 0, leaderId: 1, voters: [1, 2] },
      { type: "persistQuorumState", epoch: 1, votedFor: 1, leaderId: 1 },
      { type: "sendEndQuorumEpoch", epoch: 1, leaderId: 1, voters: [2] },
    ];
    expect(inReadyOrder(effects).map((e) => e.type)).toEqual([
      "persistQuorumState",
      "appendLeaderChangeRecord",
      "sendBeginQuorumEpoch",
      "sendEndQuorumEpoch",
      "applyCommittedRecords",
    ]);
  });
});
