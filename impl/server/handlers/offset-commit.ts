/**
 * OffsetCommit: the group machine decides whether this member of this
 * generation (or, with generation -1, a client outside group management)
 * may commit now; the offsets are then written to `__consumer_offsets` with
 * acks=all and answered per partition (impl/groups/offset-operations.ts).
 * retention_time_ms (v2-4) is not honoured: committed offsets are kept until
 * the group is deleted.
 */
import type { BrokerServices } from "../../broker/services.ts";
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import { commitOffsets } from "../../groups/offset-operations.ts";
import type { offsetCommitApi } from "../../protocol/apis/offset-commit.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof offsetCommitApi.request.read>;
type Response = InferInput<typeof offsetCommitApi.response>;

export function offsetCommitHandler(
  services: Pick<BrokerServices, "image" | "config">,
  coordinator: GroupCoordinator,
): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const topics = await commitOffsets(coordinator, services.image, services.config.offsetMetadataMaxBytes, {
      groupId: request.groupId,
      generationId: request.generationIdOrMemberEpoch,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      apiVersion: context.version,
      topics: request.topics,
    });
    return { throttleTimeMs: 0, topics };
  };
}
