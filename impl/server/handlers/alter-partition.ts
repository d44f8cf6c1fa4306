/**
 * AlterPartition (56): a partition leader asks the controller to commit a new
 * ISR. Answered only by the controller, as Kafka serves it on its controller
 * listener alone: any other node answers NOT_CONTROLLER and does not forward
 * it, so the leader finds the controller itself and asks again.
 *
 * The sender must be registered with the broker epoch it names, or the whole
 * request is refused with STALE_BROKER_EPOCH (an older incarnation of that
 * node speaking). Each partition's isr.changeRequested goes to its lifecycle
 * machine, which answers it; an accepted change is answered once its
 * PartitionChangeRecord is committed and applied, with the new partition epoch.
 */
import type { BrokerServices } from "../../broker/services.ts";
import type { LifecycleDecision } from "../../controller/lifecycle-decision.ts";
import { ControllerQueueFullError, NotControllerError } from "../../metadata/controller.ts";
import type { MetadataRecord } from "../../metadata/records.ts";
import type { alterPartitionApi } from "../../protocol/apis/alter-partition.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof alterPartitionApi.request.read>;
type Response = InferInput<typeof alterPartitionApi.response>;
type TopicResponse = Response["topics"][number];
type PartitionResponse = TopicResponse["partitions"][number];
type PartitionRequest = Request["topics"][number]["partitions"][number];

/** leader_recovery_state 1: the leader is recovering from an unclean election (KIP-704). */
const leaderRecovering = 1;

export function alterPartitionHandler(
  services: Pick<BrokerServices, "lifecycles">,
): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    try {
      return await services.lifecycles.decide((decision) =>
        decideAlterPartition(decision, request, context.version),
      );
    } catch (error) {
      if (error instanceof NotControllerError) return refused(ErrorCode.NOT_CONTROLLER);
      if (error instanceof ControllerQueueFullError) return refused(ErrorCode.REQUEST_TIMED_OUT);
      throw error;
    }
  };
}

function refused(errorCode: number): Response {
  return { throttleTimeMs: 0, errorCode, topics: [] };
}

/** The whole request as one decision: every accepted change commits in one batch. */
export function decideAlterPartition(
  decision: LifecycleDecision,
  request: Request,
  version: number,
): { records: MetadataRecord[]; result: Response } {
  const image = decision.image;
  const sender = image.brokers.get(request.brokerId);
  if (sender === undefined || sender.brokerEpoch !== request.brokerEpoch) {
    return { records: [], result: refused(ErrorCode.STALE_BROKER_EPOCH) };
  }
  const records: MetadataRecord[] = [];
  const topics = request.topics.map((topicRequest): TopicResponse => {
    const topicId =
      version >= 2 ? topicRequest.topicId : image.topicsByName.get(topicRequest.topicName)?.topicId;
    const topic = topicId === undefined ? undefined : image.topicsById.get(topicId);
    const answered = (partitions: PartitionResponse[]): TopicResponse => ({
      topicName: topicRequest.topicName,
      topicId: topicRequest.topicId,
      partitions,
    });
    if (topic === undefined) {
      const errorCode = version >= 2 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      return answered(
        topicRequest.partitions.map((partition) => refusal(partition.partitionIndex, errorCode)),
      );
    }
    return answered(
      topicRequest.partitions.map((partition): PartitionResponse => {
        const members = membersOf(partition, version);
        const { answer, records: changed } = decision.alterPartition(topic, partition.partitionIndex, {
          brokerId: request.brokerId,
          leaderEpoch: partition.leaderEpoch,
          partitionEpoch: partition.partitionEpoch,
          newIsr: members.map((member) => member.brokerId),
          staleMembers: members
            .filter((member) => {
              const registered = image.brokers.get(member.brokerId);
              return (
                member.brokerEpoch !== -1n &&
                registered !== undefined &&
                registered.brokerEpoch !== member.brokerEpoch
              );
            })
            .map((member) => member.brokerId),
          leaderRecovering: partition.leaderRecoveryState === leaderRecovering,
        });
        records.push(...changed);
        // Kafka sends the partition's state with NONE only; a refusal carries its error code alone.
        if (answer.errorCode !== ErrorCode.NONE) return refusal(partition.partitionIndex, answer.errorCode);
        return {
          partitionIndex: partition.partitionIndex,
          errorCode: ErrorCode.NONE,
          leaderId: answer.leader,
          leaderEpoch: answer.leaderEpoch,
          isr: answer.isr,
          leaderRecoveryState: 0,
          partitionEpoch: answer.partitionEpoch,
        };
      }),
    );
  });
  return { records, result: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics } };
}

/** The proposed ISR: with each member's broker epoch from v3 (KIP-903), unchecked (-1) before. */
function membersOf(
  partition: PartitionRequest,
  version: number,
): Array<{ brokerId: number; brokerEpoch: bigint }> {
  if (version >= 3) return partition.newIsrWithEpochs;
  return partition.newIsr.map((brokerId) => ({ brokerId, brokerEpoch: -1n }));
}

function refusal(partitionIndex: number, errorCode: number): PartitionResponse {
  return {
    partitionIndex,
    errorCode,
    leaderId: 0,
    leaderEpoch: 0,
    isr: [],
    leaderRecoveryState: 0,
    partitionEpoch: 0,
  };
}
