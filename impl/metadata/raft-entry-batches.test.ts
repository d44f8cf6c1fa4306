import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeLeaderChange, encodeVoters, type RaftEntry } from "../cluster/raft/raft-log.ts";
import { isBatchProblem, isControlBatch, readBatchHeader } from "../protocol/record-batch.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { decodeEntryBatches, encodeEntryBatches, InvalidEntryBatchError } from "./raft-entry-batches.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function entry(offset: number, epoch: number, kind: RaftEntry["kind"], text: string): RaftEntry {
  const payload =
    kind === "voters"
      ? encodeVoters([1, 2, 3])
      : kind === "leaderChange"
        ? encodeLeaderChange({ leaderId: 1, voters: [1, 2, 3] })
        : bytes(text);
  return { offset, epoch, kind, payload };
}

/** Epoch 2 from offset 10: leader change, two data; epoch 3: leader change, voters, one data. */
const sample: RaftEntry[] = [
  entry(10, 2, "leaderChange", ""),
  entry(11, 2, "data", "topic a"),
  entry(12, 2, "data", "topic b"),
  entry(13, 3, "leaderChange", ""),
  entry(14, 3, "voters", ""),
  entry(15, 3, "data", "topic c"),
];

/** [base offset, leader epoch, control, records] of each batch. */
function batchesOf(records: Buffer): [number, number, boolean, number][] {
  const seen: [number, number, boolean, number][] = [];
  let position = 0;
  while (position < records.length) {
    const header = readBatchHeader(records, position);
    if (isBatchProblem(header)) throw new Error(header.detail);
    seen.push([
      Number(header.baseOffset),
      header.partitionLeaderEpoch,
      isControlBatch(header.attributes),
      header.recordsCount,
    ]);
    position += header.sizeBytes;
  }
  return seen;
}

/** Contiguous entries from any offset, epochs never going back, kinds and payloads at random. */
const entryRuns = fc
  .tuple(
    fc.integer({ min: 0, max: 2 ** 40 }),
    fc.array(
      fc.record({
        epochStep: fc.integer({ min: 0, max: 2 }),
        kind: fc.constantFrom<RaftEntry["kind"]>("data", "data", "leaderChange", "voters"),
        payload: fc.uint8Array({ maxLength: 30 }),
      }),
      { maxLength: 25 },
    ),
  )
  .map(([base, steps]) => {
    let epoch = 0;
    return steps.map((step, i): RaftEntry => {
      epoch += step.epochStep;
      return { offset: base + i, epoch, kind: step.kind, payload: step.payload };
    });
  });

/** Overwrites a batch's base offset, which lies outside its CRC. */
function withBaseOffset(records: Buffer, position: number, baseOffset: bigint): Buffer {
  const copy = Buffer.from(records);
  copy.writeBigInt64BE(baseOffset, position);
  return copy;
}

describe("raft entry batches", () => {
  it("writes a run of data entries of one epoch as one batch, each control entry as its own", () => {
    expect(batchesOf(encodeEntryBatches(sample))).toEqual([
      [10, 2, true, 1],
      [11, 2, false, 2],
      [13, 3, true, 1],
      [14, 3, true, 1],
      [15, 3, false, 1],
    ]);
  });

  it("reads back the entries it wrote, offsets, epochs, kinds and payloads", () => {
    expect(decodeEntryBatches(encodeEntryBatches(sample))).toEqual(sample);
    expect(decodeEntryBatches(Buffer.alloc(0))).toEqual([]);
  });

  it("round-trips any contiguous run of entries", () => {
    fc.assert(
      fc.property(entryRuns, (entries) => {
        const decoded = decodeEntryBatches(encodeEntryBatches(entries));
        expect(decoded).toEqual(entries.map((one) => ({ ...one, payload: new Uint8Array(one.payload) })));
      }),
    );
  });

  it("refuses to encode entries whose offsets jump", () => {
    expect(() => encodeEntryBatches([sample[0]!, sample[2]!])).toThrow(/jump from offset 10 to 12/);
  });

  it("refuses a batch whose CRC does not match, naming where it starts", () => {
    const records = encodeEntryBatches(sample);
    const damaged = Buffer.from(records);
    damaged[damaged.length - 1]! ^= 0xff;
    const refusal = (() => {
      try {
        decodeEntryBatches(damaged);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(InvalidEntryBatchError);
    expect((refusal as InvalidEntryBatchError).message).toMatch(/CRC32C/);
    // The last batch holds one data entry, the last one.
    const lastBatchBytes = encodeEntryBatches(sample.slice(-1)).length;
    expect((refusal as InvalidEntryBatchError).position).toBe(records.length - lastBatchBytes);
  });

  it("refuses truncated bytes", () => {
    const records = encodeEntryBatches(sample);
    expect(() => decodeEntryBatches(records.subarray(0, records.length - 3))).toThrow(/runs past/);
    expect(() => decodeEntryBatches(records.subarray(0, 20))).toThrow(/cannot hold/);
  });

  it("refuses a gap or an overlap between batches", () => {
    const records = encodeEntryBatches(sample);
    const secondAt = readBatchHeader(records, 0);
    if (isBatchProblem(secondAt)) throw new Error(secondAt.detail);
    const position = secondAt.sizeBytes;
    expect(() => decodeEntryBatches(withBaseOffset(records, position, 12n))).toThrow(
      /starts at offset 12, the previous batch ends before 11/,
    );
    expect(() => decodeEntryBatches(withBaseOffset(records, position, 10n))).toThrow(InvalidEntryBatchError);
  });

  it("refuses an epoch older than the batch before", () => {
    const records = encodeEntryBatches([entry(0, 4, "data", "new"), entry(1, 3, "data", "old")]);
    expect(() => decodeEntryBatches(records)).toThrow(/epoch 3 after a batch of epoch 4/);
  });

  it("refuses batches the log never writes: compressed, without an epoch, several control records", () => {
    const compressed = encodeRecordBatch([{ value: Buffer.from("x") }], {
      partitionLeaderEpoch: 1,
      compression: "gzip",
    });
    expect(() => decodeEntryBatches(compressed)).toThrow(/compressed \(gzip\)/);
    const noEpoch = encodeRecordBatch([{ value: Buffer.from("x") }]);
    expect(() => decodeEntryBatches(noEpoch)).toThrow(/leader epoch -1/);
    const key = Buffer.from([0, 0, 0, 2]);
    const twoControls = encodeRecordBatch(
      [
        { key, value: Buffer.from("a") },
        { key, value: Buffer.from("b") },
      ],
      { partitionLeaderEpoch: 1, extraAttributes: 0x20 },
    );
    expect(() => decodeEntryBatches(twoControls)).toThrow(/control batch of 2 records/);
  });

  it("refuses control records of another type or without a key, and records without a value", () => {
    const control = (key: Buffer | null) =>
      encodeRecordBatch([{ key, value: Buffer.from("v") }], {
        partitionLeaderEpoch: 1,
        extraAttributes: 0x20,
      });
    // Type 0 is Kafka's abort marker: transactions never reach the metadata log.
    expect(() => decodeEntryBatches(control(Buffer.from([0, 0, 0, 0])))).toThrow(/unknown type 0/);
    expect(() => decodeEntryBatches(control(null))).toThrow(/without a key/);
    const nullValue = encodeRecordBatch([{ value: null }], { partitionLeaderEpoch: 1 });
    expect(() => decodeEntryBatches(nullValue)).toThrow(/without a value/);
  });
});
