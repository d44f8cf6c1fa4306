import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DecodeError } from "../protocol/reader.ts";
import {
  decodeMetadataRecord,
  encodeMetadataRecord,
  type MetadataRecord,
  metadataRecordDefinitions,
} from "./records.ts";

const text = (value: string) => Buffer.from(value, "utf8").toString("hex");
const topicId = "0123456789abcdef0123456789abcdef";
const directoryId = "fedcba9876543210fedcba9876543210";

/** The arbitrary in versions from `first` on; the grammar's default before, where the field is absent. */
function from<T>(version: number, first: number, arbitrary: fc.Arbitrary<T>, absent: T): fc.Arbitrary<T> {
  return version >= first ? arbitrary : fc.constant(absent);
}

const anyString = fc.string({ unit: "grapheme", maxLength: 20 });
const anyInt8 = fc.integer({ min: -128, max: 127 });
const anyInt16 = fc.integer({ min: -32_768, max: 32_767 });
const anyInt32 = fc.integer({ min: -2_147_483_648, max: 2_147_483_647 });
const anyInt64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const anyUuid = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((bytes) => Buffer.from(bytes).toString("hex"));
const anyBrokerIds = fc.array(anyInt32, { maxLength: 5 });

/** Each record type in each of its versions, with the fields that version lacks at their defaults. */
const anyMetadataRecord: fc.Arbitrary<MetadataRecord> = fc.oneof(
  fc.integer({ min: 0, max: 3 }).chain((version) =>
    fc
      .record({
        brokerId: anyInt32,
        isMigratingZkBroker: from(version, 2, fc.boolean(), false),
        incarnationId: anyUuid,
        brokerEpoch: anyInt64,
        endPoints: fc.array(
          fc.record({ name: anyString, host: anyString, port: fc.nat(65_535), securityProtocol: anyInt16 }),
        ),
        features: fc.array(
          fc.record({ name: anyString, minSupportedVersion: anyInt16, maxSupportedVersion: anyInt16 }),
        ),
        rack: fc.option(anyString),
        fenced: fc.boolean(),
        inControlledShutdown: from(version, 1, fc.boolean(), false),
        logDirs: from(version, 3, fc.array(anyUuid), []),
      })
      .map((value) => ({ type: "RegisterBrokerRecord" as const, version, value })),
  ),
  fc
    .record({ name: anyString, topicId: anyUuid })
    .map((value) => ({ type: "TopicRecord" as const, version: 0, value })),
  fc.integer({ min: 0, max: 2 }).chain((version) =>
    fc
      .record({
        partitionId: anyInt32,
        topicId: anyUuid,
        replicas: anyBrokerIds,
        isr: anyBrokerIds,
        removingReplicas: anyBrokerIds,
        addingReplicas: anyBrokerIds,
        leader: anyInt32,
        leaderRecoveryState: anyInt8,
        leaderEpoch: anyInt32,
        partitionEpoch: anyInt32,
        directories: from(version, 1, fc.array(anyUuid), []),
        eligibleLeaderReplicas: from(version, 2, fc.option(anyBrokerIds), null),
        lastKnownElr: from(version, 2, fc.option(anyBrokerIds), null),
      })
      .map((value) => ({ type: "PartitionRecord" as const, version, value })),
  ),
  fc
    .record({ resourceType: anyInt8, resourceName: anyString, name: anyString, value: fc.option(anyString) })
    .map((value) => ({ type: "ConfigRecord" as const, version: 0, value })),
  fc.integer({ min: 0, max: 2 }).chain((version) =>
    fc
      .record({
        partitionId: anyInt32,
        topicId: anyUuid,
        isr: fc.option(anyBrokerIds),
        leader: anyInt32,
        replicas: fc.option(anyBrokerIds),
        removingReplicas: fc.option(anyBrokerIds),
        addingReplicas: fc.option(anyBrokerIds),
        leaderRecoveryState: anyInt8,
        eligibleLeaderReplicas: from(version, 2, fc.option(anyBrokerIds), null),
        lastKnownElr: from(version, 2, fc.option(anyBrokerIds), null),
        directories: from(version, 1, fc.option(fc.array(anyUuid)), null),
      })
      .map((value) => ({ type: "PartitionChangeRecord" as const, version, value })),
  ),
  fc
    .record({ id: anyInt32, epoch: anyInt64 })
    .map((value) => ({ type: "FenceBrokerRecord" as const, version: 0, value })),
  fc
    .record({ id: anyInt32, epoch: anyInt64 })
    .map((value) => ({ type: "UnfenceBrokerRecord" as const, version: 0, value })),
  fc.record({ topicId: anyUuid }).map((value) => ({ type: "RemoveTopicRecord" as const, version: 0, value })),
  fc.constant({ type: "NoOpRecord" as const, version: 0, value: {} }),
);

