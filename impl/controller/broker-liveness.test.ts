import { describe, expect, it } from "vitest";
import { brokerNewControllerGraceMs, brokerReconnectGraceMs } from "./broker-liveness.ts";
import {
  type ControllerFixture,
  capturingLogger,
  createTopic,
  partitionState,
  registration,
} from "./controller-test-support.ts";
import { livenessFixture, sessionTimeoutMs } from "./liveness-test-support.ts";

const fencedOf = (fixture: ControllerFixture) =>
  [...fixture.image.brokers.values()].filter((broker) => broker.fenced).map((broker) => broker.brokerId);

describe("broker liveness on the controller", () => {
  it("fences a node silent for longer than the session, moving its leadership with the leader epoch bumped", async () => {
    const { logger, lines } = capturingLogger();
    const cluster = livenessFixture([1, 2, 3], logger);
    const topicId = await createTopic(cluster, "orders", [[2, 1, 3]]);
    cluster.fetched(2);
    cluster.fetched(3);
    await cluster.liveness.check();
    cluster.clock.nowMs += sessionTimeoutMs;
    cluster.fetched(3);
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);

    cluster.clock.nowMs += 1;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([2]);
    expect(cluster.log.batches.at(-1)).toMatchObject([
      { type: "PartitionChangeRecord", value: { leader: 1, isr: [1, 3] } },
      { type: "FenceBrokerRecord", value: { id: 2, epoch: 102n } },
    ]);
    expect(partitionState(cluster, topicId, 0)).toEqual({
      leader: 1,
      leaderEpoch: 1,
      partitionEpoch: 1,
      isr: [1, 3],
    });
    expect(
      lines.filter((line) => line.msg !== "metadata committed").map(({ msg, ...rest }) => [msg, rest]),
    ).toEqual(
      expect.arrayContaining([
        [
          "partition leader changed",
          expect.objectContaining({ previousLeader: 2, leader: 1, leaderEpoch: 1 }),
        ],
        [
          "node fenced: no metadata fetch within its session",
          expect.objectContaining({ brokerId: 2, controllerEpoch: 1 }),
        ],
      ]),
    );
  });

  it("fences a node whose fetch connection closed once it has not fetched again within the reconnect grace", async () => {
    const { logger, lines } = capturingLogger();
    const cluster = livenessFixture([1, 2, 3], logger);
    await createTopic(cluster, "orders", [[2, 1, 3]]);
    let closeFirst!: () => void;
    const first = new Promise<void>((resolve) => (closeFirst = resolve));
    cluster.fetched(2);
    cluster.fetched(3);
    cluster.liveness.fetchedOver(2, first);
    cluster.liveness.fetchedOver(3, new Promise(() => {}));
    closeFirst();
    await first;
    // A node that reconnects and fetches within the grace keeps its standing.
    cluster.clock.nowMs += brokerReconnectGraceMs - 1;
    cluster.fetched(2);
    cluster.liveness.fetchedOver(2, new Promise(() => {}));
    cluster.clock.nowMs += brokerReconnectGraceMs;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);

    let closeSecond!: () => void;
    const second = new Promise<void>((resolve) => (closeSecond = resolve));
    cluster.liveness.fetchedOver(3, second);
    closeSecond();
    await second;
    cluster.clock.nowMs += brokerReconnectGraceMs - 1;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);
    cluster.clock.nowMs += 1;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([3]);
    expect(lines.map((line) => line.msg)).toContain(
      `node fenced: its fetch connection closed and it did not fetch again within ${brokerReconnectGraceMs} ms`,
    );
  });

  it("keeps a node fenced for a closed connection until it fetches again past its fence, though its session lasts", async () => {
    const cluster = livenessFixture([1, 2, 3]);
    // A new incarnation registers fenced, and is unfenced once it has caught up with its registration.
    cluster.log.commit([registration(2, 300n, true)]);
    cluster.fetched(2);
    cluster.fetched(3);
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);

    let close!: () => void;
    const connection = new Promise<void>((resolve) => (close = resolve));
    cluster.liveness.fetchedOver(2, connection);
    close();
    await connection;
    cluster.clock.nowMs += brokerReconnectGraceMs;
    await cluster.liveness.check();
    await cluster.liveness.check();
    // Its last fetch is still within the session, but it came before the fence: no unfence on it.
    expect(fencedOf(cluster)).toEqual([2]);
    expect(cluster.log.batches.at(-1)).toMatchObject([{ type: "FenceBrokerRecord", value: { id: 2 } }]);

    cluster.fetched(2);
    cluster.liveness.fetchedOver(2, new Promise(() => {}));
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);
  });

  it("gives every node a fresh session when it becomes the controller, and never fences itself", async () => {
    const cluster = livenessFixture([1, 2]);
    await cluster.liveness.check();
    cluster.fetched(2);
    cluster.clock.nowMs += sessionTimeoutMs;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);

    // A new leadership before that session ran out: node 2's session starts again from now.
    cluster.log.epoch = 2;
    cluster.clock.nowMs += 1;
    await cluster.liveness.check();
    cluster.fetched(2);
    cluster.clock.nowMs += sessionTimeoutMs;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);
    cluster.clock.nowMs += 1;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([2]);
  });

  it("fences a node that does not fetch from a new controller within the grace after its election", async () => {
    const { logger, lines } = capturingLogger();
    const cluster = livenessFixture([1, 2, 3], logger);
    await createTopic(cluster, "orders", [[2, 1, 3]]);
    cluster.fetched(2);
    cluster.fetched(3);
    cluster.log.epoch = 2;
    cluster.clock.nowMs += 1;
    await cluster.liveness.check();
    // Node 3 hears of the election and fetches; node 2 went down with the old controller.
    cluster.fetched(3);
    cluster.clock.nowMs += brokerNewControllerGraceMs - 1;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);

    cluster.clock.nowMs += 1;
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([2]);
    expect(lines.map((line) => line.msg)).toContain(
      `node fenced: no metadata fetch from this controller within ${brokerNewControllerGraceMs} ms of its election`,
    );
  });

  it("unfences a fenced node once it fetches again and has caught up, electing it where no one leads", async () => {
    const cluster = livenessFixture([1, 2]);
    const topicId = await createTopic(cluster, "orders", [[2]]);
    await cluster.liveness.check();
    cluster.clock.nowMs += sessionTimeoutMs + 1;
    await cluster.liveness.check();
    expect(partitionState(cluster, topicId, 0)).toEqual({
      leader: -1,
      leaderEpoch: 1,
      partitionEpoch: 1,
      isr: [2],
    });

    const caughtUpAt = cluster.appliedOffset();
    cluster.fetched(2, caughtUpAt - 1);
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([2]);

    cluster.fetched(2, caughtUpAt);
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);
    expect(cluster.log.batches.at(-1)).toMatchObject([
      { type: "UnfenceBrokerRecord", value: { id: 2, epoch: 102n } },
      { type: "PartitionChangeRecord", value: { leader: 2, isr: null } },
    ]);
    expect(partitionState(cluster, topicId, 0)).toEqual({
      leader: 2,
      leaderEpoch: 2,
      partitionEpoch: 2,
      isr: [2],
    });
  });

  it("takes a node registering anew out of the leaderships and ISRs its old incarnation held, then unfences it", async () => {
    const cluster = livenessFixture([1, 2, 3]);
    const topicId = await createTopic(cluster, "orders", [[2, 1, 3]]);
    cluster.log.commit([registration(2, 300n, true)]);
    cluster.fetched(2);
    cluster.fetched(3);
    await cluster.liveness.check();
    expect(cluster.log.batches.slice(-2)).toMatchObject([
      [{ type: "PartitionChangeRecord", value: { leader: 1, isr: [1, 3] } }],
      [{ type: "UnfenceBrokerRecord", value: { id: 2, epoch: 300n } }],
    ]);
    expect(fencedOf(cluster)).toEqual([]);
    expect(partitionState(cluster, topicId, 0)).toEqual({
      leader: 1,
      leaderEpoch: 1,
      partitionEpoch: 1,
      isr: [1, 3],
    });
  });

  it("unfences the controller's own fenced registration without waiting for a fetch", async () => {
    const cluster = livenessFixture([2]);
    cluster.log.commit([registration(1, 500n, true)]);
    cluster.fetched(2);
    await cluster.liveness.check();
    expect(fencedOf(cluster)).toEqual([]);
    expect(cluster.log.batches.at(-1)).toMatchObject([{ type: "UnfenceBrokerRecord", value: { id: 1 } }]);
  });

  it("decides nothing while this node does not lead the quorum", async () => {
    const cluster = livenessFixture([1, 2]);
    cluster.quorum.leading = false;
    cluster.log.commit([registration(2, 300n, true)]);
    cluster.clock.nowMs += 10 * sessionTimeoutMs;
    await cluster.liveness.check();
    expect(cluster.log.batches).toHaveLength(1);
  });
});
