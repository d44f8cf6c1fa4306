/**
 * The controller's decision on a node's registration: a RegisterBrokerRecord
 * naming the node's endpoints and this incarnation, with a broker epoch newer
 * than any the node had, so a record about an older incarnation is never
 * taken for this one. The node registers fenced, as in Kafka: it may not lead
 * or join an ISR until the controller has seen it catch up with the metadata
 * log and unfences it (impl/controller/broker-liveness.ts).
 */
import type { BrokerEndpoint, MetadataImage } from "./image.ts";
import type { MetadataRecord } from "./records.ts";

export interface BrokerRegistrationRequest {
  brokerId: number;
  /** 32 hex digits, new at every start of the node. */
  incarnationId: string;
  endpoints: BrokerEndpoint[];
  rack: string | null;
}

/** Kafka's own listener name for an unencrypted, unauthenticated listener. */
export const plaintextListenerName = "PLAINTEXT";
export const plaintextSecurityProtocol = 0;

/**
 * The record and the epoch it gives. The epoch follows the wall clock (so it
 * tells the age of a registration in logs) but always passes the node's
 * previous one, even on a controller whose clock is behind.
 */
export function planBrokerRegistration(
  image: MetadataImage,
  request: BrokerRegistrationRequest,
  nowMs: number,
): { record: MetadataRecord; brokerEpoch: bigint } {
  const previous = image.brokers.get(request.brokerId)?.brokerEpoch ?? -1n;
  const wallClock = BigInt(Math.floor(nowMs));
  const brokerEpoch = wallClock > previous ? wallClock : previous + 1n;
  const record = {
    type: "RegisterBrokerRecord",
    version: 0,
    value: {
      brokerId: request.brokerId,
      isMigratingZkBroker: false,
      incarnationId: request.incarnationId,
      brokerEpoch,
      endPoints: request.endpoints.map(({ name, host, port, securityProtocol }) => ({
        name,
        host,
        port,
        securityProtocol,
      })),
      features: [],
      rack: request.rack,
      fenced: true,
      inControlledShutdown: false,
      logDirs: [],
    },
  } as MetadataRecord;
  return { record, brokerEpoch };
}
