/**
 * Where a partition leader's AlterPartition goes: to the controller, over the
 * controller's connection, or straight into this node's own partition
 * machines when this node is the controller (Kafka's combined mode does the
 * same). Either way the answer comes back as the ISR machine reads it; an
 * unreachable controller is a rejection the partition leader retries.
 */
import type { MetadataQuorum } from "../broker/metadata-quorum.ts";
import type { LocalPartition } from "../broker/replica-manager.ts";
import type { PeerPool } from "../cluster/peer-pool.ts";
import {
  type AlterPartitionTarget,
  alterPartitionOutcome,
  alterPartitionRequest,
  alterPartitionVersionMax,
} from "../controller/alter-partition-client.ts";
import type { PartitionLifecycles } from "../controller/partition-lifecycles.ts";
import { NotControllerError } from "../metadata/controller.ts";
import { alterPartitionApi } from "../protocol/apis/alter-partition.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { decideAlterPartition } from "../server/handlers/alter-partition.ts";
import type { AlterPartitionSender } from "./partition-leader.ts";

/** How long one AlterPartition may wait for the controller's answer (Kafka's request.timeout.ms). */
const alterPartitionTimeoutMs = 30_000;

export interface AlterPartitionRoute {
  nodeId: number;
  quorum: MetadataQuorum;
  lifecycles: PartitionLifecycles;
  /** The controller's connections. */
  pool: PeerPool;
}

export function alterPartitionSenderFor(
  route: AlterPartitionRoute,
  local: LocalPartition,
): AlterPartitionSender {
  return async (proposal) => {
    const registration = route.quorum.image.brokers.get(route.nodeId);
    // Member epochs (KIP-903) are left unchecked (-1): follower fetches here do not carry them.
    const target: AlterPartitionTarget = {
      brokerId: route.nodeId,
      brokerEpoch: registration?.brokerEpoch ?? -1n,
      topicName: local.topic.name,
      topicId: local.topic.topicId,
      partitionIndex: local.partitionId,
    };
    const version = alterPartitionVersionMax;
    const request = alterPartitionRequest(version, target, proposal);
    const controllerId = route.quorum.controllerId;
    if (controllerId === null) return { errorCode: ErrorCode.NOT_CONTROLLER };
    if (controllerId !== route.nodeId) {
      const response = await route.pool.send(controllerId, alterPartitionApi, version, request, {
        timeoutMs: alterPartitionTimeoutMs,
      });
      return alterPartitionOutcome(version, target, response);
    }
    try {
      // The request as the handler would have decoded it: both ISR fields present, one filled.
      const decoded = request as Parameters<typeof decideAlterPartition>[1];
      const response = await route.lifecycles.decide((decision) =>
        decideAlterPartition(decision, decoded, version),
      );
      // The handler's answer, before encoding: it names every topic as the request did.
      return alterPartitionOutcome(version, target, response as Parameters<typeof alterPartitionOutcome>[2]);
    } catch (error) {
      if (error instanceof NotControllerError) return { errorCode: ErrorCode.NOT_CONTROLLER };
      throw error;
    }
  };
}
