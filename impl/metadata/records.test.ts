import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Codec,
  carried,
  expectEveryTruncationRefused,
  expectRoundTrip,
  expectTruncationRefused,
  utf8,
  type Versioned,
  versioned,
  wire,
} from "../protocol/apis/codec-test-support.ts";
import { DecodeError } from "../protocol/reader.ts";
import {
  decodeMetadataRecord,
  encodeMetadataRecord,
  type MetadataRecord,
  type MetadataRecordInput,
  metadataRecordDefinitions,
} from "./records.ts";

const topicId = "0123456789abcdef0123456789abcdef";
const directoryId = "fedcba9876543210fedcba9876543210";

/** Metadata records carry their version, and decoding refuses trailing bytes itself. */
const metadataRecords: Codec<MetadataRecordInput, MetadataRecord> = {
  encode: encodeMetadataRecord,
  decode: decodeMetadataRecord,
};

/** A record of `type` in each version up to `versionMax`, with values in the fields a version cannot carry. */
function recordIn<Type extends MetadataRecord["type"]>(
  type: Type,
  versionMax: number,
  valueIn: (version: number) => fc.Arbitrary<Extract<MetadataRecord, { type: Type }>["value"]>,
): fc.Arbitrary<Versioned<MetadataRecord>> {
  return versioned({ versionMin: 0, versionMax }, (version) =>
    valueIn(version).map((value) => ({ type, version, value }) as MetadataRecord),
  );
}

/** Each record type in each of its versions. */
const anyMetadataRecord = fc.oneof(
  recordIn("RegisterBrokerRecord", 3, (version) =>
    fc.record({
      brokerId: wire.int32,
      isMigratingZkBroker: carried(version >= 2, fc.boolean(), false),
      incarnationId: wire.uuid,
      brokerEpoch: wire.int64,
      endPoints: wire.list(
        fc.record({ name: wire.text, host: wire.text, port: wire.uint16, securityProtocol: wire.int16 }),
      ),
      features: wire.list(
        fc.record({ name: wire.text, minSupportedVersion: wire.int16, maxSupportedVersion: wire.int16 }),
      ),
      rack: wire.nullableText,
      fenced: fc.boolean(),
      inControlledShutdown: carried(version >= 1, fc.boolean(), false),
      logDirs: carried(version >= 3, wire.list(wire.uuid), []),
    }),
  ),
  recordIn("TopicRecord", 0, () => fc.record({ name: wire.text, topicId: wire.uuid })),
  recordIn("PartitionRecord", 2, (version) =>
    fc.record({
      partitionId: wire.int32,
      topicId: wire.uuid,
      replicas: wire.list(wire.int32),
      isr: wire.list(wire.int32),
      removingReplicas: wire.list(wire.int32),
      addingReplicas: wire.list(wire.int32),
      leader: wire.int32,
      leaderRecoveryState: wire.int8,
      leaderEpoch: wire.int32,
      partitionEpoch: wire.int32,
      directories: carried(version >= 1, wire.list(wire.uuid), []),
      eligibleLeaderReplicas: carried(version >= 2, wire.nullable(wire.list(wire.int32)), null),
      lastKnownElr: carried(version >= 2, wire.nullable(wire.list(wire.int32)), null),
    }),
  ),
  recordIn("ConfigRecord", 0, () =>
    fc.record({
      resourceType: wire.int8,
      resourceName: wire.text,
      name: wire.text,
      value: wire.nullableText,
    }),
  ),
  recordIn("PartitionChangeRecord", 2, (version) =>
    fc.record({
      partitionId: wire.int32,
      topicId: wire.uuid,
      isr: wire.nullable(wire.list(wire.int32)),
      leader: wire.int32,
      replicas: wire.nullable(wire.list(wire.int32)),
      removingReplicas: wire.nullable(wire.list(wire.int32)),
      addingReplicas: wire.nullable(wire.list(wire.int32)),
      leaderRecoveryState: wire.int8,
      eligibleLeaderReplicas: carried(version >= 2, wire.nullable(wire.list(wire.int32)), null),
      lastKnownElr: carried(version >= 2, wire.nullable(wire.list(wire.int32)), null),
      directories: carried(version >= 1, wire.nullable(wire.list(wire.uuid)), null),
    }),
  ),
  recordIn("FenceBrokerRecord", 0, () => fc.record({ id: wire.int32, epoch: wire.int64 })),
  recordIn("UnfenceBrokerRecord", 0, () => fc.record({ id: wire.int32, epoch: wire.int64 })),
  recordIn("RemoveTopicRecord", 0, () => fc.record({ topicId: wire.uuid })),
  recordIn("ProducerIdsRecord", 0, () =>
    fc.record({ brokerId: wire.int32, brokerEpoch: wire.int64, nextProducerId: wire.int64 }),
  ),
  recordIn("BrokerRegistrationChangeRecord", 2, (version) =>
    fc.record({
      brokerId: wire.int32,
      brokerEpoch: wire.int64,
      fenced: wire.int8,
      inControlledShutdown: carried(version >= 1, wire.int8, 0),
      logDirs: carried(version >= 2, wire.list(wire.uuid), []),
    }),
  ),
  recordIn("NoOpRecord", 0, () => fc.constant({})),
);

const topicRecordHex =
  "01" + // frame version
  "02" + // record type TopicRecord
  "00" + // record version
  ("04" + utf8("foo")) + // name (compact, length + 1)
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

const producerIdsRecordHex =
  "01" + // frame version
  "0f" + // record type ProducerIdsRecord (15)
  "00" + // record version
  "00000002" + // broker_id 2
  "0000000000000005" + // broker_epoch 5
  "0000000000000bb8" + // next_producer_id 3000: the block given was 2000-2999
  "00"; // tagged fields

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

  it("encodes a ProducerIdsRecord byte for byte", () => {
    const record: MetadataRecord = {
      type: "ProducerIdsRecord",
      version: 0,
      value: { brokerId: 2, brokerEpoch: 5n, nextProducerId: 3000n },
    };
    expect(encodeMetadataRecord(record).toString("hex")).toBe(producerIdsRecordHex);
    expect(decodeMetadataRecord(Buffer.from(producerIdsRecordHex, "hex"))).toEqual(record);
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
      ProducerIdsRecord: 15,
      BrokerRegistrationChangeRecord: 17,
      NoOpRecord: 20,
    });
  });

  it("round-trips every record type in every version", () => {
    fc.assert(fc.property(anyMetadataRecord, (record) => expectRoundTrip(metadataRecords, record)));
  });

  it("refuses unknown record types, unknown versions and other frame versions", () => {
    const decode = (hex: string) => () => decodeMetadataRecord(Buffer.from(hex, "hex"));
    expect(decode("01" + "06" + "00" + "00")).toThrow(DecodeError); // type 6: not a record Chronik knows
    expect(decode("01" + "63" + "00" + "00")).toThrow(DecodeError); // type 99
    expect(decode("01" + "02" + "01" + ("04" + utf8("foo")) + topicId + "00")).toThrow(DecodeError); // TopicRecord v1
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
      producerIdsRecordHex,
    ]) {
      expectEveryTruncationRefused(metadataRecords, hex);
    }
    fc.assert(
      fc.property(anyMetadataRecord, fc.nat(), (record, cut) =>
        expectTruncationRefused(metadataRecords, record.sent, cut),
      ),
    );
  });

  it("will not write a version it could not read back", () => {
    const record: MetadataRecord = { type: "TopicRecord", version: 1, value: { name: "foo", topicId } };
    expect(() => encodeMetadataRecord(record)).toThrow(/no version 1/);
  });
});
