/**
 * RemoveRaftVoter (81): takes a node out of the voter set; it stays an
 * observer (a broker) as long as it runs. Removing the leader itself is
 * allowed: it leads until the change commits, then steps down.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { removeRaftVoterApi } from "../../protocol/apis/remove-raft-voter.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { atController, forwardTimeoutMsDefault } from "./at-controller.ts";
import { changeVoters, clusterMismatch, voterChangeRefusal } from "./voter-change.ts";

type Request = ReturnType<typeof removeRaftVoterApi.request.read>;
type Response = InferInput<typeof removeRaftVoterApi.response>;

export function removeRaftVoterHandler(services: BrokerServices): Handler<Request, Response> {
  return atController(
    services,
    removeRaftVoterApi,
    async (request, context) => {
      context.releaseNext();
      return (
        clusterMismatch(services, request.clusterId) ??
        (await changeVoters(services, "remove", request.voterId, forwardTimeoutMsDefault))
      );
    },
    voterChangeRefusal,
  );
}
