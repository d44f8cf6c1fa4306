import { type ClusterView, endOffset, entryAt, findNode, type Invariant, report } from "./cluster-view.ts";

/** The committed leader is a member of the committed ISR; a replica acting as leader is in its own ISR. */
export const LeaderInIsr: Invariant = {
  name: "LeaderInIsr",
  description: "the partition leader is a member of the ISR",
  check(view: ClusterView): string | null {
    const violations: string[] = [];
    for (const [partition, committed] of Object.entries(view.partitions)) {
      if (committed.leader >= 0 && !committed.isr.includes(committed.leader)) {
        violations.push(
          `partition ${partition} committed leader node ${committed.leader} (leader epoch ${committed.leaderEpoch}) ` +
            `is not in its ISR [${committed.isr.join(", ")}]`,
        );
      }
    }
    for (const node of view.nodes) {
      for (const [partition, replica] of Object.entries(node.replicas)) {
        if (replica.isr !== undefined && !replica.isr.includes(node.nodeId)) {
          violations.push(
            `partition ${partition} leader node ${node.nodeId} (leader epoch ${replica.leaderEpoch}) ` +
              `is not in its ISR [${replica.isr.join(", ")}]`,
          );
        }
      }
    }
    return report(violations);
  },
};

/** The committed ISR, and every leader's ISR, contain only assigned replicas. */
export const IsrSubsetOfReplicas: Invariant = {
  name: "IsrSubsetOfReplicas",
  description: "the ISR is a subset of the assigned replicas",
  check(view: ClusterView): string | null {
    const violations: string[] = [];
    for (const [partition, committed] of Object.entries(view.partitions)) {
      const outside = committed.isr.filter((id) => !committed.replicas.includes(id));
      if (outside.length > 0) {
        violations.push(
          `partition ${partition} committed ISR [${committed.isr.join(", ")}] has nodes ${outside.join(", ")} ` +
            `outside its replicas [${committed.replicas.join(", ")}]`,
        );
      }
    }
    for (const node of view.nodes) {
      for (const [partition, replica] of Object.entries(node.replicas)) {
        const committed = view.partitions[partition];
        if (replica.isr === undefined || committed === undefined) continue;
        const outside = replica.isr.filter((id) => !committed.replicas.includes(id));
        if (outside.length > 0) {
          violations.push(
            `partition ${partition} leader node ${node.nodeId} holds ISR [${replica.isr.join(", ")}] with nodes ` +
              `${outside.join(", ")} outside its replicas [${committed.replicas.join(", ")}]`,
          );
        }
      }
    }
    return report(violations);
  },
};

/**
 * The high watermark is valid: no replica's high watermark passes its own end
 * offset; the committed leader's high watermark is at most the end offset of
 * every alive member of the committed ISR; and, for a node alive in both
 * views, neither a replica's high watermark (within one leader epoch) nor the
 * quorum high watermark moves backwards.
 */
export const HighWatermarkValid: Invariant = {
  name: "HighWatermarkValid",
  description: "the high watermark is at most every ISR member's end offset, and monotonic",
  check(view: ClusterView, previous?: ClusterView): string | null {
    const violations: string[] = [];
    for (const node of view.nodes) {
      for (const [partition, replica] of Object.entries(node.replicas)) {
        if (replica.highWatermark > endOffset(replica.log)) {
          violations.push(
            `partition ${partition} node ${node.nodeId} high watermark ${replica.highWatermark} ` +
              `passes its end offset ${endOffset(replica.log)}`,
          );
        }
      }
    }
    for (const [partition, committed] of Object.entries(view.partitions)) {
      const leaderNode = findNode(view, committed.leader);
      const leader = leaderNode?.replicas[partition];
      if (leaderNode === undefined || !leaderNode.alive || leader === undefined) continue;
      if (leader.leaderEpoch !== committed.leaderEpoch) continue;
      for (const memberId of committed.isr) {
        const member = findNode(view, memberId);
        if (member === undefined || !member.alive) continue;
        const memberEnd = endOffset(member.replicas[partition]?.log ?? []);
        if (leader.highWatermark > memberEnd) {
          violations.push(
            `partition ${partition} leader node ${committed.leader} high watermark ${leader.highWatermark} ` +
              `passes ISR member node ${memberId}'s end offset ${memberEnd}`,
          );
        }
      }
    }
    if (previous !== undefined) {
      for (const node of view.nodes) {
        const before = findNode(previous, node.nodeId);
        if (before === undefined || !before.alive || !node.alive) continue;
        if (node.quorum.highWatermark < before.quorum.highWatermark) {
          violations.push(
            `node ${node.nodeId} quorum high watermark moved back from ${before.quorum.highWatermark} ` +
              `to ${node.quorum.highWatermark}`,
          );
        }
        for (const [partition, replica] of Object.entries(node.replicas)) {
          const was = before.replicas[partition];
          if (was === undefined || was.leaderEpoch !== replica.leaderEpoch) continue;
          if (replica.highWatermark < was.highWatermark) {
            violations.push(
              `partition ${partition} node ${node.nodeId} high watermark moved back from ${was.highWatermark} ` +
                `to ${replica.highWatermark} in leader epoch ${replica.leaderEpoch}`,
            );
          }
        }
      }
    }
    return report(violations);
  },
};

