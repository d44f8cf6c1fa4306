/**
 * LeaveGroup: one member before v3, any number from v3 (static members also
 * by instance id alone). Before v3 the one member's error is the answer's.
 */
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import type { leaveGroupApi } from "../../protocol/apis/leave-group.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof leaveGroupApi.request.read>;
type Response = InferInput<typeof leaveGroupApi.response>;

const firstBatchedVersion = 3;

export function leaveGroupHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const batched = context.version >= firstBatchedVersion;
    const leaving = batched
      ? request.members.map((member) => ({
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId,
        }))
      : [{ memberId: request.memberId, groupInstanceId: null }];
    const refused = (errorCode: number): Response => ({ throttleTimeMs: 0, errorCode, members: [] });
    if (request.groupId === "") return refused(ErrorCode.INVALID_GROUP_ID);
    const found = coordinator.coordinated(request.groupId);
    if ("errorCode" in found) return refused(found.errorCode);
    const runtime = coordinator.runtime(request.groupId, found.partition, false);
    if (runtime === null) return refused(ErrorCode.UNKNOWN_MEMBER_ID);
    const answer = await runtime.leave({ members: leaving });
    if (typeof answer === "number") return refused(answer);
    if (!batched) {
      const memberError = answer.members[0]?.errorCode ?? ErrorCode.NONE;
      return {
        throttleTimeMs: 0,
        errorCode: answer.errorCode !== ErrorCode.NONE ? answer.errorCode : memberError,
        members: [],
      };
    }
    return { throttleTimeMs: 0, errorCode: answer.errorCode, members: answer.members };
  };
}
