/**
 * EndQuorumEpoch (54): the leader resigns (it is shutting down, or left the
 * voters), so this voter stands for election after a short backoff instead of
 * its whole fetch timeout. The node's Raft runtime answers with the epoch and
 * leader it knows afterwards. The request's preferred successors are not
 * used: every voter backs off at random, which the runtime's machine decides.
 */
import type { endQuorumEpochApi } from "../../protocol/apis/end-quorum-epoch.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { answerLeaderEpoch, type QuorumServices } from "./quorum-request.ts";

type Request = ReturnType<typeof endQuorumEpochApi.request.read>;
type Response = InferInput<typeof endQuorumEpochApi.response>;

/** EndQuorumEpoch names no receiving voter in any version. */
const noVoterId = -1;

export function endQuorumEpochHandler(services: QuorumServices): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    return answerLeaderEpoch(services, request, noVoterId, (rpc, leader) => rpc.handleEndQuorumEpoch(leader));
  };
}
