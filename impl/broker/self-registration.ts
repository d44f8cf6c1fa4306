/**
 * A starting node registers itself with the controller: where clients reach
 * it, and that this is a new incarnation. The controller node registers
 * through its own controller; any other node sends BrokerRegistration (62) to
 * the leader it knows and, once answered, waits until its own image holds the
 * registration, so that it serves clients only with metadata that lists it.
 * A registration that cannot reach a controller is retried until it can; one
 * refused for good (another cluster's id) stops the node.
 */
import { randomUUID } from "node:crypto";
import { isPeerFailure } from "../cluster/peer-errors.ts";
import type { PeerPool } from "../cluster/peer-pool.ts";
import type { Logger } from "../log.ts";
import { planBrokerRegistration } from "../metadata/broker-registrations.ts";
import { type Controller, NotControllerError } from "../metadata/controller.ts";
import type { BrokerEndpoint } from "../metadata/image.ts";
import { brokerRegistrationApi } from "../protocol/apis/broker-registration.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import type { MetadataQuorum } from "./metadata-quorum.ts";

/** How long one BrokerRegistration may take before it is sent again. */
const registrationTimeoutMs = 5_000;
/** The wait before asking again after a failure that names no new leader. */
const retryBackoffMs = 100;
/** The BrokerRegistration version sent: v3 carries everything a node has to say. */
const registrationVersion = 3;

export class RegistrationRefusedError extends Error {
  override readonly name = "RegistrationRefusedError";
}

export interface SelfRegistration {
  nodeId: number;
  clusterId: string;
  endpoints: BrokerEndpoint[];
  quorum: MetadataQuorum;
  controller: Controller;
  /** Connections for controller traffic. */
  pool: PeerPool;
  logger: Logger;
}

/** Registers this node and resolves with its broker epoch once the registration is applied here. */
export async function registerSelf(options: SelfRegistration): Promise<bigint> {
  const { nodeId, quorum, logger } = options;
  const incarnationId = randomUUID().replaceAll("-", "");
  for (let attempt = 1; ; attempt++) {
    const view = await quorum.whenLeaderKnown();
    const leaderId = view.leaderId!;
    let brokerEpoch: bigint | null = null;
    if (leaderId === nodeId) {
      brokerEpoch = await registerHere(options, incarnationId);
    } else {
      brokerEpoch = await registerThere(options, leaderId, incarnationId);
    }
    if (brokerEpoch !== null) {
      const epoch = brokerEpoch;
      await quorum.whenImage((image) => (image.brokers.get(nodeId)?.brokerEpoch ?? -1n) >= epoch);
      logger.info({ brokerEpoch: epoch, controllerId: leaderId, attempt }, "this node is registered");
      return epoch;
    }
    // The leader moved or could not be reached: wait for news of another, or a moment.
    await Promise.race([quorum.whenLeadershipChanges(view), sleep(retryBackoffMs)]);
  }
}

/** On the controller: its own decision. Null when it stopped being the controller meanwhile. */
async function registerHere(options: SelfRegistration, incarnationId: string): Promise<bigint | null> {
  try {
    return await options.controller.decide((image) => {
      const { record, brokerEpoch } = planBrokerRegistration(
        image,
        { brokerId: options.nodeId, incarnationId, endpoints: options.endpoints, rack: null },
        Date.now(),
      );
      return { records: [record], result: brokerEpoch };
    });
  } catch (error) {
    if (error instanceof NotControllerError) return null;
    throw error;
  }
}

/** Asks the leader. Null when it is not the controller (any more) or cannot be reached. */
async function registerThere(
  options: SelfRegistration,
  leaderId: number,
  incarnationId: string,
): Promise<bigint | null> {
  try {
    const response = await options.pool.send(
      leaderId,
      brokerRegistrationApi,
      registrationVersion,
      {
        brokerId: options.nodeId,
        clusterId: options.clusterId,
        incarnationId,
        listeners: options.endpoints,
        features: [],
        rack: null,
        isMigratingZkBroker: false,
        logDirs: [],
        previousBrokerEpoch: -1n,
      },
      { timeoutMs: registrationTimeoutMs },
    );
    if (response.errorCode === ErrorCode.NONE) return response.brokerEpoch;
    if (response.errorCode === ErrorCode.INCONSISTENT_CLUSTER_ID) {
      throw new RegistrationRefusedError(
        `node ${leaderId} leads a cluster other than ${options.clusterId}: is --voters the same on every node?`,
      );
    }
    options.logger.info(
      { controllerId: leaderId, error: errorName(response.errorCode) },
      "registration not accepted yet; retrying",
    );
    return null;
  } catch (error) {
    if (!isPeerFailure(error)) throw error;
    options.logger.debug({ controllerId: leaderId, err: error }, "registration did not reach the controller");
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
