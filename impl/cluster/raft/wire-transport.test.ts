import { describe, expect, it } from "vitest";
import { encodeEntryBatches, InvalidEntryBatchError } from "../../metadata/raft-entry-batches.ts";
import {
  type ApiDefinition,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from "../../protocol/api.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { Reader } from "../../protocol/reader.ts";
import { zeroUuid } from "../../protocol/schema.ts";
import type { SendOptions } from "../peer-client.ts";
import { PeerDisconnectedError } from "../peer-errors.ts";
import type { RaftEntry } from "./raft-log.ts";
import type { FetchRequest } from "./raft-transport.ts";
import { WireRaftTransport } from "./wire-transport.ts";
import { QuorumResponseError } from "./wire-transport-responses.ts";

const topicName = "__chronik_metadata";

interface Sent {
  nodeId: number;
  api: string;
  version: number;
  /** The request as the peer decodes it. */
  request: Record<string, unknown>;
  timeoutMs: number;
}

/**
 * The peer pool as the transport sees it: each request goes through its
 * bytes to the scripted peer, and the peer's answer through its bytes back,
 * as over a connection.
 */
class ScriptedPeers {
  sent: Sent[] = [];
  answer: (sent: Sent) => unknown = () => {
    throw new Error("no answer scripted");
  };
  failure: Error | null = null;

  send<Response, RequestInput>(
    nodeId: number,
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
    options: SendOptions,
  ): Promise<Response> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const onWire = encodeRequest(api, version, request).toBuffer();
    const received = decodeRequest(api, version, new Reader(onWire)) as Record<string, unknown>;
    const sent = { nodeId, api: api.name, version, request: received, timeoutMs: options.timeoutMs };
    this.sent.push(sent);
    const answer = encodeResponse(api, version, this.answer(sent)).toBuffer();
    return Promise.resolve(decodeResponse(api, version, answer));
  }
}

function transportOf(peers: ScriptedPeers): WireRaftTransport {
  return new WireRaftTransport({ pool: peers, clusterId: "cluster-a", nodeId: 1, requestTimeoutMs: 500 });
}

function quorumTopics<P>(partitions: P[], name = topicName) {
  return [{ topicName: name, partitions }];
}

const voteRequest = { candidateId: 1, epoch: 5, lastEpoch: 4, endOffset: 120, preVote: true };
const granted = { partitionIndex: 0, errorCode: 0, leaderId: -1, leaderEpoch: 4, voteGranted: true };

const fetchRequest: FetchRequest = {
  replicaId: 1,
  epoch: 3,
  fetchOffset: 10,
  lastFetchedEpoch: 2,
  maxWaitMs: 200,
  maxEntries: 100,
};

function entries(from: number, epochs: number[]): RaftEntry[] {
  return epochs.map((epoch, i) => ({
    offset: from + i,
    epoch,
    kind: "data",
    payload: new TextEncoder().encode(`r${from + i}`),
  }));
}

function fetchAnswer(partition: Record<string, unknown>, topic = topicName) {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic,
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            highWatermark: 12n,
            currentLeader: { leaderId: 2, leaderEpoch: 3 },
            abortedTransactions: null,
            records: Buffer.alloc(0),
            ...partition,
          },
        ],
      },
    ],
  };
}

