import { describe, expect, it } from "vitest";
import { RaftBusyError, RaftStoppedError } from "../../cluster/raft/errors.ts";
import { voteApi } from "../../protocol/apis/vote.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { zeroUuid } from "../../protocol/schema.ts";
import { handlerContext, quorumServices, responseOf } from "./quorum-test-support.ts";
import { voteHandler } from "./vote.ts";

const candidate = {
  partitionIndex: 0,
  candidateEpoch: 6,
  candidateId: 2,
  candidateDirectoryId: zeroUuid,
  voterDirectoryId: zeroUuid,
  lastOffsetEpoch: 5,
  lastOffset: 40n,
  preVote: true,
};

type Request = ReturnType<typeof voteApi.request.read>;

function voteRequest(partition = candidate, topicName = "__chronik_metadata"): Request {
  return { clusterId: "cluster-a", voterId: 1, topics: [{ topicName, partitions: [partition] }] };
}

function ask(services: ReturnType<typeof quorumServices>, request: Request) {
  return responseOf(voteHandler(services)(request, handlerContext(voteApi.key, 2)));
}

describe("Vote handler", () => {
  it("hands the candidate's request to the node and answers with its vote", async () => {
    const services = quorumServices();
    services.quorum.rpc.vote = { voterId: 1, epoch: 5, granted: true, leaderId: null };
    expect(await ask(services, voteRequest())).toEqual({
      errorCode: 0,
      topics: [
        {
          topicName: "__chronik_metadata",
          partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: -1, leaderEpoch: 5, voteGranted: true }],
        },
      ],
    });
    expect(services.quorum.rpc.asked).toEqual([
      { api: "vote", request: { candidateId: 2, epoch: 6, lastEpoch: 5, endOffset: 40, preVote: true } },
    ]);
  });

  it("refuses another cluster's request, and takes one that names no cluster", async () => {
    const services = quorumServices();
    const foreign = await ask(services, { ...voteRequest(), clusterId: "cluster-b" });
    expect(foreign).toEqual({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, topics: [] });
    expect(services.quorum.rpc.asked).toEqual([]);
    const unnamed = await ask(services, { ...voteRequest(), clusterId: null });
    expect(unnamed.errorCode).toBe(ErrorCode.NONE);
  });

  it("refuses at the top level a request not for exactly __chronik_metadata-0", async () => {
    const services = quorumServices();
    for (const request of [
      voteRequest(candidate, "orders"),
      voteRequest({ ...candidate, partitionIndex: 1 }),
      { ...voteRequest(), topics: [] },
      { ...voteRequest(), topics: [...voteRequest().topics, ...voteRequest().topics] },
    ]) {
      expect(await ask(services, request)).toEqual({ errorCode: ErrorCode.INVALID_REQUEST, topics: [] });
    }
    expect(services.quorum.rpc.asked).toEqual([]);
  });

  it("refuses a vote meant for another voter, or with a negative epoch or offset", async () => {
    const services = quorumServices();
    const errorOf = async (request: Request) =>
      (await ask(services, request)).topics[0]!.partitions[0]!.errorCode;
    expect(await errorOf({ ...voteRequest(), voterId: 3 })).toBe(ErrorCode.INVALID_VOTER_KEY);
    expect(await errorOf(voteRequest({ ...candidate, lastOffset: -1n }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await errorOf(voteRequest({ ...candidate, lastOffset: 2n ** 60n }))).toBe(
      ErrorCode.INVALID_REQUEST,
    );
    expect(await errorOf(voteRequest({ ...candidate, candidateEpoch: -1 }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await errorOf(voteRequest({ ...candidate, lastOffsetEpoch: -1 }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(services.quorum.rpc.asked).toEqual([]);
  });

  it("answers REQUEST_TIMED_OUT for a busy node and BROKER_NOT_AVAILABLE for a stopped one", async () => {
    const services = quorumServices();
    services.quorum.rpc.failure = new RaftBusyError("effect queue full");
    expect(await ask(services, voteRequest())).toEqual({
      errorCode: ErrorCode.REQUEST_TIMED_OUT,
      topics: [],
    });
    services.quorum.rpc.failure = new RaftStoppedError(1, "shut down");
    expect(await ask(services, voteRequest())).toEqual({
      errorCode: ErrorCode.BROKER_NOT_AVAILABLE,
      topics: [],
    });
  });

  it("lets any other failure through, so the connection closes rather than answering wrongly", async () => {
    const services = quorumServices();
    services.quorum.rpc.failure = new Error("invariant broken");
    await expect(ask(services, voteRequest())).rejects.toThrow("invariant broken");
  });
});
