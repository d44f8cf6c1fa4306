/**
 * The records of `__chronik_metadata`, in Kafka's KRaft shapes, so Kafka's
 * own tools (kafka-dump-log --cluster-metadata-decoder) can read our log.
 *
 * MetadataRecordValue =>
 *   frame_version: UNSIGNED_VARINT (always 1)
 *   record_type: UNSIGNED_VARINT
 *   record_version: UNSIGNED_VARINT
 *   body: the record's grammar below, in the flexible encoding
 *
 * Every record is flexible in every version: compact strings and arrays, and
 * a tagged-field buffer closing each struct.
 */
import { DecodeError, Reader } from "../protocol/reader.ts";
import {
  array,
  bool,
  type Context,
  field,
  type Infer,
  type InferInput,
  int8,
  int16,
  int32,
  int64,
  string,
  struct,
  uint16,
  uuid,
  type WireType,
} from "../protocol/schema.ts";
import { Writer } from "../protocol/writer.ts";

/**
 * RegisterBrokerRecord (type 0), versions 0-3.
 *
 *   broker_id: INT32
 *   is_migrating_zk_broker: BOOL (2+, default false)
 *   incarnation_id: UUID
 *   broker_epoch: INT64
 *   end_points: [name: STRING, host: STRING, port: UINT16, security_protocol: INT16]
 *   features: [name: STRING, min_supported_version: INT16, max_supported_version: INT16]
 *   rack: NULLABLE_STRING
 *   fenced: BOOL (default true)
 *   in_controlled_shutdown: BOOL (1+, default false)
 *   <tagged 3+> 0: log_dirs [UUID]
 */
export const registerBrokerRecord = struct({
  brokerId: field(int32),
  isMigratingZkBroker: field(bool, { v: "2+", default: false }),
  incarnationId: field(uuid),
  brokerEpoch: field(int64),
  endPoints: field(
    array(
      struct({
        name: field(string),
        host: field(string),
        port: field(uint16),
        securityProtocol: field(int16),
      }),
    ),
  ),
  features: field(
    array(
      struct({ name: field(string), minSupportedVersion: field(int16), maxSupportedVersion: field(int16) }),
    ),
  ),
  rack: field(string, { nullable: "0+" }),
  // A broker registers fenced and is unfenced only once it has caught up with the metadata log.
  fenced: field(bool, { default: true }),
  inControlledShutdown: field(bool, { v: "1+", default: false }),
  logDirs: field(array(uuid), { v: "3+", tag: 0, tagged: "3+" }),
});

/**
 * TopicRecord (type 2), version 0.
 *
 *   name: STRING
 *   topic_id: UUID
 */
export const topicRecord = struct({
  name: field(string),
  topicId: field(uuid),
});

/**
 * PartitionRecord (type 3), versions 0-2.
 *
 *   partition_id: INT32 (default -1)
 *   topic_id: UUID
 *   replicas: [INT32]                 (in preferred-leader order)
 *   isr: [INT32]
 *   removing_replicas: [INT32]
 *   adding_replicas: [INT32]
 *   leader: INT32 (default -1)        (-1: no leader)
 *   leader_epoch: INT32 (default -1)
 *   partition_epoch: INT32 (default -1)
 *   directories: [UUID] (1+)          (one per replica, in the order of replicas)
 *   <tagged 0+> 0: leader_recovery_state INT8 (default 0)
 *   <tagged 2+> 1: eligible_leader_replicas NULLABLE [INT32] (default null)
 *               2: last_known_elr NULLABLE [INT32] (default null)
 */
export const partitionRecord = struct({
  partitionId: field(int32, { default: -1 }),
  topicId: field(uuid),
  replicas: field(array(int32)),
  isr: field(array(int32)),
  removingReplicas: field(array(int32)),
  addingReplicas: field(array(int32)),
  leader: field(int32, { default: -1 }),
  leaderRecoveryState: field(int8, { tag: 0, tagged: "0+", default: 0 }),
  leaderEpoch: field(int32, { default: -1 }),
  partitionEpoch: field(int32, { default: -1 }),
  directories: field(array(uuid), { v: "1+" }),
  eligibleLeaderReplicas: field(array(int32), {
    v: "2+",
    nullable: "2+",
    tag: 1,
    tagged: "2+",
    default: null,
  }),
  lastKnownElr: field(array(int32), { v: "2+", nullable: "2+", tag: 2, tagged: "2+", default: null }),
});

