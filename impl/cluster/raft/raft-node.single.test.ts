import { afterEach, describe, expect, it } from "vitest";
import { TestCluster, text, textOf } from "./test-support.ts";

let cluster: TestCluster;
afterEach(() => cluster?.stopAll());

describe("RaftNode: a single voter", () => {
  it("elects itself at once and commits its appends immediately", async () => {
    cluster = new TestCluster();
    const node = await cluster.start(1, { voters: [1] });
    await cluster.advance(0);

    expect(node.status()).toMatchObject({ role: "leader", epoch: 1, leaderId: 1, votedFor: 1 });
    // The leader-change entry of epoch 1 is on disk and committed.
    expect(
      cluster
        .log(1)
        .entries()
        .map((e) => [e.offset, e.epoch, e.kind]),
    ).toEqual([[0, 1, "leaderChange"]]);
    expect(node.status().highWatermark).toBe(1);
    expect(cluster.applied.get(1)).toEqual([1]);
    expect(await cluster.stores.get(1)!.read()).toEqual({ epoch: 1, votedFor: 1, leaderId: 1 });

    const result = await node.append([text("topic a"), text("topic b")]);
    expect(result).toEqual({ epoch: 1, baseOffset: 1, lastOffset: 2 });
    expect(node.status().highWatermark).toBe(3);
    expect(cluster.applied.get(1)).toEqual([1, 3]);
    expect(
      cluster
        .log(1)
        .entries()
        .slice(1)
        .map((e) => textOf(e.payload)),
    ).toEqual(["topic a", "topic b"]);
  });

  it("stays leader as time passes: it is its own quorum", async () => {
    cluster = new TestCluster();
    const node = await cluster.start(1, { voters: [1] });
    await cluster.advance(10_000);
    expect(node.status()).toMatchObject({ role: "leader", epoch: 1 });
  });

  it("describes itself as the quorum", async () => {
    cluster = new TestCluster();
    const node = await cluster.start(1, { voters: [1] });
    await cluster.advance(0);
    expect(await node.describeQuorum()).toEqual({
      errorName: "NONE",
      leaderId: 1,
      epoch: 1,
      highWatermark: 1,
      voters: [{ replicaId: 1, logEndOffset: 1, lastFetchTimestampMs: 0, lastCaughtUpTimestampMs: 0 }],
      observers: [],
    });
  });
});
