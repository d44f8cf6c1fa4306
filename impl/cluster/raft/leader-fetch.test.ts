import { afterEach, describe, expect, it } from "vitest";
import { InMemoryRaftLog } from "./in-memory-log.ts";
import type { RaftEntry } from "./raft-log.ts";
import type { FetchRequest, FetchResponse } from "./raft-transport.ts";
import { MemoryQuorumState, TestCluster, text, textOf } from "./test-support.ts";

let cluster: TestCluster;
afterEach(() => cluster?.stopAll());

const epoch1 = (offset: number, value: string): RaftEntry => ({
  offset,
  epoch: 1,
  kind: "data",
  payload: text(value),
});

/** Node 1, the only voter, restarted on a log of three epoch-1 entries: it leads epoch 2 from offset 3. */
async function leaderOfEpoch2() {
  cluster = new TestCluster();
  const store = new MemoryQuorumState();
  const log = new InMemoryRaftLog([epoch1(0, "a"), epoch1(1, "b"), epoch1(2, "c")]);
  const leader = await cluster.start(1, { voters: [1], log, quorumState: store });
  await cluster.advance(0);
  expect(leader.status()).toMatchObject({ role: "leader", epoch: 2, logEndOffset: 4, highWatermark: 4 });
  return { leader, store };
}

const fetch = (fields: Partial<FetchRequest>): FetchRequest => ({
  replicaId: 5,
  epoch: 2,
  fetchOffset: 0,
  lastFetchedEpoch: 0,
  maxWaitMs: 500,
  maxEntries: 100,
  ...fields,
});

const summary = (answer: FetchResponse) => ({
  ...answer,
  records: answer.records.map(
    (e) => `${e.offset}:${e.epoch}:${e.kind === "data" ? textOf(e.payload) : e.kind}`,
  ),
});

