/**
 * What one node says of the cluster over the wire (DescribeQuorum, Metadata,
 * ListOffsets), each question bounded in time: a node may be SIGSTOPped or
 * cut off, and then its kernel still accepts the connection while the node
 * never answers.
 */
import type { ApiDefinition } from "../../impl/protocol/api.ts";
import { describeQuorumApi } from "../../impl/protocol/apis/describe-quorum.ts";
import { listOffsetsApi } from "../../impl/protocol/apis/list-offsets.ts";
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { type PartitionView, partitionViewsOf } from "../support/partition-views.ts";
import { decodeResponseFrame, RawConnection } from "../support/raw-connection.ts";

const answerTimeoutMs = 3_000;
const latestOffset = -1n;

export interface NodeAddress {
  host: string;
  port: number;
}

/** One request on a connection of its own, given up after `answerTimeoutMs`. */
export async function askNode<Response, RequestInput>(
  node: NodeAddress,
  api: ApiDefinition<unknown, RequestInput, Response, unknown>,
  version: number,
  request: RequestInput,
): Promise<Response> {
  let timer: NodeJS.Timeout | undefined;
  const connection = await Promise.race([
    RawConnection.open(node.port, node.host),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no connection")), answerTimeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  try {
    connection.writeRequest(api, version, 1, request);
    const frame = await Promise.race([
      connection.nextFrame(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${node.host}:${node.port} did not answer within ${answerTimeoutMs} ms`)),
          answerTimeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return decodeResponseFrame(api, version, frame).response;
  } finally {
    connection.destroy();
  }
}

export interface QuorumView {
  leaderId: number;
  epoch: number;
  highWatermark: bigint;
  /** Each voter's metadata log end offset, by node id, as the leader knows it. */
  voterEnds: Map<number, bigint>;
}

/** The metadata quorum as the node reports it (a follower forwards the question to the controller). */
export async function quorumSeenBy(node: NodeAddress): Promise<QuorumView> {
  const response = await askNode(node, describeQuorumApi, 2, {
    topics: [{ topicName: "__chronik_metadata", partitions: [{ partitionIndex: 0 }] }],
  });
  const partition = response.topics[0]?.partitions[0];
  if (
    response.errorCode !== ErrorCode.NONE ||
    partition === undefined ||
    partition.errorCode !== ErrorCode.NONE
  )
    throw new Error(`DescribeQuorum failed: ${response.errorCode}/${partition?.errorCode}`);
  return {
    leaderId: partition.leaderId,
    epoch: partition.leaderEpoch,
    highWatermark: partition.highWatermark,
    voterEnds: new Map(partition.currentVoters.map((voter) => [voter.replicaId, voter.logEndOffset])),
  };
}

export interface MetadataView {
  controllerId: number;
  /** Ids of the brokers the node lists (fenced ones are left out). */
  brokerIds: number[];
  partitions: PartitionView[];
}

/** Brokers, controller and the partitions of `topic` as the node knows them. */
export async function metadataSeenBy(node: NodeAddress, topic: string | null): Promise<MetadataView> {
  const response = await askNode(node, metadataApi, 12, {
    topics: topic === null ? [] : [{ topicId: "00000000000000000000000000000000", name: topic }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const found = response.topics[0];
  const partitions =
    found === undefined || found.errorCode !== ErrorCode.NONE ? [] : partitionViewsOf(found.partitions);
  return {
    controllerId: response.controllerId,
    brokerIds: response.brokers.map((broker) => broker.nodeId).sort(),
    // Sorted, so that views from different nodes compare equal whatever order each lists them in.
    partitions: partitions.map((view) => ({
      ...view,
      replicas: [...view.replicas].sort(),
      isr: [...view.isr].sort(),
    })),
  };
}

/** The high watermark of a partition (ListOffsets for the latest offset), asked of its leader. */
export async function highWatermarkOf(
  leader: NodeAddress,
  topic: string,
  partition: number,
): Promise<bigint> {
  const response = await askNode(leader, listOffsetsApi, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      {
        name: topic,
        partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: latestOffset }],
      },
    ],
  });
  const answer = response.topics[0]?.partitions[0];
  if (answer === undefined || answer.errorCode !== ErrorCode.NONE)
    throw new Error(`ListOffsets for ${topic}-${partition} failed: ${answer?.errorCode}`);
  return answer.offset;
}
