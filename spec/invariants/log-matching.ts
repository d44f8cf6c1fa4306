import {
  type ClusterView,
  type DataEntry,
  entryAt,
  type Invariant,
  type MetadataEntry,
  report,
} from "./cluster-view.ts";

interface NamedLog {
  nodeId: number;
  highWatermark: number;
  entries: readonly { offset: number; epoch: number; key: string }[];
}

function metadataLogs(view: ClusterView): NamedLog[] {
  return view.nodes.map((node) => ({
    nodeId: node.nodeId,
    highWatermark: node.quorum.highWatermark,
    entries: node.metadataLog.map((e: MetadataEntry) => ({
      offset: e.offset,
      epoch: e.epoch,
      key: e.record,
    })),
  }));
}

function partitionNames(view: ClusterView): string[] {
  const names = new Set<string>(Object.keys(view.partitions));
  for (const node of view.nodes) for (const name of Object.keys(node.replicas)) names.add(name);
  return [...names].sort();
}

function dataLogs(view: ClusterView, partition: string): NamedLog[] {
  const logs: NamedLog[] = [];
  for (const node of view.nodes) {
    const replica = node.replicas[partition];
    if (replica === undefined) continue;
    logs.push({
      nodeId: node.nodeId,
      highWatermark: replica.highWatermark,
      entries: replica.log.map((e: DataEntry) => ({ offset: e.offset, epoch: e.epoch, key: e.id })),
    });
  }
  return logs;
}

function compareLogs(what: string, a: NamedLog, b: NamedLog, violations: string[]): void {
  // Same offset and epoch: identical up to and including it. The highest such offset decides.
  let matchUpTo = -1;
  for (const entry of a.entries) {
    const other = entryAt(b.entries, entry.offset);
    if (other !== undefined && other.epoch === entry.epoch && entry.offset > matchUpTo)
      matchUpTo = entry.offset;
  }
  const bothCommitted = Math.min(a.highWatermark, b.highWatermark);
  for (const entry of a.entries) {
    const other = entryAt(b.entries, entry.offset);
    const mustMatchByEpoch = entry.offset <= matchUpTo;
    const mustMatchByHw = entry.offset < bothCommitted;
    if (!mustMatchByEpoch && !mustMatchByHw) continue;
    if (other === undefined) {
      if (mustMatchByHw) {
        violations.push(
          `${what}: offset ${entry.offset} is below both high watermarks but only node ${a.nodeId} holds it`,
        );
      }
      continue;
    }
    if (other.epoch !== entry.epoch || other.key !== entry.key) {
      const why = mustMatchByEpoch
        ? `both hold offset ${matchUpTo} in the same epoch`
        : `offset ${entry.offset} is below both high watermarks (${bothCommitted})`;
      violations.push(
        `${what}: nodes ${a.nodeId} and ${b.nodeId} differ at offset ${entry.offset} ` +
          `(epoch ${entry.epoch} "${entry.key}" vs epoch ${other.epoch} "${other.key}") although ${why}`,
      );
    }
  }
  for (const entry of b.entries) {
    if (entry.offset < bothCommitted && entryAt(a.entries, entry.offset) === undefined) {
      violations.push(
        `${what}: offset ${entry.offset} is below both high watermarks but only node ${b.nodeId} holds it`,
      );
    }
  }
}

function comparePairs(what: string, logs: NamedLog[], violations: string[]): void {
  for (let i = 0; i < logs.length; i++) {
    for (let j = i + 1; j < logs.length; j++) compareLogs(what, logs[i]!, logs[j]!, violations);
  }
}

/**
 * Two logs holding an entry with the same offset and epoch are identical up
 * to it; below both high watermarks they hold the same records. Checked for
 * the metadata log and for every data partition, between every pair of nodes.
 */
export const LogMatching: Invariant = {
  name: "LogMatching",
  description: "same offset and epoch means identical prefix; below both high watermarks, the same records",
  check(view: ClusterView): string | null {
    const violations: string[] = [];
    comparePairs("metadata log", metadataLogs(view), violations);
    for (const partition of partitionNames(view)) {
      comparePairs(`partition ${partition}`, dataLogs(view, partition), violations);
    }
    return report(violations);
  },
};

/**
 * A leader holds every committed record of earlier epochs: every alive quorum
 * leader holds every committed metadata record appended in an epoch below its
 * own; every replica acting as a partition's leader holds every acknowledged
 * record of that partition appended in an earlier leader epoch.
 */
export const LeaderCompleteness: Invariant = {
  name: "LeaderCompleteness",
  description: "a leader holds every committed record of earlier epochs",
  check(view: ClusterView): string | null {
    const violations: string[] = [];
    for (const node of view.nodes) {
      if (!node.alive) continue;
      if (node.quorum.role === "leader") {
        for (const committed of view.committedMetadata) {
          if (committed.offset >= view.committedMetadataOffset || committed.epoch >= node.quorum.epoch)
            continue;
          const held = entryAt(node.metadataLog, committed.offset);
          if (held === undefined || held.epoch !== committed.epoch || held.record !== committed.record) {
            violations.push(
              `quorum leader node ${node.nodeId} (epoch ${node.quorum.epoch}) lacks committed metadata offset ` +
                `${committed.offset} (epoch ${committed.epoch} "${committed.record}")`,
            );
          }
        }
      }
      for (const [partition, replica] of Object.entries(node.replicas)) {
        if (replica.isr === undefined) continue;
        for (const acked of view.acked) {
          if (acked.partition !== partition) continue;
          const held = entryAt(replica.log, acked.offset);
          if (held !== undefined && held.id === acked.id) continue;
          // Only records of earlier leader epochs: a stale leader cannot hold what later epochs committed.
          const committedEpoch = view.nodes
            .map((n) => n.replicas[partition])
            .map((r) => (r === undefined ? undefined : entryAt(r.log, acked.offset)))
            .find((e) => e !== undefined && e.id === acked.id)?.epoch;
          if (committedEpoch !== undefined && committedEpoch >= replica.leaderEpoch) continue;
          violations.push(
            `partition ${partition} leader node ${node.nodeId} (leader epoch ${replica.leaderEpoch}) lacks ` +
              `committed record ${acked.id} at offset ${acked.offset}`,
          );
        }
      }
    }
    return report(violations);
  },
};
