/**
 * SyncGroup: a member of the current generation asks for its assignment;
 * the leader's request carries everyone's. The group machine decides, and the
 * answer waits until the leader's assignment is written to `__consumer_offsets`.
 */
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import { bytesFromMachine, bytesToMachine } from "../../groups/stored-group.ts";
import type { syncGroupApi } from "../../protocol/apis/sync-group.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof syncGroupApi.request.read>;
type Response = InferInput<typeof syncGroupApi.response>;

function refused(errorCode: number): Response {
  return {
    throttleTimeMs: 0,
    errorCode,
    protocolType: null,
    protocolName: null,
    assignment: Buffer.alloc(0),
  };
}

export function syncGroupHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    if (request.groupId === "") return refused(ErrorCode.INVALID_GROUP_ID);
    const found = coordinator.coordinated(request.groupId);
    if ("errorCode" in found) return refused(found.errorCode);
    const runtime = coordinator.runtime(request.groupId, found.partition, false);
    if (runtime === null) return refused(ErrorCode.UNKNOWN_MEMBER_ID);
    const answer = await runtime.sync({
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      generationId: request.generationId,
      protocolType: request.protocolType,
      protocolName: request.protocolName,
      assignments: request.assignments.map((entry) => ({
        memberId: entry.memberId,
        assignment: bytesToMachine(entry.assignment),
      })),
    });
    if (typeof answer === "number") return refused(answer);
    return {
      throttleTimeMs: 0,
      errorCode: answer.errorCode,
      protocolType: answer.protocolType,
      protocolName: answer.protocolName,
      assignment: bytesFromMachine(answer.assignment),
    };
  };
}
