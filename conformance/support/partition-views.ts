/**
 * A topic's partitions as one node's Metadata (v12) shows them, for cluster
 * tests that follow leaders, leader epochs and ISRs across failures.
 */
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { exchange } from "./raw-connection.ts";

export interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

/** The topic's partitions by index, or undefined while the node does not know the topic. */
export async function partitionsOf(port: number, topic: string): Promise<PartitionView[] | undefined> {
  const response = await exchange(port, metadataApi, 12, {
    topics: [{ topicId: "00000000000000000000000000000000", name: topic }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const found = response.topics[0];
  if (found === undefined || found.errorCode !== ErrorCode.NONE) return undefined;
  return partitionViewsOf(found.partitions);
}

/** A Metadata topic's partitions as views, by partition index. */
export function partitionViewsOf(
  partitions: ReadonlyArray<{
    partitionIndex: number;
    leaderId: number;
    leaderEpoch: number;
    replicaNodes: number[];
    isrNodes: number[];
  }>,
): PartitionView[] {
  return partitions
    .map((partition) => ({
      partition: partition.partitionIndex,
      leader: partition.leaderId,
      leaderEpoch: partition.leaderEpoch,
      replicas: partition.replicaNodes,
      isr: partition.isrNodes,
    }))
    .sort((left, right) => left.partition - right.partition);
}
