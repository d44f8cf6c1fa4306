import { describe, expect, it } from "vitest";
import { type BrokerStanding, nextStanding } from "./broker-heartbeats.ts";
import { capturingLogger, createTopic, partitionState, registration } from "./controller-test-support.ts";
import { livenessFixture } from "./liveness-test-support.ts";

/** Broker `brokerId`'s heartbeat with its registered epoch (100 + id), having applied everything. */
function heartbeat(
  cluster: ReturnType<typeof livenessFixture>,
  brokerId: number,
  wants: { wantShutDown?: boolean; wantFence?: boolean },
  brokerEpoch = 100n + BigInt(brokerId),
) {
  return cluster.heartbeats.heartbeat({
    brokerId,
    brokerEpoch,
    currentMetadataOffset: BigInt(cluster.appliedOffset()),
    wantFence: wants.wantFence ?? false,
    wantShutDown: wants.wantShutDown ?? false,
  });
}

const standingOfBroker = (cluster: ReturnType<typeof livenessFixture>, brokerId: number) => {
  const broker = cluster.image.brokers.get(brokerId)!;
  return { fenced: broker.fenced, inControlledShutdown: broker.inControlledShutdown };
};

describe("the next standing a heartbeat asks for (Kafka's rules)", () => {
  const cases: Array<[BrokerStanding, boolean, boolean, boolean, boolean, string]> = [
    // standing, wantFence, wantShutDown, leads partitions, others caught up, next
    ["fenced", false, false, false, true, "fenced"],
    ["fenced", true, false, true, true, "fenced"],
    ["fenced", false, true, true, false, "shutdownNow"],
    ["unfenced", false, false, true, true, "unfenced"],
    ["unfenced", true, false, true, true, "fenced"],
    ["unfenced", true, true, true, false, "shutdownNow"],
    ["unfenced", false, true, true, false, "controlledShutdown"],
    ["unfenced", false, true, false, false, "shutdownNow"],
    ["controlledShutdown", false, true, true, true, "controlledShutdown"],
    ["controlledShutdown", false, true, false, false, "controlledShutdown"],
    ["controlledShutdown", false, false, false, true, "shutdownNow"],
  ];
  it.each(cases)(
    "%s, want fence %s, shut down %s, leading %s, others caught up %s: %s",
    (standing, wantFence, wantShutDown, leads, caughtUp, next) => {
      expect(nextStanding(standing, { wantFence, wantShutDown }, leads, caughtUp)).toBe(next);
    },
  );
});

