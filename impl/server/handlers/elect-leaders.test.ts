import { describe, expect, it } from "vitest";
import { defaultBrokerConfig } from "../../broker/config.ts";
import type { BrokerServices } from "../../broker/services.ts";
import {
  type ControllerFixture,
  changeLiveness,
  controllerFixture,
  createTopic,
  leaderlessTopicWithLiveFollower,
  partitionState,
} from "../../controller/controller-test-support.ts";
import { silentLogger } from "../../log.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../../protocol/api.ts";
import { electLeadersApi } from "../../protocol/apis/elect-leaders.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { Reader } from "../../protocol/reader.ts";
import { electLeadersHandler } from "./elect-leaders.ts";
import { handlerContext, responseOf } from "./quorum-test-support.ts";

/** What the handler uses of a broker that is the controller itself. */
function controllerServices(fixture: ControllerFixture): BrokerServices {
  return {
    lifecycles: fixture.lifecycles,
    controllerLink: { isLocal: () => true },
    logger: silentLogger(),
    config: defaultBrokerConfig,
  } as unknown as BrokerServices;
}

/** ElectLeaders over the wire both ways as `version`. */
async function elect(
  fixture: ControllerFixture,
  version: number,
  electionType: number,
  topicPartitions: Array<{ topic: string; partitions: number[] }> | null,
) {
  const bytes = encodeRequest(electLeadersApi, version, { electionType, topicPartitions, timeoutMs: 1000 });
  const request = decodeRequest(electLeadersApi, version, new Reader(bytes.toBuffer()));
  const handler = electLeadersHandler(controllerServices(fixture));
  const answer = await responseOf(handler(request, handlerContext(electLeadersApi.key, version)));
  return decodeResponse(
    electLeadersApi,
    version,
    encodeResponse(electLeadersApi, version, answer).toBuffer(),
  );
}

const codesOf = (response: Awaited<ReturnType<typeof elect>>) =>
  response.replicaElectionResults.flatMap(({ topic, partitionResult }) =>
    partitionResult.map(({ partitionId, errorCode }) => [topic, partitionId, errorCode]),
  );

/** The partition's leader, from `isr`, asks to take `newIsr`: an AlterPartition at its current epochs. */
function alterIsr(fixture: ControllerFixture, topicId: string, newIsr: number[]) {
  return fixture.lifecycles.decide((decision) => {
    const topic = decision.image.topicsById.get(topicId)!;
    const { leader, leaderEpoch, partitionEpoch } = partitionState(fixture, topicId, 0);
    const { records } = decision.alterPartition(topic, 0, {
      brokerId: leader,
      leaderEpoch,
      partitionEpoch,
      newIsr,
      staleMembers: [],
      leaderRecovering: false,
    });
    return { records, result: null };
  });
}

