/**
 * What a follower asks a partition leader, over Kafka's own APIs through the
 * replication peer pool, and the answers checked before anything acts on them:
 *
 * - Fetch v12: the last version that names topics, and the first with
 *   last_fetched_epoch and the diverging-epoch answer (KIP-595); no fetch
 *   session (id 0, epoch -1: a full request every time), as Kafka's fetcher
 *   does when sessions are off.
 * - OffsetForLeaderEpoch v4: replica_id (v3+) says a follower asks; v4 is v3
 *   made flexible.
 * - ListOffsets v4, earliest: the leader's log start, for a follower whose
 *   whole log is below it (the first version with current_leader_epoch).
 *
 * An answer that refuses the whole request, names a partition twice or one
 * that was not asked, or carries an offset no log can have rejects with a
 * LeaderAnswerError, which the caller treats as a failed request.
 */
import type { PeerPool } from "../cluster/peer-pool.ts";
import { fetchApi } from "../protocol/apis/fetch.ts";
import { listOffsetsApi } from "../protocol/apis/list-offsets.ts";
import { offsetForLeaderEpochApi } from "../protocol/apis/offset-for-leader-epoch.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import type { EpochEnd } from "./truncation.ts";

export const replicationApiVersions = { fetch: 12, offsetForLeaderEpoch: 4, listOffsets: 4 } as const;

/** ListOffsets' "earliest" timestamp: the log start offset. */
const earliestTimestamp = -2n;

export class LeaderAnswerError extends Error {
  constructor(api: string, leaderId: number, detail: string) {
    super(`${api} answer from node ${leaderId}: ${detail}`);
    this.name = "LeaderAnswerError";
  }
}

export interface PartitionRef {
  topic: string;
  partition: number;
}

export interface FetchPosition extends PartitionRef {
  currentLeaderEpoch: number;
  fetchOffset: bigint;
  /** The epoch of the last record the follower holds, -1 when none. */
  lastFetchedEpoch: number;
  logStartOffset: bigint;
}

export interface FetchAnswer {
  errorCode: number;
  highWatermark: bigint;
  /** Set when the leader found the follower's log diverging: truncate, append nothing. */
  diverging: EpochEnd | null;
  records: Buffer;
}

export interface EpochQuestion extends PartitionRef {
  currentLeaderEpoch: number;
  /** The epoch whose end the follower wants: its own latest. */
  leaderEpoch: number;
}

export interface EpochAnswer extends EpochEnd {
  errorCode: number;
}

export interface OffsetAnswer {
  errorCode: number;
  offset: bigint;
}

export interface LeaderRequestOptions {
  pool: Pick<PeerPool, "send">;
  nodeId: number;
  maxWaitMs: number;
  minBytes: number;
  responseBytesMax: number;
  partitionBytesMax: number;
  requestTimeoutMs: number;
}

function keyOf(ref: PartitionRef): string {
  return `${ref.topic}\u0000${ref.partition}`;
}

/** Asked partitions grouped by topic, in the order first asked. */
function byTopic<T extends PartitionRef, P>(asked: readonly T[], shape: (ask: T) => P): Map<string, P[]> {
  const topics = new Map<string, P[]>();
  for (const ask of asked) {
    const partitions = topics.get(ask.topic) ?? [];
    partitions.push(shape(ask));
    topics.set(ask.topic, partitions);
  }
  return topics;
}

/** Places each answered partition at the index it was asked at; a duplicate or unasked one is an error. */
class AnswerSlots<A> {
  private readonly index = new Map<string, number>();
  readonly answers: Array<A | undefined>;

  constructor(
    private readonly api: string,
    private readonly leaderId: number,
    asked: readonly PartitionRef[],
  ) {
    asked.forEach((ref, position) => {
      this.index.set(keyOf(ref), position);
    });
    this.answers = new Array<A | undefined>(asked.length).fill(undefined);
  }

  fail(detail: string): never {
    throw new LeaderAnswerError(this.api, this.leaderId, detail);
  }

  place(ref: PartitionRef, answer: A): void {
    const position = this.index.get(keyOf(ref));
    if (position === undefined) this.fail(`partition ${ref.topic}-${ref.partition} was not asked for`);
    if (this.answers[position] !== undefined)
      this.fail(`partition ${ref.topic}-${ref.partition} answered twice`);
    this.answers[position] = answer;
  }
}

export class LeaderRequests {
  constructor(private readonly options: LeaderRequestOptions) {}

