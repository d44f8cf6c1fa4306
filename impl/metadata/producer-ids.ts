/**
 * The controller's decision on AllocateProducerIds (Kafka's
 * ProducerIdControlManager): the next block of producer ids goes to the
 * broker that asked, as a ProducerIdsRecord naming where the block after it
 * starts. The image's nextProducerId comes only from committed records, so a
 * restarted node or a new controller continues after every block ever given
 * and never hands an id out twice.
 */
import { ErrorCode } from "../protocol/error-codes.ts";
import type { MetadataImage } from "./image.ts";
import type { MetadataRecord } from "./records.ts";

/** Ids per block, as Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const producerIdBlockSize = 1000;
const int64Max = (1n << 63n) - 1n;

export interface ProducerIdBlock {
  firstProducerId: bigint;
  size: number;
}

export type ProducerIdAllocation =
  | { errorCode: 0; block: ProducerIdBlock }
  | { errorCode: number; errorMessage: string };

/**
 * The block for `brokerId` and the record that gives it, or why not: a
 * sender that is not registered with `brokerEpoch` is an older incarnation
 * (STALE_BROKER_EPOCH, as Kafka's checkBrokerEpoch answers both cases), and
 * a block that would pass the largest int64 ends the ids for good.
 */
export function decideProducerIdBlock(
  image: MetadataImage,
  brokerId: number,
  brokerEpoch: bigint,
): { records: MetadataRecord[]; result: ProducerIdAllocation } {
  const registration = image.brokers.get(brokerId);
  if (registration === undefined || registration.brokerEpoch !== brokerEpoch) {
    const errorMessage =
      registration === undefined
        ? `No broker registration found for broker ${brokerId}`
        : `Expected broker epoch ${registration.brokerEpoch}, but got broker epoch ${brokerEpoch}`;
    return { records: [], result: { errorCode: ErrorCode.STALE_BROKER_EPOCH, errorMessage } };
  }
  const firstProducerId = image.nextProducerId;
  if (firstProducerId > int64Max - BigInt(producerIdBlockSize)) {
    return {
      records: [],
      result: {
        errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
        errorMessage: `Exhausted all producer ids: the next block would start at ${firstProducerId}`,
      },
    };
  }
  const record: MetadataRecord = {
    type: "ProducerIdsRecord",
    version: 0,
    value: { brokerId, brokerEpoch, nextProducerId: firstProducerId + BigInt(producerIdBlockSize) },
  };
  return {
    records: [record],
    result: { errorCode: ErrorCode.NONE, block: { firstProducerId, size: producerIdBlockSize } },
  };
}
