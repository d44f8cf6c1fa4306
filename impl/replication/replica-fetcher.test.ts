/**
 * ReplicaFetchers against a scripted leader: each request goes through the
 * real codecs (encoded and decoded at the version the fetcher speaks), and
 * the test decides each answer, to reach the refusals and failures a healthy
 * leader rarely gives. The follower's log is real.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LocalPartition } from "../broker/replica-manager.ts";
import { PeerDisconnectedError } from "../cluster/peer-errors.ts";
import type { PeerPool } from "../cluster/peer-pool.ts";
import {
  type ApiDefinition,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from "../protocol/api.ts";
import { fetchApi } from "../protocol/apis/fetch.ts";
import { listOffsetsApi } from "../protocol/apis/list-offsets.ts";
import { offsetForLeaderEpochApi } from "../protocol/apis/offset-for-leader-epoch.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { Reader } from "../protocol/reader.ts";
import type { InferInput } from "../protocol/schema.ts";
import {
  capturingLogger,
  closeTestSchedulers,
  idempotentBatch,
  leaderBatch,
  produced,
  replicated,
} from "../storage/test-support.ts";
import { ReplicaFetchers } from "./replica-fetcher.ts";
import { catchUpBackoffMs, resolveReplicaFetcherSettings } from "./replica-fetcher-settings.ts";
import { hostedPartition, topicImage, topicName, withPartitions } from "./replication-test-support.ts";

afterEach(closeTestSchedulers);

type FetchRequest = ReturnType<typeof fetchApi.request.read>;
type FetchPartitionAnswer = InferInput<typeof fetchApi.response>["responses"][number]["partitions"][number];
type EpochRequest = ReturnType<typeof offsetForLeaderEpochApi.request.read>;
type EpochPartitionAnswer = InferInput<
  typeof offsetForLeaderEpochApi.response
>["topics"][number]["partitions"][number];
type Answer<T> = T | Error | Promise<T | Error>;

const conditionLimitMs = 60_000;

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + conditionLimitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Node 1 as the follower sees it: every request decoded as node 1 would, every answer as the test scripts it. */
class ScriptedLeader implements Pick<PeerPool, "send"> {
  readonly fetches: FetchRequest[] = [];
  readonly epochQuestions: EpochRequest[] = [];
  fetchAnswer: (request: FetchRequest) => Answer<FetchPartitionAnswer> = () => ({
    partitionIndex: 0,
    errorCode: ErrorCode.NONE,
    highWatermark: 0n,
    abortedTransactions: null,
    records: Buffer.alloc(0),
  });
  epochAnswer: (request: EpochRequest) => Answer<EpochPartitionAnswer> = (request) => ({
    errorCode: ErrorCode.NONE,
    partition: 0,
    leaderEpoch: request.topics[0]!.partitions[0]!.leaderEpoch,
    endOffset: 0n,
  });
  logStartOffset = 0n;

  async send<Response, RequestInput>(
    _nodeId: number,
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
  ): Promise<Response> {
    // An answer comes off a socket, in a later turn of the event loop, never within the same one.
    await new Promise((resolve) => setImmediate(resolve));
    const decoded = decodeRequest(api, version, new Reader(encodeRequest(api, version, request).toBuffer()));
    const answer = await this.answer(api.key, decoded);
    if (answer instanceof Error) throw answer;
    return decodeResponse(api, version, encodeResponse(api, version, answer).toBuffer());
  }

  // biome-ignore lint/suspicious/noExplicitAny: the answer's grammar is the API's, checked by encoding it
  private async answer(apiKey: number, request: any): Promise<any> {
    if (apiKey === fetchApi.key) {
      this.fetches.push(request);
      const partition = await this.fetchAnswer(request);
      if (partition instanceof Error) return partition;
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        responses: [{ topic: topicName, partitions: [partition] }],
      };
    }
    if (apiKey === offsetForLeaderEpochApi.key) {
      this.epochQuestions.push(request);
      const partition = await this.epochAnswer(request);
      if (partition instanceof Error) return partition;
      return { throttleTimeMs: 0, topics: [{ topic: topicName, partitions: [partition] }] };
    }
    if (apiKey === listOffsetsApi.key) {
      const partition = {
        partitionIndex: 0,
        errorCode: 0,
        timestamp: -1n,
        offset: this.logStartOffset,
        leaderEpoch: 3,
      };
      return { throttleTimeMs: 0, topics: [{ name: topicName, partitions: [partition] }] };
    }
    throw new Error(`unexpected API ${apiKey}`);
  }
}

