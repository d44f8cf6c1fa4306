/**
 * What one node cannot do, done on a three-node cluster with real faults:
 * __consumer_offsets has two replicas, and the paths' groups live in a
 * partition neither of whose replicas is the controller, so pausing a replica
 * (SIGSTOP) never stops the metadata quorum's leader.
 * - A write held under way: the partition's follower is paused, so an acks=all
 *   append waits for it (the cluster's broker session timeout is long enough
 *   that it is not fenced and taken out of the ISR meanwhile).
 * - The coordinator moved: the group's coordinator is paused until the
 *   controller fences it and the follower leads the partition; resumed, it
 *   learns it no longer leads and unloads the partition's groups, answering
 *   what waits NOT_COORDINATOR.
 */

import { offsetsPartitionFor, offsetsTopicName } from "../../impl/groups/offsets-topic.ts";
import { describeGroupsApi } from "../../impl/protocol/apis/describe-groups.ts";
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { zeroUuid } from "../../impl/protocol/schema.ts";
import { LocalCluster } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";
import { exchange } from "../support/raw-connection.ts";
import { brokerArgs, createTopics, offsetsPartitions } from "./group-broker.ts";
import { describeRequest, describeVersion } from "./group-descriptions.ts";
import type { Phase } from "./group-path-selection.ts";

/** What a path's runner does to the cluster at the steps one node could not take. */
export interface ClusterControl {
  /** Pauses the follower: the coordinator's next write to the partition waits. */
  holdWrites(): void;
  releaseWrites(): void;
  /** Pauses the coordinator until another node leads the partition, then resumes it. */
  moveCoordinator(): Promise<void>;
}

export interface GroupCluster {
  /** The port of the node that coordinates the groups of groupIdFor. */
  coordinatorPort: number;
  /** A group id made from `name` that lives in the chosen partition. */
  groupIdFor(name: string): string;
  control: ClusterControl;
  destroy(): Promise<void>;
}

interface PartitionView {
  controllerId: number;
  leaderId: number;
  replicas: number[];
  isr: number[];
}

async function offsetsPartitionsOf(port: number): Promise<Map<number, PartitionView>> {
  const answer = await exchange(port, metadataApi, 12, {
    topics: [{ topicId: zeroUuid, name: offsetsTopicName }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const partitions = answer.topics[0]?.partitions ?? [];
  return new Map(
    partitions.map((partition) => [
      partition.partitionIndex,
      {
        controllerId: answer.controllerId,
        leaderId: partition.leaderId,
        replicas: partition.replicaNodes,
        isr: partition.isrNodes,
      },
    ]),
  );
}

/**
 * `brokerSessionTimeoutMs`: long where writes are held (a paused follower
 * must stay in the ISR), short where the coordinator is moved (it is fenced
 * after that long).
 */
export async function startGroupCluster(phase: Phase, brokerSessionTimeoutMs: number): Promise<GroupCluster> {
  const cluster = await LocalCluster.start(3, [
    ...brokerArgs(phase, 2),
    "--broker-session-timeout-ms",
    String(brokerSessionTimeoutMs),
  ]);
  try {
    const anyPort = cluster.node(1).port;
    await createTopics(anyPort);
    // A partition both of whose replicas are in its ISR and neither is the controller.
    const [partitionId, view] = await eventually("a partition away from the controller", async () => {
      const partitions = await offsetsPartitionsOf(anyPort);
      return [...partitions].find(
        ([, candidate]) =>
          candidate.replicas.length === 2 &&
          candidate.isr.length === 2 &&
          candidate.leaderId >= 0 &&
          !candidate.replicas.includes(candidate.controllerId),
      );
    });
    const groupIdFor = (name: string) => {
      for (let suffix = 0; ; suffix++) {
        const groupId = `${name}-${suffix}`;
        if (offsetsPartitionFor(groupId, offsetsPartitions) === partitionId) return groupId;
      }
    };
    const leader = cluster.node(view.leaderId);
    await eventually("the coordinator loaded the partition", async () => {
      const request = describeRequest(groupIdFor("loaded"));
      const described = await exchange(leader.port, describeGroupsApi, describeVersion, request);
      return described.groups[0]?.errorCode === 0 ? true : undefined;
    });
    const follower = cluster.node(view.replicas.find((nodeId) => nodeId !== view.leaderId)!);
    const signal = (nodeId: number, name: NodeJS.Signals) => cluster.node(nodeId).process?.child.kill(name);
    const controlPort = cluster.node(view.controllerId).port;
    return {
      coordinatorPort: leader.port,
      groupIdFor,
      control: {
        holdWrites: () => signal(follower.nodeId, "SIGSTOP"),
        releaseWrites: () => signal(follower.nodeId, "SIGCONT"),
        async moveCoordinator() {
          signal(leader.nodeId, "SIGSTOP");
          try {
            await eventually("the follower leads the group's partition", async () =>
              (await offsetsPartitionsOf(controlPort)).get(partitionId)?.leaderId === follower.nodeId
                ? true
                : undefined,
            );
          } finally {
            signal(leader.nodeId, "SIGCONT");
          }
        },
      },
      async destroy() {
        for (const node of cluster.up) node.process?.child.kill("SIGCONT");
        await cluster.destroy();
      },
    };
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}
