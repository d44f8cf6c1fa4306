import { describe, expect, it } from "vitest";
import { RaftStoppedError } from "../../cluster/raft/errors.ts";
import type { RaftEntry } from "../../cluster/raft/raft-log.ts";
import { decodeEntryBatches, encodeEntryBatches } from "../../metadata/raft-entry-batches.ts";
import type { fetchApi } from "../../protocol/apis/fetch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { zeroUuid } from "../../protocol/schema.ts";
import { answerMetadataReplicaFetch, isMetadataReplicaFetch } from "./metadata-replica-fetch.ts";
import { quorumServices } from "./quorum-test-support.ts";

/** The handler only watches the connection; in these tests it stays open. */
const openConnection = new Promise<void>(() => {});

type Request = ReturnType<typeof fetchApi.request.read>;
type Partition = Request["topics"][number]["partitions"][number];

const asked: Partition = {
  partition: 0,
  currentLeaderEpoch: 5,
  fetchOffset: 3n,
  lastFetchedEpoch: 4,
  logStartOffset: -1n,
  partitionMaxBytes: 1 << 20,
};

function replicaFetch(partition: Partition = asked, topics = ["__chronik_metadata"], replicaId = 2): Request {
  return {
    clusterId: "cluster-a",
    replicaId,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: topics.map((topic) => ({ topic, topicId: zeroUuid, partitions: [partition] })),
    forgottenTopicsData: [],
    rackId: "",
  };
}

function data(offset: number, epoch: number): RaftEntry {
  return { offset, epoch, kind: "data", payload: new TextEncoder().encode(`record ${offset}`) };
}

function onlyPartition(response: Awaited<ReturnType<typeof answerMetadataReplicaFetch>>) {
  expect(response.errorCode).toBe(ErrorCode.NONE);
  expect(response.responses).toHaveLength(1);
  expect(response.responses[0]!.topic).toBe("__chronik_metadata");
  return response.responses[0]!.partitions[0]!;
}

