/**
 * The quorum's answers as they come off the wire, turned into the plain data
 * of raft-transport.ts only after every field was checked. An answer that
 * breaks the protocol (another topic or partition, more than one, an epoch
 * below zero, entries that do not continue the fetch) or carries an error
 * code the runtime has no name for rejects with a QuorumResponseError: the
 * RaftNode takes a rejection as a lost message, so a bad peer can delay the
 * quorum but never feed the machine something it would trust.
 */
import { metadataTopicName } from "../../metadata/internal-topics.ts";
import { decodeEntryBatches, InvalidEntryBatchError } from "../../metadata/raft-entry-batches.ts";
import type { beginQuorumEpochApi } from "../../protocol/apis/begin-quorum-epoch.ts";
import type { fetchApi } from "../../protocol/apis/fetch.ts";
import type { voteApi } from "../../protocol/apis/vote.ts";
import { ErrorCode, errorName } from "../../protocol/error-codes.ts";
import type { Infer } from "../../protocol/schema.ts";
import type { RaftEntry } from "./raft-log.ts";
import type {
  FetchErrorName,
  FetchRequest,
  FetchResponse,
  LeaderEpochErrorName,
  LeaderEpochResponse,
  VoteResponse,
} from "./raft-transport.ts";

type VoteAnswer = Infer<typeof voteApi.response>;
/** BeginQuorumEpoch and EndQuorumEpoch answer in the same shape. */
type LeaderEpochAnswer = Infer<typeof beginQuorumEpochApi.response>;
type FetchAnswer = Infer<typeof fetchApi.response>;

/** A peer's answer that the runtime cannot use: refused, malformed, or of an error it has no name for. */
export class QuorumResponseError extends Error {
  constructor(
    readonly api: string,
    readonly nodeId: number,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${api} answer from node ${nodeId}: ${detail}`, options);
    this.name = "QuorumResponseError";
  }
}

/** Checks one answer of `api` from `nodeId`, throwing a QuorumResponseError that names both. */
class AnswerCheck {
  constructor(
    readonly api: string,
    readonly nodeId: number,
  ) {}

  fail(detail: string, options?: ErrorOptions): never {
    throw new QuorumResponseError(this.api, this.nodeId, detail, options);
  }

  topLevel(errorCode: number): void {
    if (errorCode !== ErrorCode.NONE) this.fail(`refused the request: ${errorName(errorCode)}`);
  }

  /** The one partition of an answer about exactly `__chronik_metadata` partition 0, as asked. */
  metadataPartition<P extends { partitionIndex: number }>(topics: { name: string; partitions: P[] }[]): P {
    if (topics.length !== 1) this.fail(`${topics.length} topics where one was asked`);
    const topic = topics[0]!;
    if (topic.name !== metadataTopicName) this.fail(`an answer for topic "${topic.name}"`);
    if (topic.partitions.length !== 1) this.fail(`${topic.partitions.length} partitions where one was asked`);
    const partition = topic.partitions[0]!;
    if (partition.partitionIndex !== 0) this.fail(`an answer for partition ${partition.partitionIndex}`);
    return partition;
  }

  errorNamed<Name extends string>(errorCode: number, known: readonly Name[]): Name {
    const name = errorName(errorCode);
    if (!(known as readonly string[]).includes(name)) this.fail(`error ${name}`);
    return name as Name;
  }

  epoch(value: number, what: string): number {
    if (!Number.isInteger(value) || value < 0) this.fail(`${what} ${value}`);
    return value;
  }

  /** -1 is Kafka's "no leader known". */
  leader(value: number): number | null {
    if (value === -1) return null;
    if (!Number.isInteger(value) || value < 0) this.fail(`leader id ${value}`);
    return value;
  }

  offset(value: bigint, what: string): number {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${value}`);
    return Number(value);
  }
}

const leaderEpochErrorNames: readonly LeaderEpochErrorName[] = ["NONE", "FENCED_LEADER_EPOCH"];
const fetchErrorNames: readonly FetchErrorName[] = [
  "NONE",
  "FENCED_LEADER_EPOCH",
  "NOT_LEADER_OR_FOLLOWER",
  "UNKNOWN_LEADER_EPOCH",
];