describe("WireRaftTransport: Vote", () => {
  it("asks for a pre-vote with Vote v2 about __chronik_metadata-0 and reads the grant", async () => {
    const peers = new ScriptedPeers();
    peers.answer = () => ({ errorCode: 0, topics: quorumTopics([granted]) });
    const answer = await transportOf(peers).vote(2, voteRequest);
    expect(answer).toEqual({ voterId: 2, epoch: 4, granted: true, leaderId: null });
    expect(peers.sent).toEqual([
      {
        nodeId: 2,
        api: "Vote",
        version: 2,
        timeoutMs: 500,
        request: {
          clusterId: "cluster-a",
          voterId: 2,
          topics: quorumTopics([
            {
              partitionIndex: 0,
              candidateEpoch: 5,
              candidateId: 1,
              candidateDirectoryId: zeroUuid,
              voterDirectoryId: zeroUuid,
              lastOffsetEpoch: 4,
              lastOffset: 120n,
              preVote: true,
            },
          ]),
        },
      },
    ]);
  });

  it("takes FENCED_LEADER_EPOCH as a refusal from a voter in a newer epoch", async () => {
    const peers = new ScriptedPeers();
    const fenced = { ...granted, errorCode: ErrorCode.FENCED_LEADER_EPOCH, leaderId: 3, leaderEpoch: 7 };
    peers.answer = () => ({ errorCode: 0, topics: quorumTopics([{ ...fenced, voteGranted: false }]) });
    expect(await transportOf(peers).vote(2, voteRequest)).toEqual({
      voterId: 2,
      epoch: 7,
      granted: false,
      leaderId: 3,
    });
  });

  it.each([
    [
      "a top-level error",
      { errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, topics: [] },
      /INCONSISTENT_CLUSTER_ID/,
    ],
    ["another topic", { errorCode: 0, topics: quorumTopics([granted], "orders") }, /topic "orders"/],
    [
      "another partition",
      { errorCode: 0, topics: quorumTopics([{ ...granted, partitionIndex: 1 }]) },
      /partition 1/,
    ],
    ["two partitions", { errorCode: 0, topics: quorumTopics([granted, granted]) }, /2 partitions/],
    ["no topic", { errorCode: 0, topics: [] }, /0 topics/],
    [
      "an error the runtime has no name for",
      { errorCode: 0, topics: quorumTopics([{ ...granted, errorCode: ErrorCode.INVALID_VOTER_KEY }]) },
      /INVALID_VOTER_KEY/,
    ],
    [
      "a vote granted with an error",
      { errorCode: 0, topics: quorumTopics([{ ...granted, errorCode: ErrorCode.FENCED_LEADER_EPOCH }]) },
      /granted with FENCED_LEADER_EPOCH/,
    ],
    [
      "a negative epoch",
      { errorCode: 0, topics: quorumTopics([{ ...granted, leaderEpoch: -1 }]) },
      /epoch -1/,
    ],
    [
      "a leader id below -1",
      { errorCode: 0, topics: quorumTopics([{ ...granted, leaderId: -7 }]) },
      /leader id -7/,
    ],
  ])("rejects an answer with %s", async (_, answer, message) => {
    const peers = new ScriptedPeers();
    peers.answer = () => answer;
    const sent = transportOf(peers).vote(2, voteRequest);
    await expect(sent).rejects.toBeInstanceOf(QuorumResponseError);
    await expect(sent).rejects.toThrow(message);
  });

  it("rejects with the peer's error when the network fails", async () => {
    const peers = new ScriptedPeers();
    peers.failure = new PeerDisconnectedError(
      { nodeId: 2, host: "127.0.0.1", port: 1 },
      "connection reset",
      true,
    );
    await expect(transportOf(peers).vote(2, voteRequest)).rejects.toBe(peers.failure);
  });

  it("refuses a request that does not come from this node, or goes to it", async () => {
    const transport = transportOf(new ScriptedPeers());
    await expect(transport.vote(2, { ...voteRequest, candidateId: 3 })).rejects.toThrow(RangeError);
    await expect(transport.vote(1, voteRequest)).rejects.toThrow(/to itself/);
  });
});

