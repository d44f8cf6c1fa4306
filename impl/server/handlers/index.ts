/** Every API this broker serves; ApiVersions lists exactly these. */
import type { BrokerServices } from "../../broker/services.ts";
import { addRaftVoterApi } from "../../protocol/apis/add-raft-voter.ts";
import { alterPartitionApi } from "../../protocol/apis/alter-partition.ts";
import { apiVersionsApi } from "../../protocol/apis/api-versions.ts";
import { beginQuorumEpochApi } from "../../protocol/apis/begin-quorum-epoch.ts";
import { brokerRegistrationApi } from "../../protocol/apis/broker-registration.ts";
import { createPartitionsApi } from "../../protocol/apis/create-partitions.ts";
import { createTopicsApi } from "../../protocol/apis/create-topics.ts";
import { deleteTopicsApi } from "../../protocol/apis/delete-topics.ts";
import { describeClusterApi } from "../../protocol/apis/describe-cluster.ts";
import { describeConfigsApi } from "../../protocol/apis/describe-configs.ts";
import { describeQuorumApi } from "../../protocol/apis/describe-quorum.ts";
import { endQuorumEpochApi } from "../../protocol/apis/end-quorum-epoch.ts";
import { envelopeApi } from "../../protocol/apis/envelope.ts";
import { fetchApi } from "../../protocol/apis/fetch.ts";
import { listOffsetsApi } from "../../protocol/apis/list-offsets.ts";
import { metadataApi } from "../../protocol/apis/metadata.ts";
import { offsetForLeaderEpochApi } from "../../protocol/apis/offset-for-leader-epoch.ts";
import { produceApi } from "../../protocol/apis/produce.ts";
import { removeRaftVoterApi } from "../../protocol/apis/remove-raft-voter.ts";
import { voteApi } from "../../protocol/apis/vote.ts";
import type { Dispatcher } from "../dispatcher.ts";
import { addRaftVoterHandler } from "./add-raft-voter.ts";
import { alterPartitionHandler } from "./alter-partition.ts";
import { apiVersionsHandler } from "./api-versions.ts";
import { beginQuorumEpochHandler } from "./begin-quorum-epoch.ts";
import { brokerRegistrationHandler } from "./broker-registration.ts";
import { createPartitionsHandler } from "./create-partitions.ts";
import { createTopicsHandler } from "./create-topics.ts";
import { deleteTopicsHandler } from "./delete-topics.ts";
import { describeClusterHandler } from "./describe-cluster.ts";
import { describeConfigsHandler } from "./describe-configs.ts";
import { describeQuorumHandler } from "./describe-quorum.ts";
import { endQuorumEpochHandler } from "./end-quorum-epoch.ts";
import { envelopeHandler } from "./envelope.ts";
import { fetchHandler } from "./fetch.ts";
import { listOffsetsHandler } from "./list-offsets.ts";
import { metadataHandler } from "./metadata.ts";
import { offsetForLeaderEpochHandler } from "./offset-for-leader-epoch.ts";
import { produceHandler } from "./produce.ts";
import { removeRaftVoterHandler } from "./remove-raft-voter.ts";
import { voteHandler } from "./vote.ts";

/**
 * `opened` is the promise the dispatcher holds requests on until the node has
 * finished starting. The quorum's own requests are served before it (no node
 * would finish starting without them); Fetch is too, for the metadata
 * replicas' fetches, and holds clients' fetches on `opened` itself.
 * AlterPartition is too: the controller answers partition leaders while it
 * still waits for its own registration, which needs nothing from them.
 */
export function registerHandlers(
  dispatcher: Dispatcher,
  services: BrokerServices,
  opened: Promise<void>,
): void {
  const beforeOpen = { servedBeforeOpen: true };
  dispatcher.register(produceApi, produceHandler(services));
  dispatcher.register(fetchApi, fetchHandler(services, opened), beforeOpen);
  dispatcher.register(listOffsetsApi, listOffsetsHandler(services));
  dispatcher.register(offsetForLeaderEpochApi, offsetForLeaderEpochHandler(services));
  dispatcher.register(metadataApi, metadataHandler(services));
  dispatcher.register(apiVersionsApi, apiVersionsHandler(services));
  dispatcher.register(createTopicsApi, createTopicsHandler(services));
  dispatcher.register(deleteTopicsApi, deleteTopicsHandler(services));
  dispatcher.register(describeConfigsApi, describeConfigsHandler(services));
  dispatcher.register(createPartitionsApi, createPartitionsHandler(services));
  dispatcher.register(describeClusterApi, describeClusterHandler(services));
  dispatcher.register(describeQuorumApi, describeQuorumHandler(services), beforeOpen);
  dispatcher.register(voteApi, voteHandler(services), beforeOpen);
  dispatcher.register(beginQuorumEpochApi, beginQuorumEpochHandler(services), beforeOpen);
  dispatcher.register(endQuorumEpochApi, endQuorumEpochHandler(services), beforeOpen);
  dispatcher.register(envelopeApi, envelopeHandler(services));
  dispatcher.register(brokerRegistrationApi, brokerRegistrationHandler(services), beforeOpen);
  dispatcher.register(alterPartitionApi, alterPartitionHandler(services), beforeOpen);
  dispatcher.register(addRaftVoterApi, addRaftVoterHandler(services));
  dispatcher.register(removeRaftVoterApi, removeRaftVoterHandler(services));
}
