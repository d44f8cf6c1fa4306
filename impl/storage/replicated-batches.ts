/**
 * What a follower appends (Kafka's appendAsFollower): record batches exactly
 * as the leader stored them, offsets and leader epochs already set, CRCs
 * valid. They came off the wire all the same, so every batch is checked
 * whole before a byte of any of them is written, and a refusal is a typed
 * error the replication caller handles (truncate, refetch, or drop the
 * connection), never an invariant that stops the process.
 */
import {
  type BatchHeader,
  type BatchProblem,
  isBatchProblem,
  lastOffsetOf,
  readBatchHeader,
  readValidBatch,
} from "../protocol/record-batch.ts";
import { assertInvariant } from "./invariant.ts";
import { storedBatchBytesMax } from "./log-config.ts";

/**
 * The first batch does not start at the log end (Kafka's
 * UnexpectedAppendOffsetException): a fetch answered for another log end,
 * or a log that diverged. The caller truncates or refetches from `logEndOffset`.
 */
export class UnexpectedAppendOffsetError extends Error {
  constructor(
    readonly firstOffset: bigint,
    readonly logEndOffset: bigint,
    directory: string,
  ) {
    super(
      `replicated batches for ${directory} start at offset ${firstOffset}, the log ends at ${logEndOffset}`,
    );
    this.name = "UnexpectedAppendOffsetError";
  }
}

export type ReplicatedBatchProblem =
  | BatchProblem["kind"]
  | "offsets-not-contiguous" // a gap or an overlap between two batches of the append
  | "leader-epoch-regressed"; // a batch of an older epoch than the log already holds

/** A batch of a follower's append is damaged or does not fit the log; nothing of the append was written. */
export class InvalidReplicatedBatchError extends Error {
  constructor(
    readonly problem: ReplicatedBatchProblem,
    /** Where the batch starts in the append's records. */
    readonly position: number,
    detail: string,
  ) {
    super(`replicated batch at ${position}: ${detail}`);
    this.name = "InvalidReplicatedBatchError";
  }
}

/**
 * The headers of the whole batches in `records` (a fetch response's records
 * field), for appendAsFollower. CRCs are not checked here: appendAsFollower
 * checks them, so that each batch is hashed once.
 */
export function readReplicatedBatches(records: Buffer): BatchHeader[] | BatchProblem {
  const batches: BatchHeader[] = [];
  let position = 0;
  while (position < records.length) {
    const header = readBatchHeader(records, position);
    if (isBatchProblem(header)) return header;
    if (header.sizeBytes > storedBatchBytesMax) {
      return {
        kind: "too-large",
        detail: `batch of ${header.sizeBytes} bytes exceeds storedBatchBytesMax ${storedBatchBytesMax}`,
      };
    }
    batches.push(header);
    position += header.sizeBytes;
  }
  return batches;
}

export interface ReplicatedBatchTarget {
  directory: string;
  logEndOffset: bigint;
  /** The latest leader epoch of the records already in the log, null when none is known. */
  latestEpochWithRecords: number | null;
}

/**
 * Throws, with nothing changed, unless `batches` (the headers read from
 * `records`) are whole, CRC-valid batches that continue the log: the first
 * at its end, each next one right after the previous one, leader epochs
 * never going back. Headers that do not describe `records` are the caller's
 * bug, asserted.
 */
export function checkReplicatedBatches(
  records: Buffer,
  batches: readonly BatchHeader[],
  target: ReplicatedBatchTarget,
): void {
  assertInvariant(batches.length > 0, "batches-tile-records", () => "no batch to append");
  const firstOffset = batches[0]!.baseOffset;
  if (firstOffset !== target.logEndOffset) {
    throw new UnexpectedAppendOffsetError(firstOffset, target.logEndOffset, target.directory);
  }
  let position = 0;
  let nextOffset = target.logEndOffset;
  let epoch = target.latestEpochWithRecords;
  for (const given of batches) {
    assertInvariant(given.position === position, "batches-tile-records", () => {
      return `batch at ${given.position} where one should start at ${position}`;
    });
    const header = readValidBatch(records, position);
    if (isBatchProblem(header)) throw new InvalidReplicatedBatchError(header.kind, position, header.detail);
    assertInvariant(sameBatch(header, given), "replicated-headers-match-records", () => {
      return `the header given for the batch at ${position} was not read from these records`;
    });
    const problem = offsetOrEpochProblem(header, nextOffset, epoch);
    if (problem !== null) throw new InvalidReplicatedBatchError(problem.kind, position, problem.detail);
    if (header.partitionLeaderEpoch >= 0) epoch = header.partitionLeaderEpoch;
    nextOffset = lastOffsetOf(header) + 1n;
    position += header.sizeBytes;
  }
  assertInvariant(position === records.length, "batches-tile-records", () => {
    return `batches cover ${position} of ${records.length} bytes`;
  });
}

function sameBatch(read: BatchHeader, given: BatchHeader): boolean {
  return (
    read.sizeBytes === given.sizeBytes &&
    read.baseOffset === given.baseOffset &&
    read.lastOffsetDelta === given.lastOffsetDelta &&
    read.partitionLeaderEpoch === given.partitionLeaderEpoch &&
    read.maxTimestamp === given.maxTimestamp
  );
}

function offsetOrEpochProblem(
  header: BatchHeader,
  expectedOffset: bigint,
  latestEpoch: number | null,
): { kind: ReplicatedBatchProblem; detail: string } | null {
  const { sizeBytes, lastOffsetDelta, recordsCount, baseOffset, partitionLeaderEpoch } = header;
  if (sizeBytes > storedBatchBytesMax) {
    return {
      kind: "too-large",
      detail: `${sizeBytes} bytes exceed storedBatchBytesMax ${storedBatchBytesMax}`,
    };
  }
  // A leader stores only batches whose count matches their offset span (validateProducedBatches).
  if (lastOffsetDelta < 0 || recordsCount !== lastOffsetDelta + 1) {
    return {
      kind: "bad-count",
      detail: `records count ${recordsCount} does not match last offset delta ${lastOffsetDelta}`,
    };
  }
  if (baseOffset !== expectedOffset) {
    return {
      kind: "offsets-not-contiguous",
      detail: `batch starts at offset ${baseOffset}, the previous one ends before ${expectedOffset}`,
    };
  }
  // A negative epoch is "none", as Kafka treats it; the leader path stores it likewise.
  if (partitionLeaderEpoch >= 0 && latestEpoch !== null && partitionLeaderEpoch < latestEpoch) {
    return {
      kind: "leader-epoch-regressed",
      detail: `leader epoch ${partitionLeaderEpoch} after records of epoch ${latestEpoch}`,
    };
  }
  return null;
}
