/** Every API this broker serves; ApiVersions lists exactly these. */
import type { BrokerServices } from "../../broker/services.ts";
import { apiVersionsApi } from "../../protocol/apis/api-versions.ts";
import { createPartitionsApi } from "../../protocol/apis/create-partitions.ts";
import { createTopicsApi } from "../../protocol/apis/create-topics.ts";
import { deleteTopicsApi } from "../../protocol/apis/delete-topics.ts";
import { describeClusterApi } from "../../protocol/apis/describe-cluster.ts";
import { describeConfigsApi } from "../../protocol/apis/describe-configs.ts";
import { describeQuorumApi } from "../../protocol/apis/describe-quorum.ts";
import { fetchApi } from "../../protocol/apis/fetch.ts";
import { listOffsetsApi } from "../../protocol/apis/list-offsets.ts";
import { metadataApi } from "../../protocol/apis/metadata.ts";
import { produceApi } from "../../protocol/apis/produce.ts";
import type { Dispatcher } from "../dispatcher.ts";
import { apiVersionsHandler } from "./api-versions.ts";
import { createPartitionsHandler } from "./create-partitions.ts";
import { createTopicsHandler } from "./create-topics.ts";
import { deleteTopicsHandler } from "./delete-topics.ts";
import { describeClusterHandler } from "./describe-cluster.ts";
import { describeConfigsHandler } from "./describe-configs.ts";
import { describeQuorumHandler } from "./describe-quorum.ts";
import { fetchHandler } from "./fetch.ts";
import { listOffsetsHandler } from "./list-offsets.ts";
import { metadataHandler } from "./metadata.ts";
import { produceHandler } from "./produce.ts";

export function registerHandlers(dispatcher: Dispatcher, services: BrokerServices): void {
  dispatcher.register(produceApi, produceHandler(services));
  dispatcher.register(fetchApi, fetchHandler(services));
  dispatcher.register(listOffsetsApi, listOffsetsHandler(services));
  dispatcher.register(metadataApi, metadataHandler(services));
  dispatcher.register(apiVersionsApi, apiVersionsHandler(services));
  dispatcher.register(createTopicsApi, createTopicsHandler(services));
  dispatcher.register(deleteTopicsApi, deleteTopicsHandler(services));
  dispatcher.register(describeConfigsApi, describeConfigsHandler(services));
  dispatcher.register(createPartitionsApi, createPartitionsHandler(services));
  dispatcher.register(describeClusterApi, describeClusterHandler(services));
  dispatcher.register(describeQuorumApi, describeQuorumHandler(services));
}
