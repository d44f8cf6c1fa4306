/**
 * `__consumer_offsets`: the internal topic that holds committed offsets and
 * group state. A group lives in one of its partitions, chosen from the group
 * id as Kafka chooses it, and the leader of that partition is the group's
 * coordinator; so every node, and every Kafka client that computes it, agrees
 * on where a group is without asking anyone.
 */

export const offsetsTopicName = "__consumer_offsets";

/**
 * Java's String.hashCode over UTF-16 code units, in 32-bit arithmetic: Kafka
 * places groups by it, and a group must land on the same partition here.
 */
export function javaStringHashCode(text: string): number {
  let hash = 0;
  for (let index = 0; index < text.length; index++) {
    hash = (Math.imul(hash, 31) + text.charCodeAt(index)) | 0;
  }
  return hash;
}

/** Kafka's Utils.abs: the absolute value, with Integer.MIN_VALUE mapped to 0 rather than overflowing. */
function kafkaAbs(value: number): number {
  return value === -0x80000000 ? 0 : Math.abs(value);
}

/** The `__consumer_offsets` partition a group's offsets and state live in. */
export function offsetsPartitionFor(groupId: string, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`offsets.topic.num.partitions must be a positive integer, not ${partitionCount}`);
  }
  return kafkaAbs(javaStringHashCode(groupId)) % partitionCount;
}
