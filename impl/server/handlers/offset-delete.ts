/** OffsetDelete: a group's committed offsets for partitions it no longer consumes (impl/groups/offset-operations.ts). */
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import { deleteOffsets } from "../../groups/offset-operations.ts";
import type { offsetDeleteApi } from "../../protocol/apis/offset-delete.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof offsetDeleteApi.request.read>;
type Response = InferInput<typeof offsetDeleteApi.response>;

export function offsetDeleteHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const result = await deleteOffsets(coordinator, request.groupId, request.topics);
    return { errorCode: result.errorCode, throttleTimeMs: 0, topics: result.topics };
  };
}