describe("WireRaftTransport: BeginQuorumEpoch and EndQuorumEpoch", () => {
  it("announces an epoch with BeginQuorumEpoch v0 and reads the voter's epoch", async () => {
    const peers = new ScriptedPeers();
    const partition = { partitionIndex: 0, errorCode: 0, leaderId: 1, leaderEpoch: 6 };
    peers.answer = () => ({ errorCode: 0, topics: quorumTopics([partition]) });
    const answer = await transportOf(peers).beginQuorumEpoch(3, { leaderId: 1, epoch: 6 });
    expect(answer).toEqual({ errorName: "NONE", epoch: 6, leaderId: 1 });
    expect(peers.sent[0]).toMatchObject({ nodeId: 3, api: "BeginQuorumEpoch", version: 0, timeoutMs: 500 });
    expect(peers.sent[0]!.request).toMatchObject({
      clusterId: "cluster-a",
      topics: quorumTopics([{ partitionIndex: 0, leaderId: 1, leaderEpoch: 6 }]),
    });
  });

  it("gives up an epoch with EndQuorumEpoch v0, and reads FENCED_LEADER_EPOCH by name", async () => {
    const peers = new ScriptedPeers();
    const fenced = {
      partitionIndex: 0,
      errorCode: ErrorCode.FENCED_LEADER_EPOCH,
      leaderId: 2,
      leaderEpoch: 9,
    };
    peers.answer = () => ({ errorCode: 0, topics: quorumTopics([fenced]) });
    const answer = await transportOf(peers).endQuorumEpoch(3, { leaderId: 1, epoch: 6 });
    expect(answer).toEqual({ errorName: "FENCED_LEADER_EPOCH", epoch: 9, leaderId: 2 });
    expect(peers.sent[0]).toMatchObject({ api: "EndQuorumEpoch", version: 0 });
    expect(peers.sent[0]!.request).toMatchObject({
      topics: quorumTopics([{ partitionIndex: 0, leaderId: 1, leaderEpoch: 6, preferredSuccessors: [] }]),
    });
  });

  it("rejects an error code the runtime has no name for", async () => {
    const peers = new ScriptedPeers();
    const partition = {
      partitionIndex: 0,
      errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
      leaderId: 2,
      leaderEpoch: 9,
    };
    peers.answer = () => ({ errorCode: 0, topics: quorumTopics([partition]) });
    await expect(transportOf(peers).beginQuorumEpoch(3, { leaderId: 1, epoch: 6 })).rejects.toThrow(
      /BeginQuorumEpoch answer from node 3: error NOT_LEADER_OR_FOLLOWER/,
    );
  });
});

