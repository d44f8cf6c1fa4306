/**
 * Waiting for the cluster to be whole again: every node up and naming one
 * controller and all brokers, every partition of the workload topic led and
 * with its whole ISR. A fault starts only on a whole cluster (or after a
 * bounded wait), and the final checks start only once it is whole.
 */
import type { LocalCluster } from "../support/cluster-process.ts";
import { metadataSeenBy } from "./cluster-views.ts";

const pollIntervalMs = 250;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Polls until `condition` holds; the time it took, or null if it never did within `boundMs`. */
export async function within(boundMs: number, condition: () => Promise<boolean>): Promise<number | null> {
  const startedAt = Date.now();
  while (Date.now() - startedAt < boundMs) {
    if (await condition().catch(() => false)) return Date.now() - startedAt;
    await sleep(pollIntervalMs);
  }
  return null;
}

export async function clusterWhole(
  cluster: LocalCluster,
  topic: string,
  partitions: number,
): Promise<boolean> {
  const nodeIds = cluster.nodes.map((node) => node.nodeId).sort();
  if (cluster.up.length !== nodeIds.length) return false;
  const views = await Promise.all(cluster.up.map((node) => metadataSeenBy(node, topic)));
  const controllerId = views[0]!.controllerId;
  return views.every(
    (view) =>
      view.controllerId === controllerId &&
      controllerId > 0 &&
      view.brokerIds.join() === nodeIds.join() &&
      view.partitions.length === partitions &&
      view.partitions.every((partition) => partition.leader >= 0 && partition.isr.length === nodeIds.length),
  );
}