describe("BrokerHeartbeat on the controller", () => {
  it("takes a leader through controlled shutdown: leadership moved, out of the ISR, then fenced and told to go", async () => {
    const { logger, lines } = capturingLogger();
    const cluster = livenessFixture([1, 2, 3], logger);
    const topicId = await createTopic(cluster, "orders", [[2, 3, 1]]);
    expect(partitionState(cluster, topicId, 0)).toMatchObject({ leader: 2, isr: [2, 3, 1] });

    // Broker 3 has not fetched the records that move the leadership yet: 2 may not go.
    cluster.fetched(3, 0);
    expect(await heartbeat(cluster, 2, { wantShutDown: true })).toEqual({
      kind: "answered",
      isCaughtUp: true,
      isFenced: false,
      shouldShutDown: false,
    });
    expect(partitionState(cluster, topicId, 0)).toMatchObject({ leader: 3, leaderEpoch: 1, isr: [3, 1] });
    expect(standingOfBroker(cluster, 2)).toEqual({ fenced: false, inControlledShutdown: true });
    expect(cluster.log.batches.at(-1)?.map((record) => record.type)).toEqual([
      "BrokerRegistrationChangeRecord",
      "PartitionChangeRecord",
    ]);
    expect(await heartbeat(cluster, 2, { wantShutDown: true })).toMatchObject({ shouldShutDown: false });

    cluster.fetched(3);
    expect(await heartbeat(cluster, 2, { wantShutDown: true })).toMatchObject({
      isFenced: true,
      shouldShutDown: true,
    });
    expect(standingOfBroker(cluster, 2)).toEqual({ fenced: true, inControlledShutdown: true });
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        "broker asked to shut down: in controlled shutdown, its leaderships moved to other ISR replicas (leaderless where there is none) and it taken out of every ISR it shared",
        "broker in controlled shutdown leads nothing and the other brokers have caught up: fenced and granted",
      ]),
    );

    // Still fetching while it closes down, it is not unfenced; a new incarnation is.
    cluster.fetched(2);
    await cluster.liveness.check();
    expect(standingOfBroker(cluster, 2).fenced).toBe(true);
    cluster.log.commit([registration(2, 202n, true)]);
    cluster.fetched(2);
    await cluster.liveness.check();
    expect(standingOfBroker(cluster, 2)).toEqual({ fenced: false, inControlledShutdown: false });
  });

  it("leaves a partition whose only ISR member shuts down leaderless, and keeps that member in its ISR", async () => {
    const cluster = livenessFixture([1, 2, 3]);
    const topicId = await createTopic(cluster, "solo", [[2]]);
    await heartbeat(cluster, 2, { wantShutDown: true });
    expect(partitionState(cluster, topicId, 0)).toMatchObject({ leader: -1, isr: [2] });
    cluster.fetched(3);
    expect(await heartbeat(cluster, 2, { wantShutDown: true })).toMatchObject({ shouldShutDown: true });
  });

  it("fences a broker that leads nothing and grants its shutdown at once", async () => {
    const cluster = livenessFixture([1, 2, 3]);
    const topicId = await createTopic(cluster, "orders", [[1, 3]]);
    expect(await heartbeat(cluster, 3, { wantShutDown: true })).toMatchObject({
      isFenced: true,
      shouldShutDown: true,
    });
    expect(standingOfBroker(cluster, 3)).toEqual({ fenced: true, inControlledShutdown: true });
    expect(partitionState(cluster, topicId, 0)).toMatchObject({ leader: 1, isr: [1] });
  });

  it("places no new replica on a broker in controlled shutdown", async () => {
    const cluster = livenessFixture([1, 2, 3]);
    await createTopic(cluster, "orders", [[2, 1]]);
    cluster.fetched(3, 0);
    await heartbeat(cluster, 2, { wantShutDown: true });
    expect(cluster.image.usableBrokers().map((broker) => broker.brokerId)).toEqual([1, 3]);
    expect(cluster.image.liveBrokers().map((broker) => broker.brokerId)).toEqual([1, 2, 3]);
  });

  it("keeps a broker that wants to be fenced fenced while it fetches, until it no longer wants it", async () => {
    const cluster = livenessFixture([1, 2, 3]);
    cluster.fetched(2);
    cluster.fetched(3);
    expect(await heartbeat(cluster, 3, { wantFence: true })).toMatchObject({ isFenced: true });
    cluster.fetched(3);
    await cluster.liveness.check();
    expect(standingOfBroker(cluster, 3).fenced).toBe(true);

    expect(await heartbeat(cluster, 3, {})).toMatchObject({ isFenced: true, shouldShutDown: false });
    cluster.fetched(3);
    await cluster.liveness.check();
    expect(standingOfBroker(cluster, 3)).toEqual({ fenced: false, inControlledShutdown: false });
  });

  it("refuses an incarnation it does not know as stale, and decides nothing for it", async () => {
    const cluster = livenessFixture([1, 2]);
    expect(await heartbeat(cluster, 2, { wantShutDown: true }, 99n)).toEqual({
      kind: "stale",
      registeredEpoch: 102n,
    });
    expect(await heartbeat(cluster, 7, { wantShutDown: true }, 1n)).toEqual({
      kind: "stale",
      registeredEpoch: null,
    });
    expect(cluster.log.batches).toEqual([]);
  });
});
