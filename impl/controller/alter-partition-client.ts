/**
 * The partition leader's side of AlterPartition (56): the ISR machine's
 * sendAlterPartition proposal as a request in a chosen version, and the
 * controller's answer read back for the machine. The caller sends it to the
 * controller and matches answers to proposals.
 *
 * v0-1 name the topic, v2+ give its id (KIP-841); v3 sends each ISR member
 * with the broker epoch it caught up in (KIP-903), v0-2 the bare ids.
 */
import { alterPartitionApi } from "../protocol/apis/alter-partition.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import type { Infer, InferInput } from "../protocol/schema.ts";

type RequestInput = InferInput<typeof alterPartitionApi.request>;
type Response = Infer<typeof alterPartitionApi.response>;

/** The highest version the controller serves: send this unless the peer says otherwise. */
export const alterPartitionVersionMax = alterPartitionApi.versionMax;

/** What the ISR machine's sendAlterPartition action carries. */
export interface IsrProposal {
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
}

/** Who asks about which partition. */
export interface AlterPartitionTarget {
  /** This node, and the broker epoch of its registration. */
  brokerId: number;
  brokerEpoch: bigint;
  topicName: string;
  topicId: string;
  partitionIndex: number;
  /**
   * v3: the broker epoch each ISR member caught up in (Kafka takes it from the
   * member's fetches); -1 leaves it unchecked. Unchecked when not given.
   */
  memberEpoch?: (brokerId: number) => bigint;
}

/** The answer for the machine: isr.committed with NONE, isr.rejected otherwise. */
export type AlterPartitionOutcome =
  | { errorCode: 0; leaderId: number; leaderEpoch: number; partitionEpoch: number; isr: number[] }
  | { errorCode: number };

export function alterPartitionRequest(
  version: number,
  target: AlterPartitionTarget,
  proposal: IsrProposal,
): RequestInput {
  if (version < alterPartitionApi.versionMin || version > alterPartitionApi.versionMax) {
    throw new Error(`AlterPartition has no version ${version}`);
  }
  const memberEpoch = target.memberEpoch ?? (() => -1n);
  return {
    brokerId: target.brokerId,
    brokerEpoch: target.brokerEpoch,
    topics: [
      {
        topicName: target.topicName,
        topicId: target.topicId,
        partitions: [
          {
            partitionIndex: target.partitionIndex,
            leaderEpoch: proposal.leaderEpoch,
            // Each version carries the ISR in one field only; the other would be dropped silently.
            newIsr: version < 3 ? [...proposal.newIsr] : [],
            newIsrWithEpochs:
              version >= 3
                ? proposal.newIsr.map((brokerId) => ({ brokerId, brokerEpoch: memberEpoch(brokerId) }))
                : [],
            leaderRecoveryState: 0,
            partitionEpoch: proposal.partitionEpoch,
          },
        ],
      },
    ],
  };
}

/**
 * The answer about the target partition. A request-level error (NOT_CONTROLLER,
 * STALE_BROKER_EPOCH) is the partition's; a response that leaves the partition
 * out says nothing about it, so it reads as UNKNOWN_SERVER_ERROR (ask again).
 */
export function alterPartitionOutcome(
  version: number,
  target: AlterPartitionTarget,
  response: Response,
): AlterPartitionOutcome {
  if (response.errorCode !== ErrorCode.NONE) return { errorCode: response.errorCode };
  const topic = response.topics.find((candidate) =>
    version >= 2 ? candidate.topicId === target.topicId : candidate.topicName === target.topicName,
  );
  const partition = topic?.partitions.find((candidate) => candidate.partitionIndex === target.partitionIndex);
  if (partition === undefined) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR };
  if (partition.errorCode !== ErrorCode.NONE) return { errorCode: partition.errorCode };
  return {
    errorCode: 0,
    leaderId: partition.leaderId,
    leaderEpoch: partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch,
    isr: [...partition.isr],
  };
}
