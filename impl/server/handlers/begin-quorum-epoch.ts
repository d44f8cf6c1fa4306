/**
 * BeginQuorumEpoch (53): a newly elected leader tells this voter of its
 * epoch, so it follows at once instead of waiting for its election timeout.
 * The node's Raft runtime answers (FENCED_LEADER_EPOCH for an epoch older
 * than its own) with the epoch and leader it knows afterwards.
 */
import type { beginQuorumEpochApi } from "../../protocol/apis/begin-quorum-epoch.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { answerLeaderEpoch, type QuorumServices } from "./quorum-request.ts";

type Request = ReturnType<typeof beginQuorumEpochApi.request.read>;
type Response = InferInput<typeof beginQuorumEpochApi.response>;

export function beginQuorumEpochHandler(services: QuorumServices): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    return answerLeaderEpoch(services, request, request.voterId, (rpc, leader) =>
      rpc.handleBeginQuorumEpoch(leader),
    );
  };
}
