import { describe, expect, it } from "vitest";
import { RaftStoppedError } from "../../cluster/raft/errors.ts";
import { beginQuorumEpochApi } from "../../protocol/apis/begin-quorum-epoch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { zeroUuid } from "../../protocol/schema.ts";
import { beginQuorumEpochHandler } from "./begin-quorum-epoch.ts";
import { handlerContext, quorumServices, responseOf } from "./quorum-test-support.ts";

type Request = ReturnType<typeof beginQuorumEpochApi.request.read>;

function announcement(leaderId = 2, leaderEpoch = 6, voterId = 1, topicName = "__chronik_metadata"): Request {
  return {
    clusterId: "cluster-a",
    voterId,
    topics: [
      { topicName, partitions: [{ partitionIndex: 0, voterDirectoryId: zeroUuid, leaderId, leaderEpoch }] },
    ],
    leaderEndpoints: [],
  };
}

function ask(services: ReturnType<typeof quorumServices>, request: Request) {
  return responseOf(beginQuorumEpochHandler(services)(request, handlerContext(beginQuorumEpochApi.key, 1)));
}

function partitionOf(answer: Awaited<ReturnType<typeof ask>>) {
  return answer.topics[0]!.partitions[0]!;
}

describe("BeginQuorumEpoch handler", () => {
  it("hands the new leader's epoch to the node and answers with the epoch and leader it follows", async () => {
    const services = quorumServices();
    services.quorum.rpc.leaderEpoch = { errorName: "NONE", epoch: 6, leaderId: 2 };
    expect(await ask(services, announcement())).toEqual({
      errorCode: 0,
      topics: [
        {
          topicName: "__chronik_metadata",
          partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: 2, leaderEpoch: 6 }],
        },
      ],
    });
    expect(services.quorum.rpc.asked).toEqual([
      { api: "beginQuorumEpoch", request: { leaderId: 2, epoch: 6 } },
    ]);
  });

  it("answers an older epoch with FENCED_LEADER_EPOCH and the epoch the node is in", async () => {
    const services = quorumServices();
    services.quorum.rpc.leaderEpoch = { errorName: "FENCED_LEADER_EPOCH", epoch: 8, leaderId: null };
    expect(partitionOf(await ask(services, announcement(2, 6)))).toEqual({
      partitionIndex: 0,
      errorCode: ErrorCode.FENCED_LEADER_EPOCH,
      leaderId: -1,
      leaderEpoch: 8,
    });
  });

  it("refuses another cluster, another partition, another voter and a negative leader or epoch", async () => {
    const services = quorumServices();
    const foreign = await ask(services, { ...announcement(), clusterId: "cluster-b" });
    expect(foreign).toEqual({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, topics: [] });
    const elsewhere = await ask(services, announcement(2, 6, 1, "orders"));
    expect(elsewhere).toEqual({ errorCode: ErrorCode.INVALID_REQUEST, topics: [] });
    expect(partitionOf(await ask(services, announcement(2, 6, 3))).errorCode).toBe(
      ErrorCode.INVALID_VOTER_KEY,
    );
    expect(partitionOf(await ask(services, announcement(-1, 6))).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(partitionOf(await ask(services, announcement(2, -1))).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(services.quorum.rpc.asked).toEqual([]);
    // A v0 request names no voter: it decodes as -1 and is taken.
    expect(partitionOf(await ask(services, announcement(2, 6, -1))).errorCode).toBe(ErrorCode.NONE);
  });

  it("answers BROKER_NOT_AVAILABLE while the node is stopped", async () => {
    const services = quorumServices();
    services.quorum.rpc.failure = new RaftStoppedError(1, "shut down");
    expect(await ask(services, announcement())).toEqual({
      errorCode: ErrorCode.BROKER_NOT_AVAILABLE,
      topics: [],
    });
  });
});
