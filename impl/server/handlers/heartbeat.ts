/** Heartbeat: a member of a generation is alive; the group machine answers, and may say a rebalance started. */
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import type { heartbeatApi } from "../../protocol/apis/heartbeat.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof heartbeatApi.request.read>;
type Response = InferInput<typeof heartbeatApi.response>;

export function heartbeatHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    if (request.groupId === "") return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID };
    const found = coordinator.coordinated(request.groupId);
    if ("errorCode" in found) return { throttleTimeMs: 0, errorCode: found.errorCode };
    const runtime = coordinator.runtime(request.groupId, found.partition, false);
    if (runtime === null) return { throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
    const errorCode = await runtime.heartbeat({
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      generationId: request.generationId,
    });
    return { throttleTimeMs: 0, errorCode };
  };
}