/**
 * No acknowledged record is lost: every acks=all record is on the committed
 * leader and every alive member of the committed ISR, at its offset, in every
 * leader epoch; and the set of acknowledged records never shrinks.
 */
export const NoAckedRecordLost: Invariant = {
  name: "NoAckedRecordLost",
  description: "every acks=all record is on every member of the committed ISR and survives leader changes",
  check(view: ClusterView, previous?: ClusterView): string | null {
    const violations: string[] = [];
    for (const acked of view.acked) {
      const committed = view.partitions[acked.partition];
      if (committed === undefined) {
        violations.push(
          `record ${acked.id} acknowledged at partition ${acked.partition} offset ${acked.offset}, which is not committed`,
        );
        continue;
      }
      const holders = [...new Set([...(committed.leader >= 0 ? [committed.leader] : []), ...committed.isr])];
      for (const holderId of holders) {
        const holder = findNode(view, holderId);
        if (holder === undefined || !holder.alive) continue;
        const entry = entryAt(holder.replicas[acked.partition]?.log ?? [], acked.offset);
        if (entry === undefined || entry.id !== acked.id) {
          const role = holderId === committed.leader ? "leader" : "ISR member";
          violations.push(
            `partition ${acked.partition} ${role} node ${holderId} (leader epoch ${committed.leaderEpoch}) lost ` +
              `acked record ${acked.id} at offset ${acked.offset}` +
              (entry === undefined ? "" : ` (holds ${entry.id} there)`),
          );
        }
      }
    }
    if (previous !== undefined) {
      for (const was of previous.acked) {
        const kept = view.acked.some(
          (a) => a.partition === was.partition && a.offset === was.offset && a.id === was.id,
        );
        if (!kept) {
          violations.push(
            `acked record ${was.id} at partition ${was.partition} offset ${was.offset} dropped from the acknowledged set`,
          );
        }
      }
    }
    return report(violations);
  },
};

/**
 * Epochs never decrease: each partition's committed leader and partition
 * epochs, each node's quorum epoch (persisted, so also across restarts), and
 * each replica's leader and partition epochs on a node alive in both views.
 */
export const EpochsMonotonic: Invariant = {
  name: "EpochsMonotonic",
  description: "leader epochs and partition epochs never decrease",
  check(view: ClusterView, previous?: ClusterView): string | null {
    if (previous === undefined) return null;
    const violations: string[] = [];
    for (const [partition, committed] of Object.entries(view.partitions)) {
      const was = previous.partitions[partition];
      if (was === undefined) continue;
      if (committed.leaderEpoch < was.leaderEpoch) {
        violations.push(
          `partition ${partition} committed leader epoch went from ${was.leaderEpoch} to ${committed.leaderEpoch}`,
        );
      }
      if (committed.partitionEpoch < was.partitionEpoch) {
        violations.push(
          `partition ${partition} committed partition epoch went from ${was.partitionEpoch} to ${committed.partitionEpoch}`,
        );
      }
    }
    for (const node of view.nodes) {
      const before = findNode(previous, node.nodeId);
      if (before === undefined) continue;
      if (node.quorum.epoch < before.quorum.epoch) {
        violations.push(
          `node ${node.nodeId} quorum epoch went from ${before.quorum.epoch} to ${node.quorum.epoch}`,
        );
      }
      if (!before.alive || !node.alive) continue;
      for (const [partition, replica] of Object.entries(node.replicas)) {
        const was = before.replicas[partition];
        if (was === undefined) continue;
        if (replica.leaderEpoch < was.leaderEpoch) {
          violations.push(
            `partition ${partition} node ${node.nodeId} leader epoch went from ${was.leaderEpoch} to ${replica.leaderEpoch}`,
          );
        }
        if (replica.partitionEpoch < was.partitionEpoch) {
          violations.push(
            `partition ${partition} node ${node.nodeId} partition epoch went from ${was.partitionEpoch} ` +
              `to ${replica.partitionEpoch}`,
          );
        }
      }
    }
    return report(violations);
  },
};
