import { describe, expect, it } from "vitest";
import {
  groupMetadataKeyBytes,
  groupMetadataValueBytes,
  offsetCommitKeyBytes,
  offsetCommitValueBytes,
} from "./offsets-records.ts";
import { OffsetsPartitionState } from "./offsets-state.ts";

function offsetRecord(group: string, topic: string, partition: number, offset: bigint | null) {
  return {
    key: offsetCommitKeyBytes(group, topic, partition),
    value:
      offset === null
        ? null
        : offsetCommitValueBytes({ offset, leaderEpoch: 4, metadata: "m", commitTimestamp: 1000n }),
  };
}

const emptyGroup = {
  protocolType: "consumer",
  generation: 3,
  protocol: null,
  leader: null,
  currentStateTimestamp: 10n,
  members: [],
};

describe("the state folded from a __consumer_offsets partition", () => {
  it("keeps the last committed offset of each topic partition", () => {
    const state = new OffsetsPartitionState();
    state.apply(offsetRecord("g", "t", 0, 5n));
    state.apply(offsetRecord("g", "t", 0, 9n));
    state.apply(offsetRecord("g", "t", 1, 2n));
    expect(state.offsetOf("g", "t", 0)).toEqual({
      topic: "t",
      partition: 0,
      offset: 9n,
      leaderEpoch: 4,
      metadata: "m",
      commitTimestampMs: 1000n,
    });
    expect(state.offsetsOf("g").map(({ partition, offset }) => [partition, offset])).toEqual([
      [0, 9n],
      [1, 2n],
    ]);
  });

  it("removes an offset on its tombstone, and the group's entry with its last offset", () => {
    const state = new OffsetsPartitionState();
    state.apply(offsetRecord("g", "t", 0, 5n));
    state.apply(offsetRecord("g", "t", 0, null));
    expect(state.offsetOf("g", "t", 0)).toBeUndefined();
    expect(state.hasOffsets("g")).toBe(false);
    expect(state.groupIds()).toEqual([]);
  });

  it("keeps the last group state and forgets it on the group's tombstone", () => {
    const state = new OffsetsPartitionState();
    state.apply({ key: groupMetadataKeyBytes("g"), value: groupMetadataValueBytes(emptyGroup) });
    expect(state.groups.get("g")?.generation).toBe(3);
    state.apply({
      key: groupMetadataKeyBytes("g"),
      value: groupMetadataValueBytes({ ...emptyGroup, generation: 4 }),
    });
    expect(state.groups.get("g")?.generation).toBe(4);
    state.apply({ key: groupMetadataKeyBytes("g"), value: null });
    expect(state.groups.has("g")).toBe(false);
  });

  it("lists a group known only by its offsets, or only by its state, once", () => {
    const state = new OffsetsPartitionState();
    state.apply(offsetRecord("only-offsets", "t", 0, 1n));
    state.apply({ key: groupMetadataKeyBytes("only-state"), value: groupMetadataValueBytes(emptyGroup) });
    state.apply(offsetRecord("both", "t", 0, 1n));
    state.apply({ key: groupMetadataKeyBytes("both"), value: groupMetadataValueBytes(emptyGroup) });
    expect(state.groupIds().sort()).toEqual(["both", "only-offsets", "only-state"]);
  });

  it("refuses a record without a key", () => {
    expect(() => new OffsetsPartitionState().apply({ key: null, value: null })).toThrow(/no key/);
  });
});
