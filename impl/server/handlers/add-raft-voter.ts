/**
 * AddRaftVoter (80): makes a node that already follows the metadata log (an
 * observer) a voter. The node is reached at the address it registered with;
 * the request's listeners name it for a reader of the request.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { addRaftVoterApi } from "../../protocol/apis/add-raft-voter.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { atController } from "./at-controller.ts";
import { changeVoters, clusterMismatch, voterChangeRefusal } from "./voter-change.ts";

type Request = ReturnType<typeof addRaftVoterApi.request.read>;
type Response = InferInput<typeof addRaftVoterApi.response>;

export function addRaftVoterHandler(services: BrokerServices): Handler<Request, Response> {
  return atController(
    services,
    addRaftVoterApi,
    async (request, context) => {
      context.releaseNext();
      return (
        clusterMismatch(services, request.clusterId) ??
        (await changeVoters(services, "add", request.voterId, request.timeoutMs))
      );
    },
    voterChangeRefusal,
    { timeoutMsOf: (request) => request.timeoutMs },
  );
}