const topicRecordHex =
  "01" + // frame version
  "02" + // record type TopicRecord
  "00" + // record version
  ("04" + text("foo")) + // name (compact, length + 1)
  topicId + // topic_id
  "00"; // tagged fields

const partitionRecordVersion0Hex =
  "01" + // frame version
  "03" + // record type PartitionRecord
  "00" + // record version
  "00000000" + // partition_id
  topicId + // topic_id
  ("04" + "00000001" + "00000002" + "00000003") + // replicas [1, 2, 3]
  ("03" + "00000001" + "00000002") + // isr [1, 2]
  "01" + // removing_replicas []
  "01" + // adding_replicas []
  "00000001" + // leader
  "00000000" + // leader_epoch
  "00000000" + // partition_epoch
  "00"; // tagged fields: leader_recovery_state is at its default and not sent

const partitionRecordVersion2Hex =
  "01" + // frame version
  "03" + // record type PartitionRecord
  "02" + // record version
  "00000001" + // partition_id
  topicId + // topic_id
  ("02" + "00000001") + // replicas [1]
  ("02" + "00000001") + // isr [1]
  "01" + // removing_replicas []
  "01" + // adding_replicas []
  "00000001" + // leader
  "00000003" + // leader_epoch
  "00000004" + // partition_epoch
  ("02" + directoryId) + // directories, one per replica
  "02" + // tagged fields: 2
  ("00" + "01" + "01") + // tag 0, 1 byte: leader_recovery_state 1 (recovering)
  ("01" + "05" + ("02" + "00000002")); // tag 1, 5 bytes: eligible_leader_replicas [2]

const partitionChangeRecordHex =
  "01" + // frame version
  "05" + // record type PartitionChangeRecord
  "02" + // record version
  "00000000" + // partition_id
  topicId + // topic_id
  "04" + // tagged fields: 4, in ascending tag order
  ("00" + "05" + ("02" + "00000002")) + // tag 0, 5 bytes: isr [2]
  ("01" + "04" + "00000002") + // tag 1, 4 bytes: leader 2
  ("06" + "01" + "01") + // tag 6, 1 byte: eligible_leader_replicas [] (empty, not unchanged)
  ("08" + "11" + ("02" + directoryId)); // tag 8, 17 bytes: directories

