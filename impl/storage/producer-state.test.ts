import { describe, expect, it } from "vitest";
import { type BatchHeader, isBatchProblem, readBatchHeader } from "../protocol/record-batch.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import {
  batchesPerProducerMax,
  defaultProducerStateSettings,
  lastSequenceOf,
  ProducerStateTable,
} from "./producer-state.ts";
import { idempotentBatch, type ProducerStamp } from "./test-support.ts";

const producerId = 4096n;

/** The header of a batch of `count` records by `producer`, as stored at `baseOffset`. */
function header(
  producer: Partial<ProducerStamp>,
  count: number,
  baseOffset: bigint,
  timestamp = 1_000n,
): BatchHeader {
  const stamp = { producerId, producerEpoch: 0, baseSequence: 0, ...producer };
  const parsed = readBatchHeader(idempotentBatch("r", count, stamp, { baseOffset, epoch: 0, timestamp }), 0);
  if (isBatchProblem(parsed)) throw new Error(parsed.detail);
  return parsed;
}

/** A table fed like a leader: each batch checked, then applied at the next offsets. */
class Leader {
  readonly table: ProducerStateTable;
  nextOffset = 0n;

  constructor(settings = defaultProducerStateSettings) {
    this.table = new ProducerStateTable(settings, 0n);
  }

  /** Checks one produced batch of `count` records and, when it may be appended, appends it. */
  produce(producer: Partial<ProducerStamp>, count = 2, timestamp = 1_000n) {
    const batch = header(producer, count, this.nextOffset, timestamp);
    const verdict = this.table.checkProduced([batch]);
    if (verdict.kind === "append") {
      this.table.apply(batch);
      this.nextOffset += BigInt(count);
    }
    return verdict;
  }
}

describe("producer state: the leader's checks", () => {
  it("accepts a new producer's batches in sequence and remembers each as sequences and offsets", () => {
    const leader = new Leader();
    expect(leader.produce({ baseSequence: 0 })).toEqual({ kind: "append" });
    expect(leader.produce({ baseSequence: 2 }, 3)).toEqual({ kind: "append" });
    expect(leader.table.get(producerId)).toEqual({
      producerId,
      producerEpoch: 0,
      lastTimestamp: 1_000n,
      batches: [
        { firstSequence: 0, lastSequence: 1, firstOffset: 0n, lastOffset: 1n },
        { firstSequence: 2, lastSequence: 4, firstOffset: 2n, lastOffset: 4n },
      ],
    });
    expect(leader.table.endOffset).toBe(5n);
  });

  it("answers a retry of any of the last five batches with its original offsets, and not a sixth", () => {
    const leader = new Leader();
    for (let batch = 0; batch < 6; batch++) leader.produce({ baseSequence: batch * 2 });
    expect(leader.table.get(producerId)!.batches).toHaveLength(batchesPerProducerMax);
    for (let batch = 1; batch < 6; batch++) {
      expect(leader.produce({ baseSequence: batch * 2 })).toEqual({
        kind: "duplicate",
        firstOffset: BigInt(batch * 2),
        lastOffset: BigInt(batch * 2 + 1),
      });
    }
    // The first batch has left the window: its retry is out of order, never written twice.
    expect(leader.produce({ baseSequence: 0 })).toMatchObject({
      kind: "refused",
      problem: "out-of-order-sequence",
    });
    expect(leader.nextOffset).toBe(12n);
  });

  it("takes a batch as a retry only when epoch and whole sequence range match", () => {
    const leader = new Leader();
    leader.produce({ baseSequence: 0 }, 3);
    // Same first sequence, other length: not the same batch, and not in sequence either.
    expect(leader.produce({ baseSequence: 0 }, 2)).toMatchObject({
      kind: "refused",
      problem: "out-of-order-sequence",
    });
  });

  it("refuses a gap in the sequence with OUT_OF_ORDER_SEQUENCE_NUMBER, writing nothing", () => {
    const leader = new Leader();
    leader.produce({ baseSequence: 0 });
    const verdict = leader.produce({ baseSequence: 5 });
    expect(verdict).toMatchObject({ kind: "refused", problem: "out-of-order-sequence" });
    expect(verdict.kind === "refused" && verdict.detail).toContain("5 (incoming seq. number), 1");
    expect(leader.nextOffset).toBe(2n);
    expect(leader.produce({ baseSequence: 2 })).toEqual({ kind: "append" });
  });

  it("fences an epoch older than the producer's current one", () => {
    const leader = new Leader();
    leader.produce({ producerEpoch: 0, baseSequence: 0 });
    leader.produce({ producerEpoch: 1, baseSequence: 0 });
    expect(leader.produce({ producerEpoch: 0, baseSequence: 2 })).toMatchObject({
      kind: "refused",
      problem: "invalid-producer-epoch",
    });
  });

  it("starts a new epoch at sequence 0 only, and forgets the old epoch's batches", () => {
    const leader = new Leader();
    leader.produce({ producerEpoch: 0, baseSequence: 0 });
    expect(leader.produce({ producerEpoch: 1, baseSequence: 2 })).toMatchObject({
      kind: "refused",
      problem: "out-of-order-sequence",
    });
    expect(leader.produce({ producerEpoch: 1, baseSequence: 0 })).toEqual({ kind: "append" });
    expect(leader.table.get(producerId)).toMatchObject({
      producerEpoch: 1,
      batches: [{ firstSequence: 0, lastSequence: 1, firstOffset: 2n, lastOffset: 3n }],
    });
    // The old epoch's batch is no retry any more: it is fenced.
    expect(leader.produce({ producerEpoch: 0, baseSequence: 0 })).toMatchObject({
      problem: "invalid-producer-epoch",
    });
  });

  it("accepts an unknown producer at any sequence, as Kafka 3.x does after its state expired", () => {
    const leader = new Leader();
    expect(leader.produce({ producerId: 7n, producerEpoch: 3, baseSequence: 42 })).toEqual({
      kind: "append",
    });
    expect(leader.produce({ producerId: 7n, producerEpoch: 3, baseSequence: 44 })).toEqual({
      kind: "append",
    });
    expect(leader.produce({ producerId: 7n, producerEpoch: 3, baseSequence: 50 })).toMatchObject({
      problem: "out-of-order-sequence",
    });
  });

  it("refuses a producer id with a negative base sequence as an invalid record", () => {
    const leader = new Leader();
    expect(leader.produce({ baseSequence: -1 })).toMatchObject({
      kind: "refused",
      problem: "invalid-sequence",
    });
  });

  it("ignores batches without a producer id, but counts their offsets", () => {
    const table = new ProducerStateTable(defaultProducerStateSettings, 0n);
    const plain = readBatchHeader(encodeRecordBatch([{ value: Buffer.from("x") }], { baseOffset: 4n }), 0);
    if (isBatchProblem(plain)) throw new Error(plain.detail);
    expect(table.checkProduced([plain])).toEqual({ kind: "append" });
    table.apply(plain);
    expect(table.size).toBe(0);
    expect(table.endOffset).toBe(5n);
  });

  it("wraps sequences from int32 max to 0", () => {
    const leader = new Leader();
    const max = 0x7fffffff;
    expect(lastSequenceOf({ baseSequence: max - 1, lastOffsetDelta: 3 })).toBe(1);
    leader.produce({ baseSequence: max - 1 }, 2);
    expect(leader.table.get(producerId)!.batches[0]!.lastSequence).toBe(max);
    expect(leader.produce({ baseSequence: 1 })).toMatchObject({ problem: "out-of-order-sequence" });
    expect(leader.produce({ baseSequence: 0 }, 3)).toEqual({ kind: "append" });
    expect(leader.produce({ baseSequence: 3 })).toEqual({ kind: "append" });
  });

  it("checks the batches of one produce in order, each after the one before", () => {
    const table = new ProducerStateTable(defaultProducerStateSettings, 0n);
    table.apply(header({ baseSequence: 0 }, 2, 0n));
    const second = header({ baseSequence: 2 }, 2, 2n);
    const third = header({ baseSequence: 4 }, 2, 4n);
    const gap = header({ baseSequence: 9 }, 2, 4n);
    expect(table.checkProduced([second, third])).toEqual({ kind: "append" });
    expect(table.checkProduced([second, gap])).toMatchObject({ problem: "out-of-order-sequence" });
    // Checking changes nothing.
    expect(table.get(producerId)!.batches).toHaveLength(1);
  });

  it("answers a whole produce as a retry when one of its batches repeats, as Kafka does", () => {
    const leader = new Leader();
    leader.produce({ baseSequence: 0 });
    const fresh = header({ baseSequence: 2 }, 2, 2n);
    const repeated = header({ baseSequence: 0 }, 2, 4n);
    expect(leader.table.checkProduced([fresh, repeated])).toEqual({
      kind: "duplicate",
      firstOffset: 0n,
      lastOffset: 1n,
    });
  });
});