describe("handleFetch on the leader", () => {
  it("fences a fetch from an older epoch, naming its epoch and leader", async () => {
    const { leader } = await leaderOfEpoch2();
    expect(await leader.handleFetch(fetch({ epoch: 1, fetchOffset: 3, lastFetchedEpoch: 1 }))).toEqual({
      errorName: "FENCED_LEADER_EPOCH",
      epoch: 2,
      leaderId: 1,
      highWatermark: 4,
      diverging: null,
      records: [],
    });
  });

  it("answers a fetch past the end of its epoch with the diverging epoch and end, recording nothing", async () => {
    const { leader } = await leaderOfEpoch2();
    // The replica holds epoch-1 entries up to 5; the leader's epoch 1 ends at 3.
    const answer = await leader.handleFetch(fetch({ fetchOffset: 5, lastFetchedEpoch: 1 }));
    expect(answer).toEqual({
      errorName: "NONE",
      epoch: 2,
      leaderId: 1,
      highWatermark: 4,
      diverging: { epoch: 1, endOffset: 3 },
      records: [],
    });
    expect((await leader.describeQuorum()).observers).toEqual([]);
    // An epoch the leader never had: truncate to the leader's end of the largest epoch below it.
    expect((await leader.handleFetch(fetch({ fetchOffset: 4, lastFetchedEpoch: 0 }))).diverging).toEqual({
      epoch: -1,
      endOffset: 0,
    });
  });

  it("answers a matching fetch with the entries from its offset and records the replica's progress", async () => {
    const { leader } = await leaderOfEpoch2();
    const answer = await leader.handleFetch(fetch({ fetchOffset: 2, lastFetchedEpoch: 1 }));
    expect(summary(answer)).toEqual({
      errorName: "NONE",
      epoch: 2,
      leaderId: 1,
      highWatermark: 4,
      diverging: null,
      records: ["2:1:c", "3:2:leaderChange"],
    });
    expect((await leader.describeQuorum()).observers).toEqual([
      { replicaId: 5, logEndOffset: 2, lastFetchTimestampMs: 0, lastCaughtUpTimestampMs: -1 },
    ]);
    expect(summary(await leader.handleFetch(fetch({ fetchOffset: 0, maxEntries: 2 }))).records).toEqual([
      "0:1:a",
      "1:1:b",
    ]);
  });

  it("holds a fetch with nothing new until the leader appends", async () => {
    const { leader } = await leaderOfEpoch2();
    let answer: FetchResponse | null = null;
    leader.handleFetch(fetch({ fetchOffset: 4, lastFetchedEpoch: 2 })).then((a) => (answer = a));
    await cluster.advance(400);
    expect(answer).toBeNull();
    await leader.append([text("d")]);
    await cluster.settle();
    expect(summary(answer!).records).toEqual(["4:2:d"]);
    expect(answer!.highWatermark).toBe(5);
    expect(cluster.clock.nowMs()).toBe(400);
  });

  it("answers at once a replica at the log end that was not sent the current high watermark", async () => {
    const { leader } = await leaderOfEpoch2();
    // The replica's last answer carried high watermark 4; the leader then appended and committed d.
    await leader.handleFetch(fetch({ fetchOffset: 2, lastFetchedEpoch: 1 }));
    await leader.append([text("d")]);
    await cluster.settle();
    let answer: FetchResponse | null = null;
    leader.handleFetch(fetch({ fetchOffset: 5, lastFetchedEpoch: 2 })).then((a) => (answer = a));
    await cluster.settle();
    expect(summary(answer!)).toMatchObject({ errorName: "NONE", records: [], highWatermark: 5 });
    expect(cluster.clock.nowMs()).toBe(0);
    // Once told, the replica's next fetch at the end is held for the wait.
    let next: FetchResponse | null = null;
    leader.handleFetch(fetch({ fetchOffset: 5, lastFetchedEpoch: 2 })).then((a) => (next = a));
    await cluster.advance(499);
    expect(next).toBeNull();
    await cluster.advance(1);
    expect(summary(next!)).toMatchObject({ errorName: "NONE", records: [], highWatermark: 5 });
  });

  it("answers a held fetch with nothing once its wait runs out", async () => {
    const { leader } = await leaderOfEpoch2();
    let answer: FetchResponse | null = null;
    leader
      .handleFetch(fetch({ fetchOffset: 4, lastFetchedEpoch: 2, maxWaitMs: 300 }))
      .then((a) => (answer = a));
    await cluster.advance(299);
    expect(answer).toBeNull();
    await cluster.advance(1);
    expect(summary(answer!)).toMatchObject({ errorName: "NONE", records: [], highWatermark: 4 });
  });

  it("moves to a newer epoch a fetch names, persisted before the answer", async () => {
    const { leader, store } = await leaderOfEpoch2();
    const answer = await leader.handleFetch(fetch({ epoch: 9, fetchOffset: 4, lastFetchedEpoch: 2 }));
    expect(answer).toMatchObject({ errorName: "NOT_LEADER_OR_FOLLOWER", epoch: 9, leaderId: null });
    expect(store.state).toEqual({ epoch: 9, votedFor: null, leaderId: null });
    // The only voter elects itself again, in the next epoch.
    await cluster.advance(0);
    expect(leader.status()).toMatchObject({ role: "leader", epoch: 10 });
  });

  it("a follower refuses a fetch and names its leader", async () => {
    cluster = new TestCluster();
    for (const id of [1, 2, 3]) await cluster.start(id, { voters: [1, 2, 3] });
    await cluster.advanceUntil(() => cluster.leaders().length > 0);
    const leader = cluster.leader();
    const follower = cluster.node([1, 2, 3].find((id) => id !== leader.nodeId)!);
    const { epoch } = leader.status();
    expect(await follower.handleFetch(fetch({ replicaId: 9, epoch }))).toMatchObject({
      errorName: "NOT_LEADER_OR_FOLLOWER",
      epoch,
      leaderId: leader.nodeId,
    });
  });
});