describe("metadata records", () => {
  it("encodes a TopicRecord byte for byte", () => {
    const record: MetadataRecord = { type: "TopicRecord", version: 0, value: { name: "foo", topicId } };
    expect(encodeMetadataRecord(record).toString("hex")).toBe(topicRecordHex);
    expect(decodeMetadataRecord(Buffer.from(topicRecordHex, "hex"))).toEqual(record);
  });

  it("encodes a v0 PartitionRecord byte for byte", () => {
    const value = {
      partitionId: 0,
      topicId,
      replicas: [1, 2, 3],
      isr: [1, 2],
      removingReplicas: [],
      addingReplicas: [],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
    };
    expect(encodeMetadataRecord({ type: "PartitionRecord", version: 0, value }).toString("hex")).toBe(
      partitionRecordVersion0Hex,
    );
    expect(decodeMetadataRecord(Buffer.from(partitionRecordVersion0Hex, "hex"))).toEqual({
      type: "PartitionRecord",
      version: 0,
      value: {
        ...value,
        leaderRecoveryState: 0,
        directories: [],
        eligibleLeaderReplicas: null,
        lastKnownElr: null,
      },
    });
  });

  it("encodes a v2 PartitionRecord with directories and tagged fields", () => {
    const record: MetadataRecord = {
      type: "PartitionRecord",
      version: 2,
      value: {
        partitionId: 1,
        topicId,
        replicas: [1],
        isr: [1],
        removingReplicas: [],
        addingReplicas: [],
        leader: 1,
        leaderRecoveryState: 1,
        leaderEpoch: 3,
        partitionEpoch: 4,
        directories: [directoryId],
        eligibleLeaderReplicas: [2],
        lastKnownElr: null,
      },
    };
    expect(encodeMetadataRecord(record).toString("hex")).toBe(partitionRecordVersion2Hex);
    expect(decodeMetadataRecord(Buffer.from(partitionRecordVersion2Hex, "hex"))).toEqual(record);
  });

  it("sends only what changed in a PartitionChangeRecord, tags ascending", () => {
    const record = {
      type: "PartitionChangeRecord" as const,
      version: 2,
      value: {
        partitionId: 0,
        topicId,
        isr: [2],
        leader: 2,
        eligibleLeaderReplicas: [],
        directories: [directoryId],
      },
    };
    expect(encodeMetadataRecord(record).toString("hex")).toBe(partitionChangeRecordHex);
    expect(decodeMetadataRecord(Buffer.from(partitionChangeRecordHex, "hex"))).toEqual({
      ...record,
      value: {
        ...record.value,
        replicas: null,
        removingReplicas: null,
        addingReplicas: null,
        leaderRecoveryState: -1,
        lastKnownElr: null,
      },
    });
  });

  it("keeps the record type numbers Kafka assigns", () => {
    const recordTypes = Object.fromEntries(
      Object.entries(metadataRecordDefinitions).map(([name, definition]) => [name, definition.recordType]),
    );
    expect(recordTypes).toEqual({
      RegisterBrokerRecord: 0,
      TopicRecord: 2,
      PartitionRecord: 3,
      ConfigRecord: 4,
      PartitionChangeRecord: 5,
      FenceBrokerRecord: 7,
      UnfenceBrokerRecord: 8,
      RemoveTopicRecord: 9,
      NoOpRecord: 20,
    });
  });

  it("round-trips every record type in every version", () => {
    fc.assert(
      fc.property(anyMetadataRecord, (record) => {
        expect(decodeMetadataRecord(encodeMetadataRecord(record))).toEqual(record);
      }),
    );
  });

  it("refuses unknown record types, unknown versions and other frame versions", () => {
    const decode = (hex: string) => () => decodeMetadataRecord(Buffer.from(hex, "hex"));
    expect(decode("01" + "06" + "00" + "00")).toThrow(DecodeError); // type 6: not a record Chronik knows
    expect(decode("01" + "63" + "00" + "00")).toThrow(DecodeError); // type 99
    expect(decode("01" + "02" + "01" + ("04" + text("foo")) + topicId + "00")).toThrow(DecodeError); // TopicRecord v1
    expect(decode("01" + "03" + "03")).toThrow(DecodeError); // PartitionRecord v3
    expect(decode("00" + topicRecordHex.slice(2))).toThrow(DecodeError); // frame version 0, snapshots only
    expect(decode(topicRecordHex + "00")).toThrow(DecodeError); // a trailing byte
  });

  it("refuses every truncation of a record with a DecodeError", () => {
    for (const hex of [
      topicRecordHex,
      partitionRecordVersion0Hex,
      partitionRecordVersion2Hex,
      partitionChangeRecordHex,
    ]) {
      const bytes = Buffer.from(hex, "hex");
      for (let length = 0; length < bytes.length; length++) {
        const truncated = bytes.subarray(0, length);
        expect(() => decodeMetadataRecord(truncated)).toThrow(DecodeError);
      }
    }
  });

  it("will not write a version it could not read back", () => {
    const record: MetadataRecord = { type: "TopicRecord", version: 1, value: { name: "foo", topicId } };
    expect(() => encodeMetadataRecord(record)).toThrow(/no version 1/);
  });
});