describe("metadata replica fetch", () => {
  it("is a fetch from a replica naming the metadata topic, in a version that names topics", () => {
    expect(isMetadataReplicaFetch(replicaFetch(), 12)).toBe(true);
    // A consumer asking for the metadata topic stays on the client path (which refuses it).
    expect(isMetadataReplicaFetch(replicaFetch(asked, ["__chronik_metadata"], -1), 12)).toBe(false);
    expect(isMetadataReplicaFetch(replicaFetch(asked, ["orders"]), 12)).toBe(false);
    // From v13 topics go by id, which the metadata partition has none of; from v15 the id is in replica_state.
    const v15 = { ...replicaFetch(), replicaId: -1, replicaState: { replicaId: 2, replicaEpoch: -1n } };
    expect(isMetadataReplicaFetch(v15, 15)).toBe(false);
  });

  it("hands the fetch to the node and answers with its entries as record batches", async () => {
    const services = quorumServices();
    const entries = [data(3, 4), data(4, 5)];
    services.quorum.rpc.fetch = {
      errorName: "NONE",
      epoch: 5,
      leaderId: 1,
      highWatermark: 4,
      diverging: null,
      records: entries,
    };
    const partition = onlyPartition(
      await answerMetadataReplicaFetch(services, replicaFetch(), 12, openConnection),
    );
    expect(partition).toMatchObject({
      partitionIndex: 0,
      errorCode: 0,
      highWatermark: 4n,
      divergingEpoch: { epoch: -1, endOffset: -1n },
      currentLeader: { leaderId: 1, leaderEpoch: 5 },
    });
    expect(decodeEntryBatches(partition.records as Buffer)).toEqual(entries);
    expect(services.quorum.rpc.asked).toEqual([
      {
        api: "fetch",
        request: {
          replicaId: 2,
          epoch: 5,
          fetchOffset: 3,
          lastFetchedEpoch: 4,
          maxWaitMs: 500,
          maxEntries: 10_000,
        },
      },
    ]);
  });

  it("answers a diverging epoch, and a refusal naming the leader the node knows", async () => {
    const services = quorumServices();
    services.quorum.rpc.fetch = {
      errorName: "NONE",
      epoch: 5,
      leaderId: 1,
      highWatermark: 2,
      diverging: { epoch: 3, endOffset: 2 },
      records: [],
    };
    const diverging = onlyPartition(
      await answerMetadataReplicaFetch(services, replicaFetch(), 12, openConnection),
    );
    expect(diverging).toMatchObject({
      divergingEpoch: { epoch: 3, endOffset: 2n },
      records: Buffer.alloc(0),
    });
    services.quorum.rpc.fetch = {
      ...services.quorum.rpc.fetch,
      errorName: "NOT_LEADER_OR_FOLLOWER",
      leaderId: 3,
      diverging: null,
    };
    const refused = onlyPartition(
      await answerMetadataReplicaFetch(services, replicaFetch(), 12, openConnection),
    );
    expect(refused).toMatchObject({
      errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
      currentLeader: { leaderId: 3, leaderEpoch: 5 },
    });
  });

  it("sends whole batches within the byte limits, and always the first", async () => {
    const services = quorumServices();
    // Three epochs, so three batches.
    const entries = [data(3, 4), data(4, 5), data(5, 6)];
    services.quorum.rpc.fetch = { ...services.quorum.rpc.fetch, epoch: 6, records: entries };
    const batchBytes = encodeEntryBatches([entries[0]!]).length;
    const request = { ...replicaFetch({ ...asked, currentLeaderEpoch: 6 }), maxBytes: 2 * batchBytes + 1 };
    const twoFit = onlyPartition(await answerMetadataReplicaFetch(services, request, 12, openConnection));
    expect(decodeEntryBatches(twoFit.records as Buffer)).toEqual(entries.slice(0, 2));
    const none = replicaFetch({ ...asked, currentLeaderEpoch: 6, partitionMaxBytes: 1 });
    const firstOnly = onlyPartition(await answerMetadataReplicaFetch(services, none, 12, openConnection));
    expect(decodeEntryBatches(firstOnly.records as Buffer)).toEqual(entries.slice(0, 1));
  });

  it("refuses for the partition a negative wait or offset, and a last fetched epoch missing or too new", async () => {
    const services = quorumServices();
    const refused = async (request: Request, version = 12) =>
      onlyPartition(await answerMetadataReplicaFetch(services, request, version, openConnection)).errorCode;
    expect(await refused({ ...replicaFetch(), maxWaitMs: -1 })).toBe(ErrorCode.INVALID_REQUEST);
    expect(await refused(replicaFetch({ ...asked, fetchOffset: -1n }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await refused(replicaFetch({ ...asked, lastFetchedEpoch: 6 }))).toBe(ErrorCode.INVALID_REQUEST);
    // Before v12 a fetch carries no last fetched epoch: it decodes as -1.
    expect(await refused(replicaFetch({ ...asked, lastFetchedEpoch: -1 }), 11)).toBe(
      ErrorCode.INVALID_REQUEST,
    );
    expect(services.quorum.rpc.asked).toEqual([]);
  });

  it("refuses at the top level another cluster, another partition, and a node that stopped", async () => {
    const services = quorumServices();
    const answer = (request: Request) => answerMetadataReplicaFetch(services, request, 12, openConnection);
    const empty = { throttleTimeMs: 0, sessionId: 0, responses: [] };
    expect(await answer({ ...replicaFetch(), clusterId: "cluster-b" })).toEqual({
      ...empty,
      errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID,
    });
    expect(await answer(replicaFetch({ ...asked, partition: 1 }))).toEqual({
      ...empty,
      errorCode: ErrorCode.INVALID_REQUEST,
    });
    expect(await answer(replicaFetch(asked, ["__chronik_metadata", "orders"]))).toEqual({
      ...empty,
      errorCode: ErrorCode.INVALID_REQUEST,
    });
    expect(services.quorum.rpc.asked).toEqual([]);
    services.quorum.rpc.failure = new RaftStoppedError(1, "shut down");
    expect(await answer(replicaFetch())).toEqual({ ...empty, errorCode: ErrorCode.BROKER_NOT_AVAILABLE });
  });
});
