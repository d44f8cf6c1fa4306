import { describe, expect, it } from "vitest";
import { DecodeError } from "../protocol/reader.ts";
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsRecordKey,
  groupMetadataKeyBytes,
  groupMetadataValueBytes,
  offsetCommitKeyBytes,
  offsetCommitValueBytes,
} from "./offsets-records.ts";

/** A classic STRING: INT16 length, then the UTF-8 bytes, in hex. */
function text(value: string): string {
  const bytes = Buffer.from(value, "utf8");
  return bytes.length.toString(16).padStart(4, "0") + bytes.toString("hex");
}

const hex = (buffer: Buffer) => buffer.toString("hex");

describe("__consumer_offsets keys", () => {
  it("writes an offset key as OffsetCommitKey version 1", () => {
    expect(hex(offsetCommitKeyBytes("g", "t", 1))).toBe("0001" + text("g") + text("t") + "00000001");
  });

  it("writes a group key as GroupMetadataKey version 2", () => {
    expect(hex(groupMetadataKeyBytes("g"))).toBe("0002" + text("g"));
  });

  it("reads offset keys of versions 0 and 1 and group keys of version 2", () => {
    const body = text("group") + text("topic") + "00000003";
    const expected = { kind: "offset", group: "group", topic: "topic", partition: 3 };
    expect(decodeOffsetsRecordKey(Buffer.from("0000" + body, "hex"))).toEqual(expected);
    expect(decodeOffsetsRecordKey(Buffer.from("0001" + body, "hex"))).toEqual(expected);
    expect(decodeOffsetsRecordKey(Buffer.from("0002" + text("group"), "hex"))).toEqual({
      kind: "group",
      group: "group",
    });
  });

  it("refuses a key version it does not know", () => {
    expect(() => decodeOffsetsRecordKey(Buffer.from("0003" + text("g"), "hex"))).toThrow(DecodeError);
  });

  it("refuses a key cut short", () => {
    expect(() => decodeOffsetsRecordKey(Buffer.from("0001" + text("g"), "hex"))).toThrow(DecodeError);
  });
});

describe("__consumer_offsets values", () => {
  it("writes a committed offset as OffsetCommitValue version 3", () => {
    const value = offsetCommitValueBytes({
      offset: 5n,
      leaderEpoch: 2,
      metadata: "",
      commitTimestamp: 1000n,
    });
    expect(hex(value)).toBe("0003" + "0000000000000005" + "00000002" + text("") + "00000000000003e8");
  });

  it("reads version 1 with its expire timestamp and no leader epoch", () => {
    const bytes = Buffer.from(
      "0001" + "0000000000000005" + text("m") + "00000000000003e8" + "00000000000007d0",
      "hex",
    );
    expect(decodeOffsetCommitValue(bytes)).toEqual({
      offset: 5n,
      leaderEpoch: -1,
      metadata: "m",
      commitTimestamp: 1000n,
      expireTimestamp: 2000n,
    });
  });

  it("reads the flexible version 4: compact strings and tagged fields", () => {
    const bytes = Buffer.from(
      "0004" + "0000000000000005" + "00000002" + "01" + "00000000000003e8" + "00",
      "hex",
    );
    expect(decodeOffsetCommitValue(bytes)).toEqual({
      offset: 5n,
      leaderEpoch: 2,
      metadata: "",
      commitTimestamp: 1000n,
      expireTimestamp: -1n,
    });
  });

  it("refuses a value version newer than 4", () => {
    expect(() => decodeOffsetCommitValue(Buffer.from("0005", "hex"))).toThrow(DecodeError);
  });

  const group = {
    protocolType: "consumer",
    generation: 1,
    protocol: "range",
    leader: "m1",
    currentStateTimestamp: 7n,
    members: [
      {
        memberId: "m1",
        groupInstanceId: null,
        clientId: "c",
        clientHost: "h",
        rebalanceTimeout: 300_000,
        sessionTimeout: 10_000,
        subscription: Buffer.from([1, 2]),
        assignment: Buffer.alloc(0),
      },
    ],
  };
  const groupHex =
    "0003" +
    text("consumer") +
    "00000001" +
    text("range") +
    text("m1") +
    "0000000000000007" +
    "00000001" + // one member
    text("m1") +
    "ffff" + // group_instance_id null
    text("c") +
    text("h") +
    "000493e0" + // rebalance_timeout 300000
    "00002710" + // session_timeout 10000
    "00000002" +
    "0102" + // subscription
    "00000000"; // assignment, empty

  it("writes group state as GroupMetadataValue version 3", () => {
    expect(hex(groupMetadataValueBytes(group))).toBe(groupHex);
  });

  it("reads group state back as written", () => {
    expect(decodeGroupMetadataValue(Buffer.from(groupHex, "hex"))).toEqual(group);
  });

  it("reads version 0 without rebalance timeout, state timestamp or instance id", () => {
    const bytes = Buffer.from(
      "0000" +
        text("consumer") +
        "00000002" +
        "ffff" + // protocol null: an empty group
        "ffff" + // leader null
        "00000000",
      "hex",
    );
    expect(decodeGroupMetadataValue(bytes)).toEqual({
      protocolType: "consumer",
      generation: 2,
      protocol: null,
      leader: null,
      currentStateTimestamp: -1n,
      members: [],
    });
  });
});