const settings = { maxWaitMs: 0, errorBackoffMs: 1, networkBackoffMsInitial: 1, networkBackoffMsMax: 5 };

function fetchersFor(leader: ScriptedLeader, logger = capturingLogger().logger) {
  return new ReplicaFetchers({ nodeId: 2, pool: leader, logger, settings });
}

/** What the follower asked for last. */
function lastFetch(leader: ScriptedLeader) {
  return leader.fetches[leader.fetches.length - 1]!.topics[0]!.partitions[0]!;
}

/** Records from `offset` in the given epoch, one batch of three per label, as a leader stored them. */
function batches(labels: string[], offset: bigint, epoch: number) {
  return replicated(...labels.map((label, i) => leaderBatch(label, 3, offset + BigInt(3 * i), epoch)))
    .records;
}

async function followerWith(directory: string, labels: string[], epoch: number): Promise<LocalPartition> {
  const local = await hostedPartition(directory, topicImage());
  if (labels.length > 0) {
    const input = replicated(...labels.map((label, i) => leaderBatch(label, 3, BigInt(3 * i), epoch)));
    await local.log.appendAsFollower(input.records, input.batches).durable;
  }
  return local;
}

/** The leader's answer carrying batch "a" at offset 0 in epoch 3, high watermark 0. */
function firstBatch(): FetchPartitionAnswer {
  return {
    partitionIndex: 0,
    errorCode: 0,
    highWatermark: 0n,
    abortedTransactions: null,
    records: batches(["a"], 0n, 3),
  };
}

/** The leader answers with `script` in order, then with nothing new at high watermark 3. */
function answerInTurn(leader: ScriptedLeader, script: Array<Answer<FetchPartitionAnswer>>): void {
  leader.fetchAnswer = () =>
    script.shift() ?? {
      partitionIndex: 0,
      errorCode: 0,
      highWatermark: 3n,
      abortedTransactions: null,
      records: Buffer.alloc(0),
    };
}