  /** One fetch for every position, answers in the order asked (undefined where the leader left one out). */
  async fetch(
    leaderId: number,
    positions: readonly FetchPosition[],
  ): Promise<Array<FetchAnswer | undefined>> {
    const { pool, nodeId, maxWaitMs, minBytes, responseBytesMax, partitionBytesMax } = this.options;
    const topics = byTopic(positions, (position) => ({
      partition: position.partition,
      currentLeaderEpoch: position.currentLeaderEpoch,
      fetchOffset: position.fetchOffset,
      lastFetchedEpoch: position.lastFetchedEpoch,
      logStartOffset: position.logStartOffset,
      partitionMaxBytes: partitionBytesMax,
    }));
    const response = await pool.send(
      leaderId,
      fetchApi,
      replicationApiVersions.fetch,
      {
        replicaId: nodeId,
        maxWaitMs,
        minBytes,
        maxBytes: responseBytesMax,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
        forgottenTopicsData: [],
      },
      // The leader may hold the fetch for maxWaitMs before it answers.
      { timeoutMs: maxWaitMs + this.options.requestTimeoutMs },
    );
    const slots = new AnswerSlots<FetchAnswer>("Fetch", leaderId, positions);
    if (response.errorCode !== ErrorCode.NONE)
      slots.fail(`refused the request: ${errorName(response.errorCode)}`);
    for (const topic of response.responses) {
      for (const answered of topic.partitions) {
        const ref = { topic: topic.topic, partition: answered.partitionIndex };
        const { epoch, endOffset } = answered.divergingEpoch;
        const diverging = epoch < 0 && endOffset < 0n ? null : { epoch, endOffset };
        const records = answered.records ?? Buffer.alloc(0);
        if (answered.highWatermark < -1n) slots.fail(`high watermark ${answered.highWatermark}`);
        if (diverging !== null && (diverging.endOffset < 0n || answered.errorCode !== ErrorCode.NONE)) {
          slots.fail(`diverging epoch ${epoch} ending at ${endOffset} with ${errorName(answered.errorCode)}`);
        }
        if (diverging !== null && records.length > 0) slots.fail("records along with a diverging epoch");
        slots.place(ref, {
          errorCode: answered.errorCode,
          highWatermark: answered.highWatermark,
          diverging,
          records,
        });
      }
    }
    return slots.answers;
  }

  /** Where each asked epoch ends on the leader, answers in the order asked. */
  async endOffsetsForEpochs(
    leaderId: number,
    questions: readonly EpochQuestion[],
  ): Promise<Array<EpochAnswer | undefined>> {
    const topics = byTopic(questions, (question) => ({
      partition: question.partition,
      currentLeaderEpoch: question.currentLeaderEpoch,
      leaderEpoch: question.leaderEpoch,
    }));
    const response = await this.options.pool.send(
      leaderId,
      offsetForLeaderEpochApi,
      replicationApiVersions.offsetForLeaderEpoch,
      {
        replicaId: this.options.nodeId,
        topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
      },
      { timeoutMs: this.options.requestTimeoutMs },
    );
    const slots = new AnswerSlots<EpochAnswer>("OffsetForLeaderEpoch", leaderId, questions);
    for (const topic of response.topics) {
      for (const answered of topic.partitions) {
        const { errorCode, leaderEpoch: epoch, endOffset } = answered;
        if (endOffset < -1n || epoch < -1) slots.fail(`epoch ${epoch} ending at ${endOffset}`);
        slots.place({ topic: topic.topic, partition: answered.partition }, { errorCode, epoch, endOffset });
      }
    }
    return slots.answers;
  }

  /** The leader's log start offset for one partition. */
  async logStartOffset(
    leaderId: number,
    ref: PartitionRef,
    currentLeaderEpoch: number,
  ): Promise<OffsetAnswer> {
    const response = await this.options.pool.send(
      leaderId,
      listOffsetsApi,
      replicationApiVersions.listOffsets,
      {
        replicaId: this.options.nodeId,
        isolationLevel: 0,
        topics: [
          {
            name: ref.topic,
            partitions: [{ partitionIndex: ref.partition, currentLeaderEpoch, timestamp: earliestTimestamp }],
          },
        ],
      },
      { timeoutMs: this.options.requestTimeoutMs },
    );
    const slots = new AnswerSlots<OffsetAnswer>("ListOffsets", leaderId, [ref]);
    for (const topic of response.topics) {
      for (const answered of topic.partitions) {
        const { errorCode, offset } = answered;
        if (errorCode === ErrorCode.NONE && offset < 0n) slots.fail(`log start offset ${offset}`);
        slots.place({ topic: topic.name, partition: answered.partitionIndex }, { errorCode, offset });
      }
    }
    const answer = slots.answers[0];
    return answer ?? slots.fail(`no answer for ${ref.topic}-${ref.partition}`);
  }
}
