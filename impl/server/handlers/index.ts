/** Every API this broker serves; ApiVersions lists exactly these. */
import type { BrokerServices } from "../../broker/services.ts";
import { CoordinatorLocator } from "../../groups/coordinator-lookup.ts";
import { addRaftVoterApi } from "../../protocol/apis/add-raft-voter.ts";
import { allocateProducerIdsApi } from "../../protocol/apis/allocate-producer-ids.ts";
import { alterPartitionApi } from "../../protocol/apis/alter-partition.ts";
import { apiVersionsApi } from "../../protocol/apis/api-versions.ts";
import { beginQuorumEpochApi } from "../../protocol/apis/begin-quorum-epoch.ts";
import { brokerHeartbeatApi } from "../../protocol/apis/broker-heartbeat.ts";
import { brokerRegistrationApi } from "../../protocol/apis/broker-registration.ts";
import { createPartitionsApi } from "../../protocol/apis/create-partitions.ts";
import { createTopicsApi } from "../../protocol/apis/create-topics.ts";
import { deleteGroupsApi } from "../../protocol/apis/delete-groups.ts";
import { deleteTopicsApi } from "../../protocol/apis/delete-topics.ts";
import { describeClusterApi } from "../../protocol/apis/describe-cluster.ts";
import { describeConfigsApi } from "../../protocol/apis/describe-configs.ts";
import { describeGroupsApi } from "../../protocol/apis/describe-groups.ts";
import { describeQuorumApi } from "../../protocol/apis/describe-quorum.ts";
import { electLeadersApi } from "../../protocol/apis/elect-leaders.ts";
import { endQuorumEpochApi } from "../../protocol/apis/end-quorum-epoch.ts";
import { envelopeApi } from "../../protocol/apis/envelope.ts";
import { fetchApi } from "../../protocol/apis/fetch.ts";
import { findCoordinatorApi } from "../../protocol/apis/find-coordinator.ts";
import { heartbeatApi } from "../../protocol/apis/heartbeat.ts";
import { incrementalAlterConfigsApi } from "../../protocol/apis/incremental-alter-configs.ts";
import { initProducerIdApi } from "../../protocol/apis/init-producer-id.ts";
import { joinGroupApi } from "../../protocol/apis/join-group.ts";
import { leaveGroupApi } from "../../protocol/apis/leave-group.ts";
import { listGroupsApi } from "../../protocol/apis/list-groups.ts";
import { listOffsetsApi } from "../../protocol/apis/list-offsets.ts";
import { metadataApi } from "../../protocol/apis/metadata.ts";
import { offsetCommitApi } from "../../protocol/apis/offset-commit.ts";
import { offsetDeleteApi } from "../../protocol/apis/offset-delete.ts";
import { offsetFetchApi } from "../../protocol/apis/offset-fetch.ts";
import { offsetForLeaderEpochApi } from "../../protocol/apis/offset-for-leader-epoch.ts";
import { produceApi } from "../../protocol/apis/produce.ts";
import { removeRaftVoterApi } from "../../protocol/apis/remove-raft-voter.ts";
import { syncGroupApi } from "../../protocol/apis/sync-group.ts";
import { voteApi } from "../../protocol/apis/vote.ts";
import type { Dispatcher } from "../dispatcher.ts";
import { addRaftVoterHandler } from "./add-raft-voter.ts";
import { allocateProducerIdsHandler } from "./allocate-producer-ids.ts";
import { alterPartitionHandler } from "./alter-partition.ts";
import { apiVersionsHandler } from "./api-versions.ts";
import { beginQuorumEpochHandler } from "./begin-quorum-epoch.ts";
import { brokerHeartbeatHandler } from "./broker-heartbeat.ts";
import { brokerRegistrationHandler } from "./broker-registration.ts";
import { createPartitionsHandler } from "./create-partitions.ts";
import { createTopicsHandler } from "./create-topics.ts";
import { deleteGroupsHandler } from "./delete-groups.ts";
import { deleteTopicsHandler } from "./delete-topics.ts";
import { describeClusterHandler } from "./describe-cluster.ts";
import { describeConfigsHandler } from "./describe-configs.ts";
import { describeGroupsHandler } from "./describe-groups.ts";
import { describeQuorumHandler } from "./describe-quorum.ts";
import { electLeadersHandler } from "./elect-leaders.ts";
import { endQuorumEpochHandler } from "./end-quorum-epoch.ts";
import { envelopeHandler } from "./envelope.ts";
import { fetchHandler } from "./fetch.ts";
import { findCoordinatorHandler } from "./find-coordinator.ts";
import { heartbeatHandler } from "./heartbeat.ts";
import { incrementalAlterConfigsHandler } from "./incremental-alter-configs.ts";
import { initProducerIdHandler } from "./init-producer-id.ts";
import { joinGroupHandler } from "./join-group.ts";
import { leaveGroupHandler } from "./leave-group.ts";
import { listGroupsHandler } from "./list-groups.ts";
import { listOffsetsHandler } from "./list-offsets.ts";
import { metadataHandler } from "./metadata.ts";
import { offsetCommitHandler } from "./offset-commit.ts";
import { offsetDeleteHandler } from "./offset-delete.ts";
import { offsetFetchHandler } from "./offset-fetch.ts";
import { offsetForLeaderEpochHandler } from "./offset-for-leader-epoch.ts";
import { produceHandler } from "./produce.ts";
import { removeRaftVoterHandler } from "./remove-raft-voter.ts";
import { syncGroupHandler } from "./sync-group.ts";
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
  dispatcher.register(electLeadersApi, electLeadersHandler(services));
  dispatcher.register(incrementalAlterConfigsApi, incrementalAlterConfigsHandler(services));
  dispatcher.register(describeClusterApi, describeClusterHandler(services));
  dispatcher.register(describeQuorumApi, describeQuorumHandler(services), beforeOpen);
  dispatcher.register(voteApi, voteHandler(services), beforeOpen);
  dispatcher.register(beginQuorumEpochApi, beginQuorumEpochHandler(services), beforeOpen);
  dispatcher.register(endQuorumEpochApi, endQuorumEpochHandler(services), beforeOpen);
  dispatcher.register(envelopeApi, envelopeHandler(services));
  dispatcher.register(brokerRegistrationApi, brokerRegistrationHandler(services), beforeOpen);
  dispatcher.register(alterPartitionApi, alterPartitionHandler(services), beforeOpen);
  dispatcher.register(brokerHeartbeatApi, brokerHeartbeatHandler(services), beforeOpen);
  dispatcher.register(addRaftVoterApi, addRaftVoterHandler(services));
  dispatcher.register(removeRaftVoterApi, removeRaftVoterHandler(services));
  const locator = new CoordinatorLocator(services);
  dispatcher.register(findCoordinatorApi, findCoordinatorHandler(locator));
  dispatcher.register(joinGroupApi, joinGroupHandler(services.groups));
  dispatcher.register(syncGroupApi, syncGroupHandler(services.groups));
  dispatcher.register(heartbeatApi, heartbeatHandler(services.groups));
  dispatcher.register(leaveGroupApi, leaveGroupHandler(services.groups));
  dispatcher.register(offsetCommitApi, offsetCommitHandler(services, services.groups));
  dispatcher.register(offsetFetchApi, offsetFetchHandler(services.groups));
  dispatcher.register(offsetDeleteApi, offsetDeleteHandler(services.groups));
  dispatcher.register(describeGroupsApi, describeGroupsHandler(services.groups));
  dispatcher.register(listGroupsApi, listGroupsHandler(services.groups));
  dispatcher.register(deleteGroupsApi, deleteGroupsHandler(services.groups));
  dispatcher.register(initProducerIdApi, initProducerIdHandler(services));
  // Like AlterPartition: the controller gives blocks while it still waits for its own registration.
  dispatcher.register(allocateProducerIdsApi, allocateProducerIdsHandler(services), beforeOpen);
}
