import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assignBatchOffset,
  isBatchProblem,
  readValidBatch,
  validateProducedBatches,
} from "./record-batch.ts";
import { decodeBatchRecords, encodeRecordBatch } from "./records.ts";

const oneRecord = [{ key: Buffer.from("k"), value: Buffer.from("v"), timestamp: 1_000n }];

describe("record batch v2", () => {
  it("lays out a one-record batch as Kafka does", () => {
    const batch = encodeRecordBatch(oneRecord);
    // record: length 8, attributes 0, ts delta 0, offset delta 0, key len 1 'k', value len 1 'v', 0 headers
    const record = "10" + "00" + "00" + "00" + "02" + "6b" + "02" + "76" + "00";
    expect(batch.subarray(61).toString("hex")).toBe(record);
    expect(batch.readInt32BE(8)).toBe(batch.length - 12);
    expect(batch.readInt8(16)).toBe(2);
  });

  it("keeps its CRC valid after the broker assigns the base offset and epoch", () => {
    const batch = encodeRecordBatch(oneRecord);
    const headers = validateProducedBatches(batch, 1 << 20);
    if (isBatchProblem(headers)) throw new Error(headers.detail);
    assignBatchOffset(batch, headers[0]!, 42n, 7);
    const reread = readValidBatch(batch, 0);
    if (isBatchProblem(reread)) throw new Error(reread.detail);
    expect(reread.baseOffset).toBe(42n);
    expect(reread.partitionLeaderEpoch).toBe(7);
  });

  it("refuses a flipped byte with bad-crc, a cut batch with truncated, magic 1 with bad-magic", () => {
    const batch = encodeRecordBatch(oneRecord);
    const flipped = Buffer.from(batch);
    flipped[flipped.length - 2]! ^= 0xff;
    expect(validateProducedBatches(flipped, 1 << 20)).toMatchObject({ kind: "bad-crc" });
    expect(validateProducedBatches(batch.subarray(0, batch.length - 1), 1 << 20)).toMatchObject({
      kind: "truncated",
    });
    const oldMagic = Buffer.from(batch);
    oldMagic.writeInt8(1, 16);
    expect(validateProducedBatches(oldMagic, 1 << 20)).toMatchObject({ kind: "bad-magic" });
    expect(validateProducedBatches(batch, 10)).toMatchObject({ kind: "too-large" });
  });

  it("round-trips records through every codec it can encode", () => {
    const record = fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 40 }).map(Buffer.from), { nil: null }),
      value: fc.option(fc.uint8Array({ maxLength: 200 }).map(Buffer.from), { nil: null }),
      headers: fc.array(
        fc.record({
          key: fc.string({ maxLength: 10 }),
          value: fc.option(fc.uint8Array({ maxLength: 10 }).map(Buffer.from), { nil: null }),
        }),
        { maxLength: 3 },
      ),
      timestamp: fc.bigInt({ min: 0n, max: 1n << 45n }),
    });
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 20 }),
        fc.constantFrom("none", "gzip", "snappy", "lz4") as fc.Arbitrary<"none" | "gzip" | "snappy" | "lz4">,
        fc.bigInt({ min: 0n, max: 1n << 40n }),
        (records, compression, baseOffset) => {
          const batch = encodeRecordBatch(records, { compression, baseOffset });
          const header = readValidBatch(batch, 0);
          if (isBatchProblem(header)) throw new Error(header.detail);
          const decoded = decodeBatchRecords(batch, header);
          expect(decoded.map((r) => r.offset)).toEqual(records.map((_, index) => baseOffset + BigInt(index)));
          expect(decoded.map((r) => [r.key, r.value, r.headers, r.timestamp])).toEqual(
            records.map((r) => [r.key, r.value, r.headers, r.timestamp]),
          );
        },
      ),
    );
  });
});
