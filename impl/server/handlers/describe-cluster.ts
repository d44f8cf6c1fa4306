/**
 * DescribeCluster: the live brokers of the applied image and the controller.
 * Only the broker endpoint type is served; asking for controller endpoints
 * gets UNSUPPORTED_ENDPOINT_TYPE, as from a Kafka broker.
 */
import type { BrokerServices } from "../../broker/services.ts";
import type { describeClusterApi } from "../../protocol/apis/describe-cluster.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { advertisedBrokers } from "./metadata.ts";

type Request = ReturnType<typeof describeClusterApi.request.read>;
type Response = InferInput<typeof describeClusterApi.response>;

const brokerEndpointType = 1;

export function describeClusterHandler(services: BrokerServices): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    const base = { throttleTimeMs: 0, endpointType: request.endpointType, clusterId: services.clusterId };
    if (request.endpointType !== brokerEndpointType) {
      return {
        ...base,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: "Only broker endpoints are served.",
        brokers: [],
      };
    }
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      controllerId: services.quorum.controllerId ?? -1,
      brokers: advertisedBrokers(services).map(({ nodeId, host, port, rack }) => ({
        brokerId: nodeId,
        host,
        port,
        rack,
      })),
    };
  };
}
