/**
 * DeleteGroups: each named group, if empty, is deleted with its committed
 * offsets (tombstones written with acks=all before the answer); a group with
 * members is NON_EMPTY_GROUP, one this coordinator does not know
 * GROUP_ID_NOT_FOUND. The group machine decides.
 */
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import type { deleteGroupsApi } from "../../protocol/apis/delete-groups.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof deleteGroupsApi.request.read>;
type Response = InferInput<typeof deleteGroupsApi.response>;

async function deleteGroup(coordinator: GroupCoordinator, groupId: string): Promise<number> {
  if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
  const found = coordinator.coordinated(groupId);
  if ("errorCode" in found) return found.errorCode;
  const runtime = coordinator.runtime(groupId, found.partition, false);
  if (runtime === null) return ErrorCode.GROUP_ID_NOT_FOUND;
  return runtime.delete();
}

export function deleteGroupsHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const results = [];
    for (const groupId of request.groupsNames) {
      results.push({ groupId, errorCode: await deleteGroup(coordinator, groupId) });
    }
    return { throttleTimeMs: 0, results };
  };
}