describe("ReplicaFetchers", () => {
  it("asks where its latest epoch ends before fetching in a new epoch, then fetches from the truncation point", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, ["a", "b", "c"], 2);
      leader.epochAnswer = () => ({ errorCode: 0, partition: 0, leaderEpoch: 2, endOffset: 6n });
      const { logger, lines } = capturingLogger();
      const fetchers = fetchersFor(leader, logger);

      fetchers.follow(local, 1, 3);
      await waitFor("a fetch", () => leader.fetches.length > 0);
      await fetchers.close();

      const question = leader.epochQuestions[0]!;
      expect(question.replicaId).toBe(2);
      expect(question.topics[0]!.partitions[0]).toEqual({
        partition: 0,
        currentLeaderEpoch: 3,
        leaderEpoch: 2,
      });
      expect(local.log.logEndOffset).toBe(6n);
      expect(lastFetch(leader)).toMatchObject({
        currentLeaderEpoch: 3,
        fetchOffset: 6n,
        lastFetchedEpoch: 2,
      });
      expect(leader.fetches[0]).toMatchObject({ replicaId: 2, sessionId: 0, sessionEpoch: -1, minBytes: 1 });
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: "following leader",
          leader: 1,
          leaderEpoch: 3,
          truncationOffset: "6",
        }),
      );
    }));

  it("truncates a replica with no epochs to its high watermark, without asking", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, [], 0);
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor("a fetch", () => leader.fetches.length > 0);
      await fetchers.close();

      expect(leader.epochQuestions).toEqual([]);
      expect(lastFetch(leader)).toMatchObject({ fetchOffset: 0n, lastFetchedEpoch: -1 });
    }));

  it("truncates on a diverging epoch in a fetch answer, then fetches again from there", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, ["a", "b", "c"], 2);
      leader.epochAnswer = () => ({ errorCode: 0, partition: 0, leaderEpoch: 2, endOffset: 9n });
      leader.fetchAnswer = (request) =>
        request.topics[0]!.partitions[0]!.fetchOffset === 9n
          ? {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 3n,
              divergingEpoch: { epoch: 2, endOffset: 3n },
              abortedTransactions: null,
              records: Buffer.alloc(0),
            }
          : {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 3n,
              abortedTransactions: null,
              records: Buffer.alloc(0),
            };
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor("a fetch from the truncation point", () =>
        leader.fetches.some((f) => f.topics[0]!.partitions[0]!.fetchOffset === 3n),
      );
      await fetchers.close();

      expect(local.log.logEndOffset).toBe(3n);
      expect(local.highWatermark).toBe(3n);
    }));

  it("appends what the leader sends and takes its high watermark as far as the log reaches", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, [], 0);
      const records = batches(["a", "b"], 0n, 3);
      leader.fetchAnswer = (request) =>
        request.topics[0]!.partitions[0]!.fetchOffset === 0n
          ? { partitionIndex: 0, errorCode: 0, highWatermark: 20n, abortedTransactions: null, records }
          : {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 20n,
              abortedTransactions: null,
              records: Buffer.alloc(0),
            };
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor("the next fetch", () =>
        leader.fetches.some((f) => f.topics[0]!.partitions[0]!.fetchOffset === 6n),
      );
      await fetchers.close();

      expect(local.log.durableEndOffset).toBe(6n);
      expect(local.highWatermark).toBe(6n);
      expect(local.log.leaderEpochs).toEqual([{ epoch: 3, startOffset: 0n }]);
      expect(lastFetch(leader).lastFetchedEpoch).toBe(3);
    }));

  it.each([
    ["NOT_LEADER_OR_FOLLOWER", ErrorCode.NOT_LEADER_OR_FOLLOWER],
    ["FENCED_LEADER_EPOCH", ErrorCode.FENCED_LEADER_EPOCH],
  ])("stops on %s until follow is called again", (_, errorCode) =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, [], 0);
      let refuse = true;
      leader.fetchAnswer = () => ({
        partitionIndex: 0,
        errorCode: refuse ? errorCode : 0,
        highWatermark: -1n,
        abortedTransactions: null,
        records: Buffer.alloc(0),
      });
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor("the partition to stop", () => fetchers.phaseOf(local) === "stopped");
      const fetchesWhenStopped = leader.fetches.length;
      // New metadata restarts it.
      refuse = false;
      fetchers.follow(local, 1, 4);
      await waitFor("fetching in the new epoch", () => leader.fetches.length > fetchesWhenStopped);
      await fetchers.close();

      expect(fetchesWhenStopped).toBe(1);
      expect(lastFetch(leader).currentLeaderEpoch).toBe(4);
    }),
  );

  it("retries after UNKNOWN_LEADER_EPOCH and after a lost connection, without stopping", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, [], 0);
      const script: Array<Answer<FetchPartitionAnswer>> = [
        {
          partitionIndex: 0,
          errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH,
          highWatermark: -1n,
          abortedTransactions: null,
          records: Buffer.alloc(0),
        },
        new PeerDisconnectedError({ nodeId: 1, host: "127.0.0.1", port: 1 }, "connection reset", true),
        firstBatch(),
      ];
      answerInTurn(leader, script);
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor("the batch", () => local.log.logEndOffset === 3n);
      await fetchers.close();

      expect(fetchers.phaseOf(local)).toBe("fetching");
      expect(leader.fetches.length).toBeGreaterThanOrEqual(3);
    }));

  it("asks again within milliseconds while the leader has not applied the topic yet, not after replica.fetch.backoff.ms", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, [], 0);
      const unknown = (errorCode: number): FetchPartitionAnswer => ({
        partitionIndex: 0,
        errorCode,
        highWatermark: -1n,
        abortedTransactions: null,
        records: Buffer.alloc(0),
      });
      const script: Array<Answer<FetchPartitionAnswer>> = [
        unknown(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        unknown(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        unknown(ErrorCode.UNKNOWN_LEADER_EPOCH),
        firstBatch(),
      ];
      answerInTurn(leader, script);
      // A full backoff of a minute would outlast the test: only the catch-up pauses (1, 2, 4 ms) may apply.
      const fetchers = new ReplicaFetchers({
        nodeId: 2,
        pool: leader,
        logger: capturingLogger().logger,
        settings: { ...settings, errorBackoffMs: 60_000, catchUpBackoffMsInitial: 1 },
      });

      fetchers.follow(local, 1, 3);
      await waitFor("the batch", () => local.log.logEndOffset === 3n);
      await fetchers.close();

      expect(script).toHaveLength(0);
      expect(fetchers.phaseOf(local)).toBe("fetching");
    }));

  it("backs off from a leader that stays behind by doubling pauses up to replica.fetch.backoff.ms", () => {
    const resolved = resolveReplicaFetcherSettings({ catchUpBackoffMsInitial: 10, errorBackoffMs: 1000 });
    expect([1, 2, 3, 4, 7, 8, 50].map((refusals) => catchUpBackoffMs(resolved, refusals))).toEqual([
      10, 20, 40, 80, 640, 1000, 1000,
    ]);
  });

  it("stops, logging an error, when the leader sends batches that do not continue the log", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, [], 0);
      leader.fetchAnswer = () => ({
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 0n,
        abortedTransactions: null,
        records: batches(["a"], 7n, 3),
      });
      const { logger, lines } = capturingLogger();
      const fetchers = fetchersFor(leader, logger);

      fetchers.follow(local, 1, 3);
      await waitFor("the partition to stop", () => fetchers.phaseOf(local) === "stopped");
      await fetchers.close();

      expect(local.log.logEndOffset).toBe(0n);
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 50, msg: "stopped following: replication failed" }),
      );
    }));

  it("on OFFSET_OUT_OF_RANGE starts over at the leader's log start when it lies past this log's end", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, ["a"], 3);
      leader.epochAnswer = (request) => ({
        errorCode: 0,
        partition: 0,
        leaderEpoch: 3,
        endOffset: request.topics[0]!.partitions[0]!.leaderEpoch === 3 ? 500n : 3n,
      });
      leader.logStartOffset = 300n;
      leader.fetchAnswer = (request) =>
        request.topics[0]!.partitions[0]!.fetchOffset < 300n
          ? {
              partitionIndex: 0,
              errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
              highWatermark: -1n,
              abortedTransactions: null,
              records: Buffer.alloc(0),
            }
          : {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 400n,
              abortedTransactions: null,
              records: Buffer.alloc(0),
            };
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor(
        "a fetch from the leader's log start",
        () => leader.fetches.length > 0 && lastFetch(leader).fetchOffset === 300n,
      );
      await fetchers.close();

      expect(local.log.logStartOffset).toBe(300n);
      expect(local.log.logEndOffset).toBe(300n);
      expect(local.highWatermark).toBe(300n);
    }));

  it("on OFFSET_OUT_OF_RANGE truncates to the leader's end when its log is the shorter one", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, ["a", "b", "c"], 3);
      // Asked first, before fetching, the leader's log still matched; by the out-of-range answer it ends at 4.
      let questions = 0;
      leader.epochAnswer = () => ({
        errorCode: 0,
        partition: 0,
        leaderEpoch: 3,
        endOffset: ++questions === 1 ? 9n : 4n,
      });
      leader.fetchAnswer = (request) =>
        request.topics[0]!.partitions[0]!.fetchOffset > 4n
          ? {
              partitionIndex: 0,
              errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
              highWatermark: -1n,
              abortedTransactions: null,
              records: Buffer.alloc(0),
            }
          : {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 3n,
              abortedTransactions: null,
              records: Buffer.alloc(0),
            };
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor(
        "a fetch in range",
        () => leader.fetches.length > 0 && lastFetch(leader).fetchOffset === 3n,
      );
      await fetchers.close();

      // The batch holding offset 4 goes whole: the log ends at 3.
      expect(local.log.logEndOffset).toBe(3n);
    }));

  it("drops an answer to a fetch made before stopFollowing, even when following resumes", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, [], 0);
      let release: (answer: FetchPartitionAnswer) => void = () => undefined;
      leader.fetchAnswer = () => new Promise((resolve) => (release = resolve));
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor("a fetch in flight", () => leader.fetches.length === 1);
      await fetchers.stopFollowing(local);
      expect(fetchers.phaseOf(local)).toBeUndefined();
      fetchers.follow(local, 1, 4);
      release({
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 3n,
        abortedTransactions: null,
        records: batches(["a"], 0n, 3),
      });
      // The session answers one fetch at a time: the next one is made once the first answer was dealt with.
      await waitFor("a fetch in the new epoch", () => leader.fetches.length === 2);
      await fetchers.close();

      expect(lastFetch(leader)).toMatchObject({ currentLeaderEpoch: 4, fetchOffset: 0n });
      expect(local.log.logEndOffset).toBe(0n);
      expect(local.highWatermark).toBe(0n);
    }));

  it("keeps the producer state of what it replicates, and after truncating, the state as of the truncation point", () =>
    withPartitions(async (directory) => {
      const leader = new ScriptedLeader();
      const local = await followerWith(directory, [], 0);
      const stamp = (baseSequence: number) => ({ producerId: 9n, producerEpoch: 0, baseSequence });
      const idempotent = (label: string, sequence: number, offset: bigint, epoch: number) =>
        idempotentBatch(label, 3, stamp(sequence), { baseOffset: offset, epoch });
      const answer = (records: Buffer, divergingEpoch?: { epoch: number; endOffset: bigint }) => ({
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 0n,
        abortedTransactions: null,
        records,
        ...(divergingEpoch === undefined ? {} : { divergingEpoch }),
      });
      leader.fetchAnswer = (request) => {
        const partition = request.topics[0]!.partitions[0]!;
        // Epoch 2 led by another node: three batches, of which the new leader (epoch 3) kept only the first.
        if (partition.fetchOffset === 0n) {
          return answer(
            replicated(idempotent("a", 0, 0n, 2), idempotent("b", 3, 3n, 2), idempotent("c", 6, 6n, 2))
              .records,
          );
        }
        if (partition.fetchOffset === 9n) return answer(Buffer.alloc(0), { epoch: 2, endOffset: 3n });
        // The producer's retry of "b" landed on the new leader, after "a".
        if (partition.fetchOffset === 3n) return answer(replicated(idempotent("b", 3, 3n, 3)).records);
        return answer(Buffer.alloc(0));
      };
      const fetchers = fetchersFor(leader);

      fetchers.follow(local, 1, 3);
      await waitFor("a fetch after the new leader's batch", () =>
        leader.fetches.some((f) => f.topics[0]!.partitions[0]!.fetchOffset === 6n),
      );
      await fetchers.close();

      expect(local.log.producerState(9n)?.batches).toEqual([
        { firstSequence: 0, lastSequence: 2, firstOffset: 0n, lastOffset: 2n },
        { firstSequence: 3, lastSequence: 5, firstOffset: 3n, lastOffset: 5n },
      ]);
      // Leading next, it answers a retry of "b" from its own state, and takes "c" as new.
      const retry = produced(idempotentBatch("b", 3, stamp(3))).batches;
      expect(local.log.checkProducedBatches(retry)).toEqual({
        kind: "duplicate",
        firstOffset: 3n,
        lastOffset: 5n,
      });
      const next = produced(idempotentBatch("c", 3, stamp(6))).batches;
      expect(local.log.checkProducedBatches(next)).toEqual({ kind: "append" });
    }));

  it("refuses to follow itself or a negative leader", () =>
    withPartitions(async (directory) => {
      const local = await followerWith(directory, [], 0);
      const fetchers = fetchersFor(new ScriptedLeader());

      expect(() => fetchers.follow(local, 2, 3)).toThrow(RangeError);
      expect(() => fetchers.follow(local, -1, 3)).toThrow(RangeError);
      await fetchers.close();
    }));
});
