import { describe, expect, it } from "vitest";
import { ErrorCode } from "../protocol/error-codes.ts";
import {
  type ControllerFixture,
  controllerFixture,
  createTopic,
  partitionState,
  registration,
} from "./controller-test-support.ts";
import type { IsrChangeRequest } from "./lifecycle-decision.ts";

function alterIsr(
  fixture: ControllerFixture,
  topicId: string,
  partitionId: number,
  request: Partial<IsrChangeRequest> & { newIsr: number[] },
) {
  return fixture.lifecycles.decide((decision) => {
    const topic = decision.image.topicsById.get(topicId)!;
    const { answer, records } = decision.alterPartition(topic, partitionId, {
      brokerId: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
      staleMembers: [],
      leaderRecovering: false,
      ...request,
    });
    return { records, result: answer };
  });
}

function fence(fixture: ControllerFixture, brokerId: number) {
  return fixture.lifecycles.decide((decision) => ({
    records: [
      ...decision.brokerLivenessChanged("broker.fenced", brokerId),
      { type: "FenceBrokerRecord", version: 0, value: { id: brokerId, epoch: 100n + BigInt(brokerId) } },
    ],
    result: null,
  }));
}

describe("partition lifecycles on the controller", () => {
  it("creates partitions through the machine: its PartitionRecords, then creationCommitted once applied", async () => {
    const fixture = controllerFixture([1, 2, 3]);
    await fixture.lifecycles.decide(() => ({
      records: [{ type: "FenceBrokerRecord", version: 0, value: { id: 3, epoch: 103n } }],
      result: null,
    }));
    const topicId = await createTopic(fixture, "orders", [
      [1, 2, 3],
      [3, 1, 2],
    ]);
    expect(fixture.log.batches.at(-1)!.map((record) => record.type)).toEqual([
      "TopicRecord",
      "PartitionRecord",
      "PartitionRecord",
    ]);
    // The fenced replica is left out of the ISR, and the first live replica leads.
    expect(partitionState(fixture, topicId, 0)).toEqual({
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
      isr: [1, 2],
    });
    expect(partitionState(fixture, topicId, 1)).toEqual({
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
      isr: [1, 2],
    });
    expect(fixture.lifecycles.stateOf(topicId, 0)?.value).toBe("Online");
  });

  it("refuses an assignment as the machine does, and validateOnly leaves nothing behind", async () => {
    const fixture = controllerFixture([1, 2]);
    await fixture.lifecycles.decide(() => ({
      records: [{ type: "FenceBrokerRecord", version: 0, value: { id: 2, epoch: 102n } }],
      result: null,
    }));
    const outcomes = await fixture.lifecycles.decide((decision) => {
      const topic = { topicId: "ab".repeat(16), configs: new Map<string, string>() };
      const options = { validateOnly: true };
      return {
        records: [],
        result: [
          decision.createPartitions(topic, [[2]], 0, options),
          decision.createPartitions(topic, [[1, 1]], 0, options),
          decision.createPartitions(topic, [[1, 2]], 0, options),
        ],
      };
    });
    expect(outcomes[0]).toEqual({
      errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage: "All brokers assigned to partition 0 are fenced or in controlled shutdown.",
    });
    expect(outcomes[1]).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT });
    expect(outcomes[2]).toMatchObject({
      records: [{ type: "PartitionRecord", value: { isr: [1], leader: 1 } }],
    });
    expect(fixture.lifecycles.stateOf("ab".repeat(16), 0)).toBeUndefined();
    expect(fixture.log.batches).toHaveLength(1);
  });

  it("answers an ISR shrink and expand with the new partition epoch, once committed", async () => {
    const fixture = controllerFixture([1, 2, 3]);
    const topicId = await createTopic(fixture, "orders", [[1, 2, 3]]);
    const shrunk = await alterIsr(fixture, topicId, 0, { newIsr: [1, 2] });
    expect(shrunk).toMatchObject({ errorCode: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2] });
    expect(partitionState(fixture, topicId, 0)).toEqual({
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 1,
      isr: [1, 2],
    });
    const expanded = await alterIsr(fixture, topicId, 0, { partitionEpoch: 1, newIsr: [1, 2, 3] });
    expect(expanded).toMatchObject({ errorCode: 0, partitionEpoch: 2, isr: [1, 2, 3] });
    expect(fixture.log.batches.at(-1)).toMatchObject([
      { type: "PartitionChangeRecord", value: { isr: [1, 2, 3], leader: -2 } },
    ]);
  });

  it.each([
    {
      name: "a stale partition epoch",
      request: { partitionEpoch: 0 },
      error: ErrorCode.INVALID_UPDATE_VERSION,
    },
    { name: "a stale leader epoch", request: { leaderEpoch: -1 }, error: ErrorCode.FENCED_LEADER_EPOCH },
    {
      name: "epochs ahead of the controller's",
      request: { partitionEpoch: 5 },
      error: ErrorCode.NOT_CONTROLLER,
    },
    { name: "a broker that is not the leader", request: { brokerId: 2 }, error: ErrorCode.INVALID_REQUEST },
    {
      name: "a member with a stale broker epoch",
      request: { staleMembers: [3] },
      error: ErrorCode.INELIGIBLE_REPLICA,
    },
    { name: "a leader recovering", request: { leaderRecovering: true }, error: ErrorCode.INVALID_REQUEST },
  ])("refuses an ISR change from $name and writes nothing", async ({ request, error }) => {
    const fixture = controllerFixture([1, 2, 3]);
    const topicId = await createTopic(fixture, "orders", [[1, 2, 3]]);
    await alterIsr(fixture, topicId, 0, { newIsr: [1, 2] });
    const batches = fixture.log.batches.length;
    const answer = await alterIsr(fixture, topicId, 0, { partitionEpoch: 1, newIsr: [1, 2, 3], ...request });
    expect(answer.errorCode).toBe(error);
    expect(fixture.log.batches).toHaveLength(batches);
    expect(partitionState(fixture, topicId, 0)).toEqual({
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 1,
      isr: [1, 2],
    });
  });

  it("moves leadership off a fenced leader with the leader epoch bumped, and back when it is unfenced", async () => {
    const fixture = controllerFixture([1, 2]);
    const topicId = await createTopic(fixture, "orders", [[1, 2], [1]]);
    await fence(fixture, 1);
    expect(fixture.log.batches.at(-1)!.map((record) => record.type)).toEqual([
      "PartitionChangeRecord",
      "PartitionChangeRecord",
      "FenceBrokerRecord",
    ]);
    expect(partitionState(fixture, topicId, 0)).toEqual({
      leader: 2,
      leaderEpoch: 1,
      partitionEpoch: 1,
      isr: [2],
    });
    // No other replica: leaderless, its last ISR member kept for a clean election later.
    expect(partitionState(fixture, topicId, 1)).toEqual({
      leader: -1,
      leaderEpoch: 1,
      partitionEpoch: 1,
      isr: [1],
    });
    expect(fixture.lifecycles.stateOf(topicId, 1)?.value).toBe("Offline");

    await fixture.lifecycles.decide((decision) => ({
      records: [
        { type: "UnfenceBrokerRecord", version: 0, value: { id: 1, epoch: 101n } },
        ...decision.brokerLivenessChanged("broker.unfenced", 1),
      ],
      result: null,
    }));
    expect(partitionState(fixture, topicId, 1)).toEqual({
      leader: 1,
      leaderEpoch: 2,
      partitionEpoch: 2,
      isr: [1],
    });
    // Leading already: the returning broker rejoins the ISR through AlterPartition, not here.
    expect(partitionState(fixture, topicId, 0)).toEqual({
      leader: 2,
      leaderEpoch: 1,
      partitionEpoch: 1,
      isr: [2],
    });
    expect(fixture.lifecycles.stateOf(topicId, 1)?.value).toBe("Online");
  });

  it("deletes a topic with one RemoveTopicRecord from its partitions' machines", async () => {
    const fixture = controllerFixture([1]);
    const topicId = await createTopic(fixture, "orders", [[1], [1], [1]]);
    await fixture.lifecycles.decide((decision) => ({
      records: decision.deleteTopic(decision.image.topicsById.get(topicId)!),
      result: null,
    }));
    expect(fixture.log.batches.at(-1)).toEqual([
      { type: "RemoveTopicRecord", version: 0, value: { topicId } },
    ]);
    expect(fixture.image.topicsById.has(topicId)).toBe(false);
    expect(fixture.lifecycles.stateOf(topicId, 0)).toBeUndefined();
  });

  it("decides from the image again after a leadership change, whatever another controller wrote meanwhile", async () => {
    const fixture = controllerFixture([1, 2, 3]);
    const topicId = await createTopic(fixture, "orders", [[1, 2, 3]]);
    // Another controller, in a later epoch, moved the leader to 2 and shrank the ISR.
    fixture.log.commit([
      { type: "PartitionChangeRecord", version: 0, value: { ...noChange(topicId), isr: [2, 3], leader: 2 } },
    ]);
    fixture.log.epoch = 2;
    const answer = await alterIsr(fixture, topicId, 0, {
      brokerId: 2,
      leaderEpoch: 1,
      partitionEpoch: 1,
      newIsr: [2],
    });
    expect(answer).toMatchObject({ errorCode: 0, leader: 2, leaderEpoch: 1, partitionEpoch: 2, isr: [2] });
  });

  it("drops what an uncommitted decision staged and decides the next one from the image", async () => {
    const fixture = controllerFixture([1, 2, 3]);
    const topicId = await createTopic(fixture, "orders", [[1, 2, 3]]);
    fixture.log.failNextAppend = new Error("the log refused the batch");
    await expect(alterIsr(fixture, topicId, 0, { newIsr: [1, 2] })).rejects.toThrow("refused");
    expect(fixture.lifecycles.stateOf(topicId, 0)).toBeUndefined();
    const retried = await alterIsr(fixture, topicId, 0, { newIsr: [1, 3] });
    expect(retried).toMatchObject({ errorCode: 0, partitionEpoch: 1, isr: [1, 3] });
  });

  it("learns of a node's new fenced registration before it decides", async () => {
    const fixture = controllerFixture([1, 2, 3]);
    const topicId = await createTopic(fixture, "orders", [[1, 2, 3]]);
    fixture.log.commit([registration(3, 200n, true)]);
    const kept = await alterIsr(fixture, topicId, 0, { newIsr: [1, 2, 3] });
    expect(kept.errorCode).toBe(ErrorCode.INELIGIBLE_REPLICA);
    const shrunk = await alterIsr(fixture, topicId, 0, { newIsr: [1, 2] });
    expect(shrunk).toMatchObject({ errorCode: 0, isr: [1, 2], partitionEpoch: 1 });
  });
});

function noChange(topicId: string) {
  return {
    partitionId: 0,
    topicId,
    isr: null,
    leader: -2,
    replicas: null,
    removingReplicas: null,
    addingReplicas: null,
    leaderRecoveryState: -1,
    eligibleLeaderReplicas: null,
    lastKnownElr: null,
    directories: null,
  };
}
