import { type ClusterView, entryAt, type Invariant, type MetadataEntry, report } from "./cluster-view.ts";

/**
 * Every node's applied metadata is a prefix of the controller's committed
 * metadata log: a node applies nothing beyond the commit point, and every
 * record it applied is the committed record at that offset.
 */
export const MetadataLogMatching: Invariant = {
  name: "MetadataLogMatching",
  description: "every node's applied metadata is a prefix of the committed metadata log",
  check(view: ClusterView): string | null {
    const violations: string[] = [];
    for (const node of view.nodes) {
      if (node.appliedMetadataOffset > view.committedMetadataOffset) {
        violations.push(
          `node ${node.nodeId} applied metadata up to offset ${node.appliedMetadataOffset}, ` +
            `beyond the committed offset ${view.committedMetadataOffset}`,
        );
      }
      for (const entry of node.metadataLog) {
        if (entry.offset >= node.appliedMetadataOffset) continue;
        const committed = entryAt(view.committedMetadata, entry.offset);
        // Missing: either not recorded (snapshotted) or beyond the commit point, reported above.
        if (committed === undefined) continue;
        if (committed.epoch !== entry.epoch || committed.record !== entry.record) {
          violations.push(
            `node ${node.nodeId} applied metadata offset ${entry.offset} (epoch ${entry.epoch} "${entry.record}") ` +
              `but the committed record there is epoch ${committed.epoch} "${committed.record}"`,
          );
        }
      }
    }
    return report(violations);
  },
};

function symmetricDifference(a: readonly number[], b: readonly number[]): number[] {
  return [...a.filter((x) => !b.includes(x)), ...b.filter((x) => !a.includes(x))].sort((x, y) => x - y);
}

/**
 * One membership change at a time: in every node's metadata log each voters
 * record adds or removes exactly one voter relative to the previous voters
 * record, and a quorum leader's log holds at most one uncommitted voters record.
 */
export const OneMembershipChangeAtATime: Invariant = {
  name: "OneMembershipChangeAtATime",
  description: "each voters record changes one voter; at most one uncommitted voters record per leader",
  check(view: ClusterView): string | null {
    const violations: string[] = [];
    for (const node of view.nodes) {
      let previous: MetadataEntry | undefined;
      for (const entry of node.metadataLog) {
        if (entry.voters === undefined) continue;
        if (previous?.voters !== undefined) {
          const changed = symmetricDifference(previous.voters, entry.voters);
          if (changed.length !== 1) {
            violations.push(
              `node ${node.nodeId} metadata offset ${entry.offset} changes voters [${previous.voters.join(", ")}] ` +
                `to [${entry.voters.join(", ")}] (${changed.length} members changed, offset ${previous.offset} before)`,
            );
          }
        }
        previous = entry;
      }
      if (node.alive && node.quorum.role === "leader") {
        const uncommitted = node.metadataLog.filter(
          (e) => e.voters !== undefined && e.offset >= node.quorum.highWatermark,
        );
        if (uncommitted.length > 1) {
          violations.push(
            `quorum leader node ${node.nodeId} (epoch ${node.quorum.epoch}) has ${uncommitted.length} uncommitted ` +
              `voters records at offsets ${uncommitted.map((e) => e.offset).join(", ")} ` +
              `(high watermark ${node.quorum.highWatermark})`,
          );
        }
      }
    }
    return report(violations);
  },
};

/**
 * Metadata before data: a node holds or serves data for a partition only
 * after applying the committed record that assigns it the replica, and never
 * with a leader or partition epoch the committed metadata has not reached.
 */
export const MetadataBeforeData: Invariant = {
  name: "MetadataBeforeData",
  description: "no replica holds or serves data for a partition whose assigning record it has not applied",
  check(view: ClusterView): string | null {
    const violations: string[] = [];
    for (const node of view.nodes) {
      for (const [partition, replica] of Object.entries(node.replicas)) {
        const committed = view.partitions[partition];
        if (!replica.appliedAssigningRecord) {
          if (replica.log.length > 0) {
            violations.push(
              `node ${node.nodeId} holds ${replica.log.length} records of partition ${partition} ` +
                `before applying its assigning record`,
            );
          }
          if (replica.isr !== undefined) {
            violations.push(
              `node ${node.nodeId} leads partition ${partition} before applying its assigning record`,
            );
          }
          continue;
        }
        if (committed === undefined) {
          violations.push(
            `node ${node.nodeId} applied an assigning record for partition ${partition} that is not committed`,
          );
          continue;
        }
        if (!committed.replicas.includes(node.nodeId) && replica.isr !== undefined) {
          violations.push(
            `node ${node.nodeId} leads partition ${partition} but is not one of its committed replicas`,
          );
        }
        if (
          replica.leaderEpoch > committed.leaderEpoch ||
          replica.partitionEpoch > committed.partitionEpoch
        ) {
          violations.push(
            `node ${node.nodeId} serves partition ${partition} at leader epoch ${replica.leaderEpoch} ` +
              `partition epoch ${replica.partitionEpoch}, ahead of the committed leader epoch ` +
              `${committed.leaderEpoch} partition epoch ${committed.partitionEpoch}`,
          );
        }
      }
    }
    return report(violations);
  },
};