/**
 * ConfigRecord (type 4), version 0.
 *
 *   resource_type: INT8
 *   resource_name: STRING
 *   name: STRING
 *   value: NULLABLE_STRING            (null: the override is removed)
 */
export const configRecord = struct({
  resourceType: field(int8),
  resourceName: field(string),
  name: field(string),
  value: field(string, { nullable: "0+" }),
});

/**
 * PartitionChangeRecord (type 5), versions 0-2. Only what changed is sent, so
 * everything but the partition's identity is tagged and defaults to "unchanged".
 *
 *   partition_id: INT32 (default -1)
 *   topic_id: UUID
 *   <tagged 0+> 0: isr NULLABLE [INT32] (default null)
 *               1: leader INT32 (default -2)   (-2: unchanged, -1: no leader)
 *               2: replicas NULLABLE [INT32] (default null)
 *               3: removing_replicas NULLABLE [INT32] (default null)
 *               4: adding_replicas NULLABLE [INT32] (default null)
 *               5: leader_recovery_state INT8 (default -1)
 *   <tagged 2+> 6: eligible_leader_replicas NULLABLE [INT32] (default null)
 *               7: last_known_elr NULLABLE [INT32] (default null)
 *   <tagged 1+> 8: directories NULLABLE [UUID] (default null)
 *
 * Fields are declared in tag order because tagged fields are written in
 * declaration order and KIP-482 requires ascending tags on the wire.
 */
export const partitionChangeRecord = struct({
  partitionId: field(int32, { default: -1 }),
  topicId: field(uuid),
  isr: field(array(int32), { nullable: "0+", tag: 0, tagged: "0+", default: null }),
  leader: field(int32, { tag: 1, tagged: "0+", default: -2 }),
  replicas: field(array(int32), { nullable: "0+", tag: 2, tagged: "0+", default: null }),
  removingReplicas: field(array(int32), { nullable: "0+", tag: 3, tagged: "0+", default: null }),
  addingReplicas: field(array(int32), { nullable: "0+", tag: 4, tagged: "0+", default: null }),
  leaderRecoveryState: field(int8, { tag: 5, tagged: "0+", default: -1 }),
  eligibleLeaderReplicas: field(array(int32), {
    v: "2+",
    nullable: "2+",
    tag: 6,
    tagged: "2+",
    default: null,
  }),
  lastKnownElr: field(array(int32), { v: "2+", nullable: "2+", tag: 7, tagged: "2+", default: null }),
  directories: field(array(uuid), { v: "1+", nullable: "1+", tag: 8, tagged: "1+", default: null }),
});

/**
 * FenceBrokerRecord (type 7) and UnfenceBrokerRecord (type 8), version 0.
 *
 *   id: INT32
 *   epoch: INT64                      (the broker epoch the change applies to)
 */
export const fenceBrokerRecord = struct({
  id: field(int32),
  epoch: field(int64),
});

export const unfenceBrokerRecord = struct({
  id: field(int32),
  epoch: field(int64),
});

/**
 * BrokerRegistrationChangeRecord (type 17), versions 0-2: a change to a
 * registered broker's standing, for the broker epoch it names.
 *
 *   broker_id: INT32
 *   broker_epoch: INT64
 *   <tagged 0+> 0: fenced INT8                 (-1 unfenced, 0 no change, 1 fenced)
 *   <tagged 1+> 1: in_controlled_shutdown INT8 (0 no change, 1 the broker is in controlled shutdown)
 *   <tagged 2+> 2: log_dirs [UUID]
 */
export const brokerRegistrationChangeRecord = struct({
  brokerId: field(int32),
  brokerEpoch: field(int64),
  fenced: field(int8, { tag: 0, tagged: "0+", default: 0 }),
  inControlledShutdown: field(int8, { v: "1+", tag: 1, tagged: "1+", default: 0 }),
  logDirs: field(array(uuid), { v: "2+", tag: 2, tagged: "2+", default: [] }),
});

/**
 * RemoveTopicRecord (type 9), version 0. Removes the topic's partitions too.
 *
 *   topic_id: UUID
 */
export const removeTopicRecord = struct({
  topicId: field(uuid),
});

/**
 * ProducerIdsRecord (type 15), version 0: the controller handed a block of
 * producer ids to a broker; the next block starts at next_producer_id.
 *
 *   broker_id: INT32                  (the broker that asked)
 *   broker_epoch: INT64 (default -1)  (the epoch of its registration)
 *   next_producer_id: INT64           (the first id of the next block: this block ends before it)
 */
