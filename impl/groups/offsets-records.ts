/**
 * The records of `__consumer_offsets`, in Kafka's own layouts, so Kafka's
 * tools (kafka-console-consumer with the offsets formatter, kafka-dump-log
 * --offsets-decoder) read this broker's log as they read Kafka's.
 *
 * Each record's key and value start with an INT16 version that says which
 * layout follows. Keys:
 *
 *   OffsetCommitKey (key versions 0-1; written as 1) =>
 *     group: STRING, topic: STRING, partition: INT32
 *   GroupMetadataKey (key version 2) =>
 *     group: STRING
 *
 * Values (a null value is a tombstone: the offset was deleted, the group is gone):
 *
 *   OffsetCommitValue (versions 0-4, flexible from 4; written as 3) =>
 *     offset: INT64
 *     leader_epoch: INT32 (3+, default -1)
 *     metadata: STRING
 *     commit_timestamp: INT64
 *     expire_timestamp: INT64 (1 only, default -1)
 *
 *   GroupMetadataValue (versions 0-4, flexible from 4; written as 3) =>
 *     protocol_type: STRING
 *     generation: INT32
 *     protocol: NULLABLE_STRING
 *     leader: NULLABLE_STRING
 *     current_state_timestamp: INT64 (2+, default -1)
 *     members: [
 *       member_id: STRING
 *       group_instance_id: NULLABLE_STRING (3+, default null)
 *       client_id: STRING
 *       client_host: STRING
 *       rebalance_timeout: INT32 (1+, default -1)
 *       session_timeout: INT32
 *       subscription: BYTES
 *       assignment: BYTES
 *     ]
 *
 * Version 3 is what Kafka writes when its inter-broker protocol allows no
 * newer; it is the newest layout every Kafka tool still reads.
 */
import { DecodeError, Reader } from "../protocol/reader.ts";
import {
  array,
  bytes,
  type Context,
  field,
  type Infer,
  type InferInput,
  int32,
  int64,
  string,
  struct,
} from "../protocol/schema.ts";
import { Writer } from "../protocol/writer.ts";

const offsetCommitKey = struct({
  group: field(string),
  topic: field(string),
  partition: field(int32),
});

const groupMetadataKey = struct({
  group: field(string),
});

const offsetCommitValue = struct({
  offset: field(int64),
  leaderEpoch: field(int32, { v: "3+", default: -1 }),
  metadata: field(string),
  commitTimestamp: field(int64),
  expireTimestamp: field(int64, { v: "1", default: -1n }),
});

const groupMetadataValue = struct({
  protocolType: field(string),
  generation: field(int32),
  protocol: field(string, { nullable: "0+" }),
  leader: field(string, { nullable: "0+" }),
  currentStateTimestamp: field(int64, { v: "2+", default: -1n }),
  members: field(
    array(
      struct({
        memberId: field(string),
        groupInstanceId: field(string, { v: "3+", nullable: "3+", default: null }),
        clientId: field(string),
        clientHost: field(string),
        rebalanceTimeout: field(int32, { v: "1+", default: -1 }),
        sessionTimeout: field(int32),
        subscription: field(bytes),
        assignment: field(bytes),
      }),
    ),
  ),
});

export type OffsetCommitValue = Infer<typeof offsetCommitValue>;
export type GroupMetadataValue = Infer<typeof groupMetadataValue>;
export type GroupMember = GroupMetadataValue["members"][number];

const offsetKeyVersion = 1;
const groupKeyVersion = 2;
const valueVersionWritten = 3;
const valueVersionMax = 4;
const firstFlexibleValueVersion = 4;

function contextOf(version: number, flexible: boolean): Context {
  return { version, flexible };
}

function versioned(version: number, write: (writer: Writer) => void): Buffer {
  const writer = new Writer().int16(version);
  write(writer);
  return writer.toBuffer();
}

export function offsetCommitKeyBytes(group: string, topic: string, partition: number): Buffer {
  return versioned(offsetKeyVersion, (writer) =>
    offsetCommitKey.write(writer, { group, topic, partition }, contextOf(offsetKeyVersion, false), false),
  );
}

export function groupMetadataKeyBytes(group: string): Buffer {
  return versioned(groupKeyVersion, (writer) =>
    groupMetadataKey.write(writer, { group }, contextOf(groupKeyVersion, false), false),
  );
}

export function offsetCommitValueBytes(value: InferInput<typeof offsetCommitValue>): Buffer {
  return versioned(valueVersionWritten, (writer) =>
    offsetCommitValue.write(writer, value, contextOf(valueVersionWritten, false), false),
  );
}

export function groupMetadataValueBytes(value: InferInput<typeof groupMetadataValue>): Buffer {
  return versioned(valueVersionWritten, (writer) =>
    groupMetadataValue.write(writer, value, contextOf(valueVersionWritten, false), false),
  );
}

export type OffsetsRecordKey =
  | { kind: "offset"; group: string; topic: string; partition: number }
  | { kind: "group"; group: string };

/** The key of a record read back from the log; a version this broker does not know is a DecodeError. */
export function decodeOffsetsRecordKey(key: Buffer): OffsetsRecordKey {
  const reader = new Reader(key);
  const version = reader.int16();
  if (version === 0 || version === 1) {
    const value = offsetCommitKey.read(reader, contextOf(version, false), false);
    return { kind: "offset", ...value };
  }
  if (version === groupKeyVersion) {
    return { kind: "group", ...groupMetadataKey.read(reader, contextOf(version, false), false) };
  }
  throw new DecodeError(`__consumer_offsets key version ${version} is unknown`);
}

function readValue<T>(
  bytes: Buffer,
  grammar: { read(reader: Reader, context: Context, nullable: boolean): T },
  what: string,
): T {
  const reader = new Reader(bytes);
  const version = reader.int16();
  if (version < 0 || version > valueVersionMax) {
    throw new DecodeError(`${what} value version ${version} is unknown`);
  }
  return grammar.read(reader, contextOf(version, version >= firstFlexibleValueVersion), false);
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  return readValue(value, offsetCommitValue, "OffsetCommit");
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  return readValue(value, groupMetadataValue, "GroupMetadata");
}
