import { describe, expect, it } from "vitest";
import {
  type AlterPartitionTarget,
  alterPartitionOutcome,
  alterPartitionRequest,
  type IsrProposal,
} from "../../controller/alter-partition-client.ts";
import {
  type ControllerFixture,
  controllerFixture,
  createTopic,
} from "../../controller/controller-test-support.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../../protocol/api.ts";
import { alterPartitionApi } from "../../protocol/apis/alter-partition.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { Reader } from "../../protocol/reader.ts";
import { alterPartitionHandler } from "./alter-partition.ts";
import { handlerContext, responseOf } from "./quorum-test-support.ts";

/** Brokers 1-3 (broker epochs 101-103) and "orders" with one partition led by 1, ISR [1, 2, 3]. */
async function cluster(): Promise<{ fixture: ControllerFixture; target: AlterPartitionTarget }> {
  const fixture = controllerFixture([1, 2, 3]);
  const topicId = await createTopic(fixture, "orders", [[1, 2, 3]]);
  return {
    fixture,
    target: { brokerId: 1, brokerEpoch: 101n, topicName: "orders", topicId, partitionIndex: 0 },
  };
}

/** The leader's proposal, over the wire both ways as `version`, read back as the ISR machine gets it. */
async function ask(
  fixture: ControllerFixture,
  version: number,
  target: AlterPartitionTarget,
  proposal: IsrProposal,
) {
  const requestBytes = encodeRequest(
    alterPartitionApi,
    version,
    alterPartitionRequest(version, target, proposal),
  );
  const request = decodeRequest(alterPartitionApi, version, new Reader(requestBytes.toBuffer()));
  const handler = alterPartitionHandler({ lifecycles: fixture.lifecycles });
  const answer = await responseOf(handler(request, handlerContext(alterPartitionApi.key, version)));
  const response = decodeResponse(
    alterPartitionApi,
    version,
    encodeResponse(alterPartitionApi, version, answer).toBuffer(),
  );
  return { response, outcome: alterPartitionOutcome(version, target, response) };
}

const shrink = { leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2] };

describe("AlterPartition handler", () => {
  it.each([0, 1, 2, 3])(
    "commits a shrink sent as v%i and answers with the new partition epoch",
    async (version) => {
      const { fixture, target } = await cluster();
      const { response, outcome } = await ask(fixture, version, target, shrink);
      expect(outcome).toEqual({ errorCode: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2] });
      // v0-1 name the topic, v2+ identify it.
      expect(response.topics[0]).toMatchObject(
        version >= 2 ? { topicName: "", topicId: target.topicId } : { topicName: "orders" },
      );
      expect(fixture.image.topicsById.get(target.topicId)!.partitions.get(0)).toMatchObject({
        isr: [1, 2],
        partitionEpoch: 1,
      });
    },
  );

  it("v3: refuses an ISR member named with a broker epoch other than its registration's (KIP-903)", async () => {
    const { fixture, target } = await cluster();
    await ask(fixture, 3, target, shrink);
    const expand = { leaderEpoch: 0, partitionEpoch: 1, newIsr: [1, 2, 3] };
    const stale = await ask(
      fixture,
      3,
      { ...target, memberEpoch: (id) => (id === 3 ? 55n : 100n + BigInt(id)) },
      expand,
    );
    expect(stale.outcome).toEqual({ errorCode: ErrorCode.INELIGIBLE_REPLICA });
    const current = await ask(fixture, 3, { ...target, memberEpoch: (id) => 100n + BigInt(id) }, expand);
    expect(current.outcome).toMatchObject({ errorCode: 0, partitionEpoch: 2, isr: [1, 2, 3] });
  });

  it("refuses a stale partition epoch with the error alone, as Kafka answers refusals", async () => {
    const { fixture, target } = await cluster();
    await ask(fixture, 2, target, shrink);
    const { response, outcome } = await ask(fixture, 2, target, { ...shrink, newIsr: [1] });
    expect(outcome).toEqual({ errorCode: ErrorCode.INVALID_UPDATE_VERSION });
    expect(response.topics[0]!.partitions[0]).toEqual({
      partitionIndex: 0,
      errorCode: ErrorCode.INVALID_UPDATE_VERSION,
      leaderId: 0,
      leaderEpoch: 0,
      isr: [],
      leaderRecoveryState: 0,
      partitionEpoch: 0,
    });
  });

  it("refuses the whole request with STALE_BROKER_EPOCH from an older incarnation of the leader", async () => {
    const { fixture, target } = await cluster();
    const { response, outcome } = await ask(fixture, 2, { ...target, brokerEpoch: 100n }, shrink);
    expect(response).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, topics: [] });
    expect(outcome).toEqual({ errorCode: ErrorCode.STALE_BROKER_EPOCH });
  });

  it("answers NOT_CONTROLLER on a node that does not lead the metadata quorum", async () => {
    const { fixture, target } = await cluster();
    fixture.log.leading = false;
    const { response } = await ask(fixture, 3, target, shrink);
    expect(response).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] });
  });

  it.each([
    {
      version: 1,
      name: "missing",
      topicId: "00".repeat(16),
      partitionIndex: 0,
      error: "UNKNOWN_TOPIC_OR_PARTITION",
    },
    { version: 2, name: "orders", topicId: "ff".repeat(16), partitionIndex: 0, error: "UNKNOWN_TOPIC_ID" },
    { version: 3, name: "orders", topicId: null, partitionIndex: 7, error: "UNKNOWN_TOPIC_OR_PARTITION" },
  ] as const)("answers $error for an unknown topic or partition in v$version", async (row) => {
    const { fixture, target } = await cluster();
    const asked = {
      ...target,
      topicName: row.name,
      topicId: row.topicId ?? target.topicId,
      partitionIndex: row.partitionIndex,
    };
    const { outcome } = await ask(fixture, row.version, asked, shrink);
    expect(outcome).toEqual({ errorCode: ErrorCode[row.error] });
  });
});

describe("AlterPartition client helper", () => {
  const target = {
    brokerId: 1,
    brokerEpoch: 7n,
    topicName: "orders",
    topicId: "ab".repeat(16),
    partitionIndex: 2,
  };

  it("carries the ISR in the one field each version has", () => {
    const proposal = { leaderEpoch: 3, partitionEpoch: 9, newIsr: [1, 2] };
    expect(alterPartitionRequest(2, target, proposal).topics[0]!.partitions[0]).toMatchObject({
      newIsr: [1, 2],
      newIsrWithEpochs: [],
    });
    expect(alterPartitionRequest(3, target, proposal).topics[0]!.partitions[0]).toMatchObject({
      newIsr: [],
      newIsrWithEpochs: [
        { brokerId: 1, brokerEpoch: -1n },
        { brokerId: 2, brokerEpoch: -1n },
      ],
    });
    expect(() => alterPartitionRequest(4, target, proposal)).toThrow("no version 4");
  });

  it("reads an answer that leaves the partition out as UNKNOWN_SERVER_ERROR, to be asked again", () => {
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      topics: [{ topicName: "", topicId: target.topicId, partitions: [] }],
    };
    expect(alterPartitionOutcome(2, target, response)).toEqual({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
  });
});