export function readVoteAnswer(from: number, answer: VoteAnswer): VoteResponse {
  const check = new AnswerCheck("Vote", from);
  check.topLevel(answer.errorCode);
  const partition = check.metadataPartition(
    answer.topics.map((topic) => ({ name: topic.topicName, partitions: topic.partitions })),
  );
  // A voter in a newer epoch refuses with FENCED_LEADER_EPOCH (Kafka does); its epoch says which.
  const error = check.errorNamed(partition.errorCode, leaderEpochErrorNames);
  if (error !== "NONE" && partition.voteGranted) check.fail(`a vote granted with ${error}`);
  return {
    voterId: from,
    epoch: check.epoch(partition.leaderEpoch, "epoch"),
    granted: partition.voteGranted,
    leaderId: check.leader(partition.leaderId),
  };
}

export function readLeaderEpochAnswer(
  api: string,
  from: number,
  answer: LeaderEpochAnswer,
): LeaderEpochResponse {
  const check = new AnswerCheck(api, from);
  check.topLevel(answer.errorCode);
  const partition = check.metadataPartition(
    answer.topics.map((topic) => ({ name: topic.topicName, partitions: topic.partitions })),
  );
  return {
    errorName: check.errorNamed(partition.errorCode, leaderEpochErrorNames),
    epoch: check.epoch(partition.leaderEpoch, "epoch"),
    leaderId: check.leader(partition.leaderId),
  };
}

export function readFetchAnswer(from: number, request: FetchRequest, answer: FetchAnswer): FetchResponse {
  const check = new AnswerCheck("Fetch", from);
  check.topLevel(answer.errorCode);
  const partition = check.metadataPartition(
    answer.responses.map((topic) => ({ name: topic.topic, partitions: topic.partitions })),
  );
  const errorName = check.errorNamed(partition.errorCode, fetchErrorNames);
  // A Raft fetch answer always names the epoch and leader the answering node knows (KIP-595).
  const epoch = check.epoch(partition.currentLeader.leaderEpoch, "current leader epoch");
  const leaderId = check.leader(partition.currentLeader.leaderId);
  if (errorName === "NONE" && leaderId === null) check.fail("an answer without error names no leader");
  if (partition.snapshotId.endOffset >= 0n) check.fail("a snapshot to fetch, which this node cannot");
  // -1 is a leader that has committed nothing in its epoch yet: as good as 0 to a follower.
  const highWatermark =
    partition.highWatermark === -1n ? 0 : check.offset(partition.highWatermark, "high watermark");
  const diverging =
    partition.divergingEpoch.epoch < 0
      ? null
      : {
          epoch: partition.divergingEpoch.epoch,
          endOffset: check.offset(partition.divergingEpoch.endOffset, "diverging end offset"),
        };
  if (diverging !== null && errorName !== "NONE") check.fail(`a diverging epoch with ${errorName}`);
  const records = entriesOf(check, partition.records);
  if (records.length > 0 && (errorName !== "NONE" || diverging !== null)) {
    check.fail(`entries with ${diverging === null ? errorName : "a diverging epoch"}`);
  }
  checkContinuation(check, request, epoch, records);
  // A leader does not know how many entries this fetcher takes; the rest come with the next fetch.
  return {
    errorName,
    epoch,
    leaderId,
    highWatermark,
    diverging,
    records: records.slice(0, request.maxEntries),
  };
}

function entriesOf(check: AnswerCheck, records: Buffer | null): RaftEntry[] {
  if (records === null || records.length === 0) return [];
  try {
    return decodeEntryBatches(records);
  } catch (error) {
    if (error instanceof InvalidEntryBatchError) check.fail(error.message, { cause: error });
    throw error;
  }
}

/** Entries continue the fetcher's log: from its fetch offset, no older than its last epoch, no newer than the leader's. */
function checkContinuation(
  check: AnswerCheck,
  request: FetchRequest,
  epoch: number,
  records: RaftEntry[],
): void {
  const first = records[0];
  if (first === undefined) return;
  if (first.offset !== request.fetchOffset) {
    check.fail(`entries from offset ${first.offset} for a fetch at ${request.fetchOffset}`);
  }
  const last = records[records.length - 1]!;
  if (first.epoch < request.lastFetchedEpoch || last.epoch > epoch) {
    check.fail(
      `entries of epochs ${first.epoch}..${last.epoch} after epoch ${request.lastFetchedEpoch}, ` +
        `from a leader of epoch ${epoch}`,
    );
  }
}