describe("WireRaftTransport: Fetch", () => {
  it("fetches with Fetch v12 as a replica, waiting the leader's long poll on top of the timeout", async () => {
    const peers = new ScriptedPeers();
    const fetched = entries(10, [2, 3, 3]);
    peers.answer = () => fetchAnswer({ records: encodeEntryBatches(fetched) });
    const answer = await transportOf(peers).fetch(2, fetchRequest);
    expect(answer).toEqual({
      errorName: "NONE",
      epoch: 3,
      leaderId: 2,
      highWatermark: 12,
      diverging: null,
      records: fetched,
    });
    const sent = peers.sent[0]!;
    expect(sent).toMatchObject({ nodeId: 2, api: "Fetch", version: 12, timeoutMs: 700 });
    expect(sent.request).toMatchObject({
      clusterId: "cluster-a",
      replicaId: 1,
      maxWaitMs: 200,
      topics: [
        {
          topic: topicName,
          partitions: [{ partition: 0, currentLeaderEpoch: 3, fetchOffset: 10n, lastFetchedEpoch: 2 }],
        },
      ],
    });
  });

  it("reads a diverging epoch, a refusal naming the leader, and an unknown high watermark", async () => {
    const peers = new ScriptedPeers();
    peers.answer = () => fetchAnswer({ divergingEpoch: { epoch: 2, endOffset: 8n } });
    expect(await transportOf(peers).fetch(2, fetchRequest)).toMatchObject({
      errorName: "NONE",
      diverging: { epoch: 2, endOffset: 8 },
      records: [],
    });
    peers.answer = () =>
      fetchAnswer({
        errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
        highWatermark: -1n,
        currentLeader: { leaderId: 3, leaderEpoch: 4 },
      });
    expect(await transportOf(peers).fetch(2, fetchRequest)).toEqual({
      errorName: "NOT_LEADER_OR_FOLLOWER",
      epoch: 4,
      leaderId: 3,
      highWatermark: 0,
      diverging: null,
      records: [],
    });
  });

  it("keeps no more entries than the fetch asked for", async () => {
    const peers = new ScriptedPeers();
    peers.answer = () => fetchAnswer({ records: encodeEntryBatches(entries(10, [3, 3, 3, 3])) });
    const answer = await transportOf(peers).fetch(2, { ...fetchRequest, maxEntries: 2 });
    expect(answer.records.map((entry) => entry.offset)).toEqual([10, 11]);
  });

  it.each([
    ["entries from another offset", { records: encodeEntryBatches(entries(11, [3])) }, /from offset 11/],
    [
      "entries older than the fetcher's last epoch",
      { records: encodeEntryBatches(entries(10, [1])) },
      /epochs 1..1/,
    ],
    [
      "entries newer than the leader's epoch",
      { records: encodeEntryBatches(entries(10, [4])) },
      /epochs 4..4/,
    ],
    [
      "entries with an error",
      { errorCode: ErrorCode.FENCED_LEADER_EPOCH, records: encodeEntryBatches(entries(10, [3])) },
      /entries with FENCED_LEADER_EPOCH/,
    ],
    [
      "entries with a diverging epoch",
      { divergingEpoch: { epoch: 2, endOffset: 8n }, records: encodeEntryBatches(entries(10, [3])) },
      /entries with a diverging epoch/,
    ],
    ["no error and no leader", { currentLeader: { leaderId: -1, leaderEpoch: 3 } }, /names no leader/],
    [
      "no current leader epoch",
      { currentLeader: { leaderId: 2, leaderEpoch: -1 } },
      /current leader epoch -1/,
    ],
    ["a snapshot to fetch", { snapshotId: { endOffset: 5n, epoch: 2 } }, /snapshot/],
    ["a high watermark below -1", { highWatermark: -2n }, /high watermark -2/],
    [
      "an error the runtime has no name for",
      { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
      /OFFSET_OUT_OF_RANGE/,
    ],
  ])("rejects an answer with %s", async (_, partition, message) => {
    const peers = new ScriptedPeers();
    peers.answer = () => fetchAnswer(partition);
    await expect(transportOf(peers).fetch(2, fetchRequest)).rejects.toThrow(message);
  });

  it("rejects damaged entries, keeping why as the cause", async () => {
    const peers = new ScriptedPeers();
    const records = encodeEntryBatches(entries(10, [3]));
    records[records.length - 1]! ^= 0xff;
    peers.answer = () => fetchAnswer({ records });
    const refusal = await transportOf(peers)
      .fetch(2, fetchRequest)
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(QuorumResponseError);
    expect((refusal as Error).cause).toBeInstanceOf(InvalidEntryBatchError);
  });

  it("rejects an answer about another topic or more than it asked", async () => {
    const peers = new ScriptedPeers();
    peers.answer = () => fetchAnswer({}, "orders");
    await expect(transportOf(peers).fetch(2, fetchRequest)).rejects.toThrow(/topic "orders"/);
    peers.answer = () => {
      const answer = fetchAnswer({});
      return { ...answer, responses: [...answer.responses, ...answer.responses] };
    };
    await expect(transportOf(peers).fetch(2, fetchRequest)).rejects.toThrow(/2 topics/);
  });
});

describe("WireRaftTransport: settings", () => {
  it("refuses a timeout or a byte limit that is not a positive int32", () => {
    const base = { pool: new ScriptedPeers(), clusterId: "c", nodeId: 1 };
    expect(() => new WireRaftTransport({ ...base, requestTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new WireRaftTransport({ ...base, fetchBytesMax: 2 ** 31 })).toThrow(RangeError);
  });
});
