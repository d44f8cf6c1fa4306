/**
 * ListGroups: the groups this node coordinates (a client asks every node and
 * joins the lists). v4 filters by state and v5 by type, both compared without
 * case as Kafka does; every group here is of the classic protocol. While a
 * partition is still loading the answer says COORDINATOR_LOAD_IN_PROGRESS
 * with the groups known so far.
 */
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import type { listGroupsApi } from "../../protocol/apis/list-groups.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof listGroupsApi.request.read>;
type Response = InferInput<typeof listGroupsApi.response>;

const classicGroupType = "classic";

export function listGroupsHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    const states = new Set(request.statesFilter.map((state) => state.toLowerCase()));
    const types = new Set(request.typesFilter.map((type) => type.toLowerCase()));
    const groups: Response["groups"] = [];
    for (const { groupId, partition } of coordinator.knownGroups()) {
      const runtime = coordinator.running(groupId, partition);
      const groupState = runtime?.state ?? "Empty";
      if (groupState === "Dead") continue;
      if (states.size > 0 && !states.has(groupState.toLowerCase())) continue;
      if (types.size > 0 && !types.has(classicGroupType)) continue;
      groups.push({
        groupId,
        protocolType:
          runtime?.snapshot.context.protocolType ?? partition.state.groups.get(groupId)?.protocolType ?? "",
        groupState,
        groupType: classicGroupType,
      });
    }
    const errorCode = coordinator.loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
    return { throttleTimeMs: 0, errorCode, groups };
  };
}
