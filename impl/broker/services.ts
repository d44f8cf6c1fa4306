/**
 * What request handlers may use: the applied metadata, the controller that
 * changes it, the metadata quorum, the local replicas, and the static configuration.
 */
import type { QuorumDescription } from "../cluster/raft/describe-quorum.ts";
import type { Logger } from "../log.ts";
import type { Controller } from "../metadata/controller.ts";
import type { MetadataImage } from "../metadata/image.ts";
import type { BrokerConfig } from "./config.ts";
import type { ReplicaManager } from "./replica-manager.ts";

export interface BrokerServices {
  config: BrokerConfig;
  clusterId: string;
  image: MetadataImage;
  controller: Controller;
  /** The metadata quorum, for DescribeQuorum. */
  quorum: { describe(): Promise<QuorumDescription> };
  replicas: ReplicaManager;
  logger: Logger;
  /** The APIs this broker serves, for ApiVersions. */
  supportedApis(): Array<{ apiKey: number; minVersion: number; maxVersion: number }>;
  /** Parks a fetch long poll if the bound on parked polls allows; false when it does not. */
  reserveWaitingFetch(): boolean;
  releaseWaitingFetch(): void;
}
