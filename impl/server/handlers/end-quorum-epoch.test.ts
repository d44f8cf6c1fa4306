import { describe, expect, it } from "vitest";
import { RaftBusyError } from "../../cluster/raft/errors.ts";
import { endQuorumEpochApi } from "../../protocol/apis/end-quorum-epoch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { endQuorumEpochHandler } from "./end-quorum-epoch.ts";
import { handlerContext, quorumServices, responseOf } from "./quorum-test-support.ts";

type Request = ReturnType<typeof endQuorumEpochApi.request.read>;

function resignation(clusterId: string | null = "cluster-a"): Request {
  const partition = {
    partitionIndex: 0,
    leaderId: 2,
    leaderEpoch: 6,
    preferredSuccessors: [3, 1],
    preferredCandidates: [],
  };
  return {
    clusterId,
    topics: [{ topicName: "__chronik_metadata", partitions: [partition] }],
    leaderEndpoints: [],
  };
}

function ask(services: ReturnType<typeof quorumServices>, request: Request) {
  return responseOf(endQuorumEpochHandler(services)(request, handlerContext(endQuorumEpochApi.key, 0)));
}

describe("EndQuorumEpoch handler", () => {
  it("tells the node the leader resigned and answers with the epoch and leader it knows after", async () => {
    const services = quorumServices();
    services.quorum.rpc.leaderEpoch = { errorName: "NONE", epoch: 6, leaderId: null };
    expect(await ask(services, resignation())).toEqual({
      errorCode: 0,
      topics: [
        {
          topicName: "__chronik_metadata",
          partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: -1, leaderEpoch: 6 }],
        },
      ],
    });
    expect(services.quorum.rpc.asked).toEqual([
      { api: "endQuorumEpoch", request: { leaderId: 2, epoch: 6 } },
    ]);
  });

  it("refuses another cluster's resignation and answers REQUEST_TIMED_OUT when the node is busy", async () => {
    const services = quorumServices();
    const foreign = await ask(services, resignation("cluster-b"));
    expect(foreign).toEqual({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, topics: [] });
    services.quorum.rpc.failure = new RaftBusyError("effect queue full");
    expect(await ask(services, resignation())).toEqual({
      errorCode: ErrorCode.REQUEST_TIMED_OUT,
      topics: [],
    });
  });
});
