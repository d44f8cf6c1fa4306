/**
 * Idempotent producers' state in one partition (Kafka's ProducerStateManager,
 * ProducerStateEntry and ProducerAppendInfo, without transactions): per
 * producer id its epoch and its last five batches, each as first and last
 * sequence and first and last offset.
 *
 * On the leader every batch of a produce is checked against it before
 * offsets are given (checkProduced): a batch that repeats one of the last
 * five is a retry whose first attempt was written, and is answered with that
 * attempt's offsets instead of being written again; an older epoch is fenced;
 * a new epoch starts at sequence 0; otherwise a batch continues its
 * producer's last sequence. Followers and recovery apply batches as they are
 * in the log, unchecked (the leader checked them), so a replica that becomes
 * leader holds the same state.
 *
 * The table is bounded: past `producerIdsMax` the producer that appended
 * least recently is forgotten. Kafka keeps producers until
 * producer.id.expiration.ms (a day by default) passed since their last
 * batch's timestamp, with no bound on their number; expiration here is the
 * same (removeExpired), and the bound keeps many short-lived producers from
 * growing the table without limit. A forgotten producer is treated as Kafka
 * treats an expired one: its next batch is accepted whatever its sequence.
 */
import { type BatchHeader, lastOffsetOf } from "../protocol/record-batch.ts";
import { assertInvariant } from "./invariant.ts";

/** Batches remembered per producer, as Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN. */
export const batchesPerProducerMax = 5;
/** A batch's producer_id when it has none (Kafka's RecordBatch.NO_PRODUCER_ID). */
export const noProducerId = -1n;
/** A producer's epoch before any batch set one (Kafka's RecordBatch.NO_PRODUCER_EPOCH). */
export const noProducerEpoch = -1;
/** The sequence before a producer's first batch (Kafka's RecordBatch.NO_SEQUENCE). */
const noSequence = -1;
const int32Max = 0x7fffffff;

