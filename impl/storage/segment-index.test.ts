import { describe, expect, it } from "vitest";
import { SegmentIndex } from "./segment-index.ts";

/** Ten batches of 100 bytes and 2 offsets each, timestamps rising except the fifth. */
function sampleIndex(): SegmentIndex {
  const index = new SegmentIndex(1000n, 250);
  for (let batch = 0; batch < 10; batch++) {
    const timestamp = batch === 4 ? 5n : BigInt(batch * 10);
    index.addBatch(batch * 100, 100, 1000n + BigInt(batch * 2), timestamp);
  }
  return index;
}

describe("SegmentIndex", () => {
  it("adds an offset entry once intervalBytes have passed, and finds the floor entry", () => {
    const index = sampleIndex();
    expect(index.offsetEntryCount).toBe(3);
    expect(index.floorPosition(1000n)).toBe(0);
    expect(index.floorPosition(1005n)).toBe(0);
    expect(index.floorPosition(1006n)).toBe(300);
    expect(index.floorPosition(1013n)).toBe(600);
    expect(index.floorPosition(1019n)).toBe(900);
    expect(index.lastEntry).toEqual({ position: 900, offset: 1018n });
  });

  it("tracks the largest timestamp and the batch that first carried it", () => {
    const index = sampleIndex();
    expect(index.maxTimestamp).toBe(90n);
    expect(index.offsetOfMaxTimestamp).toBe(1018n);
    expect(index.offsetBeforeTimestamp(0n)).toBeNull();
    expect(index.offsetBeforeTimestamp(31n)).toBe(1006n);
    expect(index.offsetBeforeTimestamp(1000n)).toBe(1018n);
  });

  it("round-trips through its files and refuses files that cannot be right", () => {
    const index = sampleIndex();
    const offsets = index.serializeOffsets();
    const times = index.serializeTimes();
    expect(offsets.length).toBe(3 * 8);
    const parsed = SegmentIndex.parse(1000n, 250, offsets, times, 1000);
    if (typeof parsed === "string") throw new Error(parsed);
    expect(parsed.floorPosition(1013n)).toBe(600);
    expect(parsed.maxTimestamp).toBe(90n);
    expect(SegmentIndex.parse(1000n, 250, offsets.subarray(1), times, 1000)).toMatch(/cut/);
    expect(SegmentIndex.parse(1000n, 250, offsets, times, 800)).toMatch(/outside/);
    const swapped = Buffer.concat([offsets.subarray(8, 16), offsets.subarray(0, 8)]);
    expect(SegmentIndex.parse(1000n, 250, swapped, Buffer.alloc(0), 1000)).toMatch(/does not increase/);
  });

  it("refuses an offset that does not fit a relative int32", () => {
    const index = new SegmentIndex(0n, 100);
    expect(index.canHold(0x7fffffffn)).toBe(true);
    expect(index.canHold(0x80000000n)).toBe(false);
    expect(() => index.addBatch(0, 100, 0x80000000n, 0n)).toThrow(/relative-offset-in-range/);
  });
});
