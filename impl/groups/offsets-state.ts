/**
 * What one `__consumer_offsets` partition holds, folded from its records in
 * log order: each group's stored state (the last GroupMetadataValue) and its
 * committed offsets (the last OffsetCommitValue per topic partition). A null
 * value is a tombstone and removes what its key named. The coordinator builds
 * this when it starts leading the partition and keeps it current as its own
 * appends succeed, so a new coordinator rebuilds exactly what the old one had
 * acknowledged.
 */
import type { DecodedRecord } from "../protocol/records.ts";
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsRecordKey,
  type GroupMetadataValue,
} from "./offsets-records.ts";

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: bigint;
}

function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class OffsetsPartitionState {
  /** Stored group state by group id: the group as its coordinator last wrote it. */
  readonly groups = new Map<string, GroupMetadataValue>();
  /** Committed offsets by group id, then topic and partition. */
  private readonly offsets = new Map<
    string,
    Map<string, { topic: string; partition: number } & CommittedOffset>
  >();

  /** Applies one record read from the log or just appended; a key it cannot read is an error. */
  apply(record: Pick<DecodedRecord, "key" | "value">): void {
    if (record.key === null) throw new Error("a __consumer_offsets record has no key");
    const key = decodeOffsetsRecordKey(record.key);
    if (key.kind === "group") {
      if (record.value === null) this.groups.delete(key.group);
      else this.groups.set(key.group, decodeGroupMetadataValue(record.value));
      return;
    }
    if (record.value === null) {
      this.removeOffset(key.group, key.topic, key.partition);
      return;
    }
    const value = decodeOffsetCommitValue(record.value);
    this.commit(key.group, key.topic, key.partition, {
      offset: value.offset,
      leaderEpoch: value.leaderEpoch,
      metadata: value.metadata,
      commitTimestampMs: value.commitTimestamp,
    });
  }

  commit(group: string, topic: string, partition: number, committed: CommittedOffset): void {
    let ofGroup = this.offsets.get(group);
    if (ofGroup === undefined) {
      ofGroup = new Map();
      this.offsets.set(group, ofGroup);
    }
    ofGroup.set(topicPartitionKey(topic, partition), { topic, partition, ...committed });
  }

  removeOffset(group: string, topic: string, partition: number): void {
    const ofGroup = this.offsets.get(group);
    if (ofGroup === undefined) return;
    ofGroup.delete(topicPartitionKey(topic, partition));
    if (ofGroup.size === 0) this.offsets.delete(group);
  }

  offsetOf(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(group)?.get(topicPartitionKey(topic, partition));
  }

  /** Every committed offset of the group, as [topic, partition, offset]. */
  offsetsOf(group: string): Array<{ topic: string; partition: number } & CommittedOffset> {
    return [...(this.offsets.get(group)?.values() ?? [])];
  }

  hasOffsets(group: string): boolean {
    return this.offsets.has(group);
  }

  /** Every group this partition knows: with stored state, committed offsets, or both. */
  groupIds(): string[] {
    return [...new Set([...this.groups.keys(), ...this.offsets.keys()])];
  }
}