/** One batch a producer wrote, as its retry must match it. */
export interface ProducerBatch {
  firstSequence: number;
  lastSequence: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

export interface ProducerEntry {
  producerId: bigint;
  producerEpoch: number;
  /** Oldest first, at most batchesPerProducerMax, all of `producerEpoch`. */
  batches: ProducerBatch[];
  /** Max timestamp of its last batch: what producer.id.expiration.ms counts from. */
  lastTimestamp: bigint;
}

export interface ProducerStateSettings {
  /** Producer ids kept per partition; past it the least recently appending one is forgotten. */
  producerIdsMax: number;
  /** producer.id.expiration.ms: a producer whose last batch is older is forgotten. */
  producerIdExpirationMs: number;
}

export const defaultProducerStateSettings: ProducerStateSettings = Object.freeze({
  producerIdsMax: 10_000,
  // Kafka's default producer.id.expiration.ms: one day.
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
});

/** Why a produced batch is refused; the produce path maps each to its Kafka error. */
export type ProducerBatchProblem =
  | "invalid-producer-epoch" // INVALID_PRODUCER_EPOCH: the producer was fenced by a newer epoch
  | "out-of-order-sequence" // OUT_OF_ORDER_SEQUENCE_NUMBER: a gap, or a new epoch not starting at 0
  | "invalid-sequence"; // INVALID_RECORD: a producer id with a negative base sequence

/** What checkProduced decided for a whole produce. */
export type ProducedBatchesVerdict =
  | { kind: "append" }
  /** A retry: every batch before the repeated one is dropped too, as Kafka answers the whole append. */
  | { kind: "duplicate"; firstOffset: bigint; lastOffset: bigint }
  | { kind: "refused"; problem: ProducerBatchProblem; detail: string };

/** A produced batch refused by the producer state; nothing of its append was written. */
export class ProducerBatchRefusedError extends Error {
  constructor(
    readonly problem: ProducerBatchProblem,
    detail: string,
  ) {
    super(detail);
    this.name = "ProducerBatchRefusedError";
  }
}

export function hasProducerId(header: Pick<BatchHeader, "producerId">): boolean {
  return header.producerId > noProducerId;
}

/** The batch's last sequence: sequences wrap from int32 max to 0, as Kafka's incrementSequence. */
export function lastSequenceOf(header: Pick<BatchHeader, "baseSequence" | "lastOffsetDelta">): number {
  const { baseSequence, lastOffsetDelta } = header;
  if (baseSequence > int32Max - lastOffsetDelta) return lastOffsetDelta - (int32Max - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

function inSequence(lastSequence: number, nextSequence: number): boolean {
  return nextSequence === lastSequence + 1 || (nextSequence === 0 && lastSequence === int32Max);
}

/** Where a producer stands while the batches of one append are checked in order. */
interface Staged {
  producerEpoch: number;
  lastSequence: number;
  /** The stored epoch before this append: noProducerEpoch accepts any sequence, as Kafka's checkSequence. */
  storedEpoch: number;
}

export class ProducerStateTable {
  /** In order of last append, least recent first: the first entry is the one the bound evicts. */
  private readonly producers = new Map<bigint, ProducerEntry>();
  /** The log offset up to which this state describes the log (Kafka's mapEndOffset). */
  endOffset: bigint;

  constructor(
    readonly settings: ProducerStateSettings,
    endOffset: bigint,
  ) {
    assertInvariant(
      Number.isSafeInteger(settings.producerIdsMax) && settings.producerIdsMax >= 1,
      "producer-ids-bounded",
      () => `producerIdsMax ${settings.producerIdsMax} is not a positive count`,
    );
    this.endOffset = endOffset;
  }

  get size(): number {
    return this.producers.size;
  }

  get(producerId: bigint): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /** Every producer, least recently appending first (the order snapshots keep). */
  entries(): ProducerEntry[] {
    return [...this.producers.values()];
  }

  /**
   * The leader's check of a produce's batches, in order, before offsets are
   * given; changes nothing. Kafka's analyzeAndValidateProducerState with
   * ProducerAppendInfo's client checks.
   */
  checkProduced(batches: readonly BatchHeader[]): ProducedBatchesVerdict {
    const staged = new Map<bigint, Staged>();
    for (const header of batches) {
      if (!hasProducerId(header)) continue;
      const { producerId, producerEpoch, baseSequence } = header;
      const stored = this.producers.get(producerId);
      const lastSequence = lastSequenceOf(header);
      const duplicate = stored === undefined ? undefined : findDuplicate(stored, header, lastSequence);
      if (duplicate !== undefined) {
        return { kind: "duplicate", firstOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset };
      }
      if (baseSequence < 0) {
        return {
          kind: "refused",
          problem: "invalid-sequence",
          detail: `Invalid sequence number ${baseSequence} in record batch with producerId ${producerId}`,
        };
      }
      const current = staged.get(producerId) ?? {
        producerEpoch: stored?.producerEpoch ?? noProducerEpoch,
        lastSequence: stored?.batches[stored.batches.length - 1]?.lastSequence ?? noSequence,
        storedEpoch: stored?.producerEpoch ?? noProducerEpoch,
      };
      if (producerEpoch < current.producerEpoch) {
        return {
          kind: "refused",
          problem: "invalid-producer-epoch",
          detail: `Epoch of producer ${producerId} is ${producerEpoch}, which is smaller than the last seen epoch ${current.producerEpoch}`,
        };
      }
      if (producerEpoch !== current.producerEpoch) {
        // A producer this partition knows starts each epoch at 0. One it does not know (new,
        // expired, or whose batches retention deleted) may continue anywhere: Kafka 3.x accepts
        // that (KIP-360) rather than answer UNKNOWN_PRODUCER_ID, which older clients took as fatal.
        if (baseSequence !== 0 && current.producerEpoch !== noProducerEpoch) {
          return {
            kind: "refused",
            problem: "out-of-order-sequence",
            detail: `Invalid sequence number for new epoch of producer ${producerId}: ${producerEpoch} (request epoch), ${baseSequence} (seq. number), ${current.producerEpoch} (current producer epoch)`,
          };
        }
      } else if (current.storedEpoch !== noProducerEpoch && !inSequence(current.lastSequence, baseSequence)) {
        return {
          kind: "refused",
          problem: "out-of-order-sequence",
          detail: `Out of order sequence number for producer ${producerId}: ${baseSequence} (incoming seq. number), ${current.lastSequence} (current end sequence number)`,
        };
      }
      staged.set(producerId, { producerEpoch, lastSequence, storedEpoch: current.storedEpoch });
    }
    return { kind: "append" };
  }

  /**
   * Records a batch now in the log at its offsets: after checkProduced on the
   * leader, unchecked on followers and in recovery (Kafka logs an older
   * epoch there and takes it, as the leader decided). A new epoch forgets the
   * old epoch's batches.
   */
  apply(header: BatchHeader): void {
    const lastOffset = lastOffsetOf(header);
    if (lastOffset + 1n > this.endOffset) this.endOffset = lastOffset + 1n;
    if (!hasProducerId(header)) return;
    const { producerId, producerEpoch, baseSequence, baseOffset, maxTimestamp } = header;
    const existing = this.producers.get(producerId);
    const entry: ProducerEntry = existing ?? {
      producerId,
      producerEpoch,
      batches: [],
      lastTimestamp: maxTimestamp,
    };
    if (entry.producerEpoch !== producerEpoch) {
      entry.producerEpoch = producerEpoch;
      entry.batches = [];
    }
    entry.batches.push({
      firstSequence: baseSequence,
      lastSequence: lastSequenceOf(header),
      firstOffset: baseOffset,
      lastOffset,
    });
    if (entry.batches.length > batchesPerProducerMax) entry.batches.shift();
    entry.lastTimestamp = maxTimestamp;
    // Re-inserted at the end: the map's order is the order of last appends.
    if (existing !== undefined) this.producers.delete(producerId);
    this.producers.set(producerId, entry);
    this.evictBeyondBound();
  }

  /** Adds a producer as a snapshot holds it; a snapshot lists them least recent first. */
  load(entry: ProducerEntry): void {
    assertInvariant(
      entry.batches.length <= batchesPerProducerMax,
      "producer-batches-bounded",
      () => `producer ${entry.producerId} with ${entry.batches.length} batches`,
    );
    this.producers.delete(entry.producerId);
    this.producers.set(entry.producerId, entry);
    this.evictBeyondBound();
  }

  /** Forgets producers whose last batch is older than producer.id.expiration.ms; returns how many. */
  removeExpired(nowMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.producers) {
      if (this.isExpired(entry, nowMs)) {
        this.producers.delete(producerId);
        removed += 1;
      }
    }
    return removed;
  }

  isExpired(entry: ProducerEntry, nowMs: number): boolean {
    return BigInt(Math.floor(nowMs)) - entry.lastTimestamp >= BigInt(this.settings.producerIdExpirationMs);
  }

  /** Forgets every producer: the log was emptied, or is about to be reread from a snapshot. */
  clear(endOffset: bigint): void {
    this.producers.clear();
    this.endOffset = endOffset;
  }

  private evictBeyondBound(): void {
    while (this.producers.size > this.settings.producerIdsMax) {
      const oldest = this.producers.keys().next().value as bigint;
      this.producers.delete(oldest);
    }
  }
}

/** The remembered batch this one repeats (same epoch, same sequence range), if any. */
function findDuplicate(
  entry: ProducerEntry,
  header: BatchHeader,
  lastSequence: number,
): ProducerBatch | undefined {
  if (entry.producerEpoch !== header.producerEpoch) return undefined;
  return entry.batches.find(
    (batch) => batch.firstSequence === header.baseSequence && batch.lastSequence === lastSequence,
  );
}