describe("ElectLeaders handler", () => {
  it.each([0, 1, 2])("moves leadership back to the preferred replica (v%i)", async (version) => {
    const fixture = controllerFixture([1, 2, 3]);
    const topicId = await createTopic(fixture, "orders", [[1, 2, 3]]);
    await changeLiveness(fixture, 1, true);
    await changeLiveness(fixture, 1, false);
    expect(partitionState(fixture, topicId, 0)).toMatchObject({ leader: 2, isr: [2, 3] });

    // Not back in the ISR yet: the preferred replica may not lead.
    expect(codesOf(await elect(fixture, version, 0, [{ topic: "orders", partitions: [0] }]))).toEqual([
      ["orders", 0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE],
    ]);
    await alterIsr(fixture, topicId, [1, 2, 3]);
    const before = partitionState(fixture, topicId, 0);

    const response = await elect(fixture, version, 0, [{ topic: "orders", partitions: [0, 7] }]);
    expect(codesOf(response)).toEqual([
      ["orders", 0, ErrorCode.NONE],
      ["orders", 7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(response.replicaElectionResults[0]!.partitionResult[0]!.errorMessage).toBeNull();
    // Committed before the answer: the image already has the new leader in a new epoch.
    expect(partitionState(fixture, topicId, 0)).toEqual({
      leader: 1,
      leaderEpoch: before.leaderEpoch + 1,
      partitionEpoch: before.partitionEpoch + 1,
      isr: [1, 2, 3],
    });
    expect(fixture.log.batches.at(-1)!.map((record) => record.type)).toEqual(["PartitionChangeRecord"]);

    expect(codesOf(await elect(fixture, version, 0, [{ topic: "orders", partitions: [0] }]))).toEqual([
      ["orders", 0, ErrorCode.ELECTION_NOT_NEEDED],
    ]);
    expect(codesOf(await elect(fixture, version, 0, [{ topic: "missing", partitions: [0] }]))).toEqual([
      ["missing", 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
  });

  it("asked for every partition, answers only those that needed an election", async () => {
    const fixture = controllerFixture([1, 2]);
    const topicId = await createTopic(fixture, "orders", [
      [1, 2],
      [2, 1],
    ]);
    await changeLiveness(fixture, 1, true);
    await changeLiveness(fixture, 1, false);
    await alterIsr(fixture, topicId, [1, 2]);
    expect(partitionState(fixture, topicId, 0).leader).toBe(2);
    expect(codesOf(await elect(fixture, 2, 0, null))).toEqual([["orders", 0, ErrorCode.NONE]]);
    expect(partitionState(fixture, topicId, 0).leader).toBe(1);
    expect((await elect(fixture, 2, 0, null)).replicaElectionResults).toEqual([]);
  });

  it("elects a replica outside the ISR for a leaderless partition only when asked for an unclean election", async () => {
    const fixture = controllerFixture([1, 2]);
    const topicId = await leaderlessTopicWithLiveFollower(fixture, "orders");
    expect(partitionState(fixture, topicId, 0)).toMatchObject({ leader: -1, isr: [1] });

    expect(codesOf(await elect(fixture, 1, 0, [{ topic: "orders", partitions: [0] }]))).toEqual([
      ["orders", 0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE],
    ]);
    const response = await elect(fixture, 1, 1, [{ topic: "orders", partitions: [0] }]);
    expect(codesOf(response)).toEqual([["orders", 0, ErrorCode.NONE]]);
    expect(partitionState(fixture, topicId, 0)).toMatchObject({ leader: 2, isr: [2] });
    // The election was the operator's: the topic still refuses unclean elections of its own.
    expect(fixture.lifecycles.stateOf(topicId, 0)?.context.uncleanLeaderElectionEnabled).toBe(false);
    expect(fixture.lifecycles.stateOf(topicId, 0)?.value).toBe("Online");

    expect(codesOf(await elect(fixture, 1, 1, [{ topic: "orders", partitions: [0] }]))).toEqual([
      ["orders", 0, ErrorCode.ELECTION_NOT_NEEDED],
    ]);
  });

  it("answers ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live, and INVALID_REQUEST for an unknown type", async () => {
    const fixture = controllerFixture([1, 2]);
    const topicId = await createTopic(fixture, "orders", [[1, 2]]);
    await changeLiveness(fixture, 2, true);
    await changeLiveness(fixture, 1, true);
    const batches = fixture.log.batches.length;
    expect(codesOf(await elect(fixture, 2, 1, [{ topic: "orders", partitions: [0] }]))).toEqual([
      ["orders", 0, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE],
    ]);
    expect(partitionState(fixture, topicId, 0).leader).toBe(-1);
    expect(fixture.log.batches.length).toBeLessThanOrEqual(batches + 1);
    expect(fixture.log.batches.slice(batches).flat()).toEqual([]);

    const unknownType = await elect(fixture, 2, 5, [{ topic: "orders", partitions: [0] }]);
    expect(unknownType.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(codesOf(unknownType)).toEqual([["orders", 0, ErrorCode.INVALID_REQUEST]]);
  });
});