export const producerIdsRecord = struct({
  brokerId: field(int32),
  brokerEpoch: field(int64, { default: -1n }),
  nextProducerId: field(int64),
});

/**
 * NoOpRecord (type 20), version 0: no fields. It changes nothing in the image,
 * so a controller can commit a record in its own epoch without deciding anything.
 */
export const noOpRecord = struct({});

/** Kafka's only frame version for records in the metadata log (0 appears only in snapshots). */
const frameVersion = 1;

/** Record type number and highest version, by record name. Every record starts at version 0. */
export const metadataRecordDefinitions = {
  RegisterBrokerRecord: { recordType: 0, versionMax: 3, grammar: registerBrokerRecord },
  TopicRecord: { recordType: 2, versionMax: 0, grammar: topicRecord },
  PartitionRecord: { recordType: 3, versionMax: 2, grammar: partitionRecord },
  ConfigRecord: { recordType: 4, versionMax: 0, grammar: configRecord },
  PartitionChangeRecord: { recordType: 5, versionMax: 2, grammar: partitionChangeRecord },
  FenceBrokerRecord: { recordType: 7, versionMax: 0, grammar: fenceBrokerRecord },
  UnfenceBrokerRecord: { recordType: 8, versionMax: 0, grammar: unfenceBrokerRecord },
  RemoveTopicRecord: { recordType: 9, versionMax: 0, grammar: removeTopicRecord },
  ProducerIdsRecord: { recordType: 15, versionMax: 0, grammar: producerIdsRecord },
  BrokerRegistrationChangeRecord: { recordType: 17, versionMax: 2, grammar: brokerRegistrationChangeRecord },
  NoOpRecord: { recordType: 20, versionMax: 0, grammar: noOpRecord },
} as const;

type Definitions = typeof metadataRecordDefinitions;
export type MetadataRecordName = keyof Definitions;

/** A decoded record: every field present, absent ones at their defaults. */
export type MetadataRecord = {
  [Name in MetadataRecordName]: { type: Name; version: number; value: Infer<Definitions[Name]["grammar"]> };
}[MetadataRecordName];

/** A record to encode: fields with a default may be left out. Every MetadataRecord is one. */
export type MetadataRecordInput = {
  [Name in MetadataRecordName]: {
    type: Name;
    version: number;
    value: InferInput<Definitions[Name]["grammar"]>;
  };
}[MetadataRecordName];

type AnyDefinition = { recordType: number; versionMax: number; grammar: WireType<unknown, unknown> };

const definitionsByRecordType = new Map<number, [MetadataRecordName, AnyDefinition]>(
  Object.entries(metadataRecordDefinitions).map(([name, definition]) => [
    definition.recordType,
    [name as MetadataRecordName, definition as AnyDefinition],
  ]),
);

function contextFor(version: number): Context {
  return { version, flexible: true };
}

export function encodeMetadataRecord(record: MetadataRecordInput): Buffer {
  const definition = metadataRecordDefinitions[record.type] as AnyDefinition;
  // Writing a version we cannot read back would poison the log for every node.
  if (!Number.isInteger(record.version) || record.version < 0 || record.version > definition.versionMax) {
    throw new Error(`${record.type} has no version ${record.version} (versions 0-${definition.versionMax})`);
  }
  const writer = new Writer()
    .unsignedVarint(frameVersion)
    .unsignedVarint(definition.recordType)
    .unsignedVarint(record.version);
  definition.grammar.write(writer, record.value, contextFor(record.version), false);
  return writer.toBuffer();
}

export function decodeMetadataRecord(bytes: Buffer): MetadataRecord {
  const reader = new Reader(bytes);
  const frame = reader.unsignedVarint();
  if (frame !== frameVersion)
    throw new DecodeError(`metadata record frame version ${frame} is not ${frameVersion}`);
  const recordType = reader.unsignedVarint();
  const entry = definitionsByRecordType.get(recordType);
  if (!entry) throw new DecodeError(`unknown metadata record type ${recordType}`);
  const [type, definition] = entry;
  const version = reader.unsignedVarint();
  if (version > definition.versionMax) {
    throw new DecodeError(`${type} version ${version} is newer than ${definition.versionMax}`);
  }
  const value = definition.grammar.read(reader, contextFor(version), false);
  // A record is one whole log-record value; leftover bytes mean we misread it.
  if (reader.remaining !== 0) {
    throw new DecodeError(`${type} version ${version} has ${reader.remaining} trailing bytes`);
  }
  return { type, version, value } as MetadataRecord;
}
