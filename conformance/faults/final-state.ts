/**
 * What the checks read at the end: each partition from offset 0 as a client
 * sees it (kcat, librdkafka: another client than the producers'), the high
 * watermarks, and each replica's log straight from its segment files
 * (`chronik dump-log`) once the nodes are stopped.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { LocalCluster } from "../support/cluster-process.ts";
import { dumpedRecords } from "../support/dump-log.ts";
import { consumeWithKcat } from "../support/kcat.ts";
import type { ReadRecord } from "./checks.ts";
import { highWatermarkOf, metadataSeenBy, quorumSeenBy } from "./cluster-views.ts";
import type { Acknowledgement } from "./workload.ts";

export const metadataTopic = "__chronik_metadata";

/** Every record of each partition, from offset 0 to the high watermark, read over the wire. */
export async function readPartitions(
  bootstrap: string[],
  topic: string,
  partitions: number,
): Promise<Map<number, ReadRecord[]>> {
  const logs = new Map<number, ReadRecord[]>();
  for (let partition = 0; partition < partitions; partition++) {
    const records = await consumeWithKcat(bootstrap.join(","), topic, partition);
    logs.set(
      partition,
      records.map((record) => ({ offset: record.offset, value: record.value?.toString("utf8") ?? null })),
    );
  }
  return logs;
}

export interface CommittedLog {
  topic: string;
  partition: number;
  /** The replicas that must hold what lies below the high watermark. */
  replicas: number[];
  highWatermark: bigint;
  /**
   * Whether each of them must hold all of it (a data partition's ISR), or
   * may lag (metadata voters: a majority suffices to commit).
   */
  complete: boolean;
}

/** The high watermark of each partition of `topic` (from its leader) and of the metadata log (from the quorum). */
export async function committedLogs(cluster: LocalCluster, topic: string): Promise<CommittedLog[]> {
  const committed: CommittedLog[] = [];
  const first = cluster.up[0]!;
  for (const partition of (await metadataSeenBy(first, topic)).partitions) {
    committed.push({
      topic,
      partition: partition.partition,
      replicas: partition.isr,
      highWatermark: await highWatermarkOf(cluster.node(partition.leader), topic, partition.partition),
      complete: true,
    });
  }
  const quorum = await quorumSeenBy(first);
  committed.push({
    topic: metadataTopic,
    partition: 0,
    replicas: [...quorum.voterEnds.keys()].sort(),
    highWatermark: quorum.highWatermark,
    complete: false,
  });
  return committed;
}

/**
 * Each node's copy of one partition, read from disk. Keys and values are
 * compared as base64, so binary metadata records compare byte for byte.
 */
export async function replicaLogs(
  cluster: LocalCluster,
  log: Pick<CommittedLog, "topic" | "partition" | "replicas">,
): Promise<Map<number, ReadRecord[]>> {
  const replicas = new Map<number, ReadRecord[]>();
  for (const nodeId of log.replicas) {
    const records = await dumpedRecords(cluster.node(nodeId).dataDir, log.topic, log.partition, "base64");
    replicas.set(
      nodeId,
      records.map((record) => ({ offset: BigInt(record.offset), value: `${record.key}/${record.value}` })),
    );
  }
  return replicas;
}

/** Every acknowledged record as "partition offset value" lines, kept with a failed run. */
export async function writeAcknowledged(
  runDirectory: string,
  acknowledged: ReadonlyMap<string, Acknowledgement>,
): Promise<void> {
  const lines = [...acknowledged].map(
    ([value, { partition, offset }]) => `${partition}\t${offset}\t${value}\n`,
  );
  await writeFile(path.join(runDirectory, "acknowledged.tsv"), lines.join(""));
}
