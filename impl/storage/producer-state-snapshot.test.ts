import { writeFile } from "node:fs/promises";
import path from "node:path";
import { crc32c } from "@node-rs/crc32";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ProducerEntry } from "./producer-state.ts";
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  ProducerSnapshotFiles,
  parseProducerSnapshotFileName,
  producerSnapshotFileName,
} from "./producer-state-snapshot.ts";
import { withTemporaryDirectory } from "./test-support.ts";

const oneProducer: ProducerEntry[] = [
  {
    producerId: 4096n,
    producerEpoch: 2,
    lastTimestamp: 1_000n,
    batches: [
      { firstSequence: 0, lastSequence: 1, firstOffset: 10n, lastOffset: 11n },
      { firstSequence: 2, lastSequence: 4, firstOffset: 15n, lastOffset: 17n },
    ],
  },
];

const body = [
  "00000001", // producer_count
  "0000000000001000", // producer_id 4096
  "0002", // producer_epoch
  "00000000000003e8", // last_timestamp 1000
  "02", // batch_count
  "00000000" + "00000001" + "000000000000000a" + "000000000000000b", // sequences 0-1 at offsets 10-11
  "00000002" + "00000004" + "000000000000000f" + "0000000000000011", // sequences 2-4 at offsets 15-17
].join("");
const snapshotHex = `0001${crc32c(Buffer.from(body, "hex")).toString(16).padStart(8, "0")}${body}`;

/** A snapshot's producers: ids distinct, batches in offset order, all before offset 1000. */
const producers = fc.uniqueArray(
  fc.record({
    producerId: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
    producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
    lastTimestamp: fc.bigInt({ min: -1n, max: 1n << 50n }),
    batches: fc.uniqueArray(fc.integer({ min: 0, max: 499 }), { maxLength: 5 }).map((starts) =>
      [...starts]
        .sort((left, right) => left - right)
        .map((start, index) => ({
          firstSequence: index * 10,
          lastSequence: index * 10 + 1,
          firstOffset: BigInt(start * 2),
          lastOffset: BigInt(start * 2 + 1),
        })),
    ),
  }),
  { maxLength: 20, selector: (entry) => entry.producerId },
);

describe("producer state snapshots", () => {
  it("encodes producers byte for byte, CRC32C over everything after the CRC", () => {
    expect(encodeProducerSnapshot(oneProducer).toString("hex")).toBe(snapshotHex);
    expect(decodeProducerSnapshot(Buffer.from(snapshotHex, "hex"), 18n)).toEqual(oneProducer);
  });

  it("round-trips any producers, in their order", () => {
    fc.assert(
      fc.property(producers, (entries) => {
        expect(decodeProducerSnapshot(encodeProducerSnapshot(entries), 1000n)).toEqual(entries);
      }),
    );
  });

  it("refuses every truncation, any flipped bit, and a trailing byte", () => {
    const bytes = Buffer.from(snapshotHex, "hex");
    for (let length = 0; length < bytes.length; length++) {
      expect(typeof decodeProducerSnapshot(bytes.subarray(0, length), 18n)).toBe("string");
    }
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(typeof decodeProducerSnapshot(flipped, 18n)).toBe("string");
    }
    expect(decodeProducerSnapshot(Buffer.concat([bytes, Buffer.from([0])]), 18n)).toMatch(/CRC32C/);
  });

  it("refuses counts larger than the bytes that follow, with a valid CRC, before allocating", () => {
    const claim = Buffer.from("7fffffff", "hex");
    const header = Buffer.alloc(6);
    header.writeInt16BE(1, 0);
    header.writeUInt32BE(crc32c(claim), 2);
    expect(decodeProducerSnapshot(Buffer.concat([header, claim]), 18n)).toMatch(/producer count 2147483647/);
  });

  it("refuses a snapshot whose batches do not lie before its own offset", () => {
    const bytes = encodeProducerSnapshot(oneProducer);
    expect(decodeProducerSnapshot(bytes, 17n)).toMatch(/does not lie in order before offset 17/);
  });

  it("refuses a version it does not know", () => {
    const bytes = encodeProducerSnapshot(oneProducer);
    bytes.writeInt16BE(2, 0);
    expect(decodeProducerSnapshot(bytes, 18n)).toBe("unknown snapshot version 2");
  });

  it("names files by offset, 20 digits, apart from Kafka's .snapshot files", () => {
    expect(producerSnapshotFileName(1234n)).toBe("00000000000000001234.producer-snapshot");
    expect(parseProducerSnapshotFileName("00000000000000001234.producer-snapshot")).toBe(1234n);
    expect(parseProducerSnapshotFileName("00000000000000001234.snapshot")).toBeNull();
    expect(parseProducerSnapshotFileName("00000000000000001234.producer-snapshot.tmp")).toBeNull();
  });

  it("lists, writes, reads and removes the files of a directory by offset", () =>
    withTemporaryDirectory(async (directory) => {
      await writeFile(path.join(directory, producerSnapshotFileName(30n)), encodeProducerSnapshot([]));
      await writeFile(path.join(directory, "00000000000000000030.log"), "");
      const files = await ProducerSnapshotFiles.list(directory);
      await files.write(18n, encodeProducerSnapshot(oneProducer));
      expect(files.all).toEqual([18n, 30n]);
      expect(await files.read(18n)).toEqual(oneProducer);
      expect(await (await ProducerSnapshotFiles.list(directory)).read(30n)).toEqual([]);
      expect(await files.removeWhere((offset) => offset > 20n)).toEqual([30n]);
      expect((await ProducerSnapshotFiles.list(directory)).all).toEqual([18n]);
      expect(await files.read(30n)).toBe("the file is gone");
    }));
});
