/**
 * Applied metadata log entries as the trace records them: enough for the
 * trace checker to compare what every node applied at each offset, to follow
 * voter changes, and to know each partition's committed leader, ISR and
 * epochs as the nodes' images hold them.
 */
import { decodeVoters, type RaftEntry } from "../cluster/raft/raft-log.ts";
import type { MetadataImage } from "../metadata/image.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import { type AppliedLine, partitionInstance } from "./trace-lines.ts";

type AppliedEntry = Omit<AppliedLine, "kind" | "node" | "atMs">;

/** `record` is the decoded record of a data entry, undefined for the quorum's control entries. */
export function appliedEntry(
  entry: RaftEntry,
  record: MetadataRecord | undefined,
  image: MetadataImage,
): AppliedEntry {
  const { offset, epoch } = entry;
  if (entry.kind === "voters") {
    const voters = [...decodeVoters(entry.payload)].sort((a, b) => a - b);
    return { offset, epoch, record: `voters [${voters.join(", ")}]`, voters };
  }
  if (record === undefined) return { offset, epoch, record: entry.kind };
  const applied: AppliedEntry = {
    offset,
    epoch,
    record: `${record.type} ${JSON.stringify(record.value, plainValue)}`,
  };
  if (record.type === "PartitionRecord" || record.type === "PartitionChangeRecord") {
    const { topicId, partitionId } = record.value;
    const partition = image.topicsById.get(topicId)?.partitions.get(partitionId);
    if (partition !== undefined) {
      applied.partition = {
        instance: partitionInstance(topicId, partitionId),
        leader: partition.leader,
        isr: [...partition.isr],
        replicas: [...partition.replicas],
        leaderEpoch: partition.leaderEpoch,
        partitionEpoch: partition.partitionEpoch,
      };
    }
  }
  return applied;
}

/** Records carry int64 fields as bigints and bytes as arrays, which JSON cannot hold as they are. */
function plainValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}