describe("producer state: replicated batches and bounds", () => {
  it("takes a follower's batches unchecked, gaps and older epochs included, as the leader decided", () => {
    const table = new ProducerStateTable(defaultProducerStateSettings, 0n);
    table.apply(header({ producerEpoch: 2, baseSequence: 10 }, 2, 0n));
    table.apply(header({ producerEpoch: 2, baseSequence: 30 }, 2, 2n));
    expect(table.get(producerId)!.batches.map((batch) => batch.firstSequence)).toEqual([10, 30]);
    table.apply(header({ producerEpoch: 1, baseSequence: 0 }, 2, 4n));
    expect(table.get(producerId)).toMatchObject({ producerEpoch: 1, batches: [{ firstOffset: 4n }] });
  });

  it("forgets the producer that appended least recently once producerIdsMax is reached", () => {
    const leader = new Leader({ ...defaultProducerStateSettings, producerIdsMax: 2 });
    leader.produce({ producerId: 1n });
    leader.produce({ producerId: 2n });
    leader.produce({ producerId: 1n, baseSequence: 2 });
    leader.produce({ producerId: 3n });
    expect(leader.table.entries().map((entry) => entry.producerId)).toEqual([1n, 3n]);
    // Producer 2 is unknown now: its next batch is taken whatever its sequence, never refused.
    expect(leader.produce({ producerId: 2n, baseSequence: 8 })).toEqual({ kind: "append" });
  });

  it("expires producers whose last batch is older than producer.id.expiration.ms", () => {
    const leader = new Leader({ ...defaultProducerStateSettings, producerIdExpirationMs: 60_000 });
    leader.produce({ producerId: 1n }, 2, 100_000n);
    leader.produce({ producerId: 2n }, 2, 150_000n);
    expect(leader.table.removeExpired(160_000)).toBe(1);
    expect(leader.table.entries().map((entry) => entry.producerId)).toEqual([2n]);
    expect(leader.table.removeExpired(210_000)).toBe(1);
    expect(leader.table.size).toBe(0);
  });
});
