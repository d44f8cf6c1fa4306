/**
 * What request handlers may use: the applied metadata, the controller that
 * changes it, the metadata quorum, the local replicas, and the static configuration.
 */
import type { BrokerHeartbeats } from "../controller/broker-heartbeats.ts";
import type { PartitionLifecycles } from "../controller/partition-lifecycles.ts";
import type { GroupCoordinator } from "../groups/group-coordinator.ts";
import type { Logger } from "../log.ts";
import type { Controller } from "../metadata/controller.ts";
import type { MetadataImage } from "../metadata/image.ts";
import type { ReplicaConnections } from "../server/handlers/metadata-replica-fetch.ts";
import type { BrokerConfig } from "./config.ts";
import type { ControllerLink } from "./controller-link.ts";
import type { MetadataQuorum } from "./metadata-quorum.ts";
import type { ReplicaManager } from "./replica-manager.ts";

export interface BrokerServices {
  config: BrokerConfig;
  clusterId: string;
  image: MetadataImage;
  controller: Controller;
  /** The partition lifecycle machines: decisions about partitions go through them (and so through the controller). */
  lifecycles: PartitionLifecycles;
  /** What the controller answers a broker's BrokerHeartbeat: fencing and controlled shutdown. */
  brokerHeartbeats: BrokerHeartbeats;
  /** The controller's liveness checks, told which connection each node's metadata fetches come on. */
  replicaConnections: ReplicaConnections;
  /** Reaches the controller from a node that is not it (forwarding). */
  controllerLink: ControllerLink;
  /** Runs a request that came inside an Envelope through this node's handlers, marked forwarded. */
  dispatchForwarded(frame: Buffer, peer: string): Promise<Buffer[] | null>;
  /** The metadata quorum: DescribeQuorum's view, voter changes, and the node that answers the quorum's own requests. */
  quorum: MetadataQuorum;
  replicas: ReplicaManager;
  /** The group coordinator for the `__consumer_offsets` partitions this node leads. */
  groups: GroupCoordinator;
  logger: Logger;
  /** The APIs this broker serves, for ApiVersions. */
  supportedApis(): Array<{ apiKey: number; minVersion: number; maxVersion: number }>;
  /** Parks a fetch long poll if the bound on parked polls allows; false when it does not. */
  reserveWaitingFetch(): boolean;
  releaseWaitingFetch(): void;
}
