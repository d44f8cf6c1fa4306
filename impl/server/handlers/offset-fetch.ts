/**
 * OffsetFetch: a group's committed offsets, from its coordinator
 * (impl/groups/group-coordinator.ts). v1 names its partitions and carries a
 * coordinator error on each of them (it has no group-level error code);
 * v2-7 may ask for every partition (null topics) and report the error once;
 * v8+ asks for several groups at once, each answered with its own error.
 * Offsets are committed through acks=all writes, so there is nothing
 * unstable to wait for and require_stable changes nothing.
 */
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import { type FetchedOffsets, fetchOffsets } from "../../groups/offset-operations.ts";
import type { offsetFetchApi } from "../../protocol/apis/offset-fetch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof offsetFetchApi.request.read>;
type Response = InferInput<typeof offsetFetchApi.response>;

const firstVersionWithGroupError = 2;
const firstBatchedVersion = 8;

/** v1 cannot say the group failed: each partition it asked for carries the error instead. */
function errorOnEachPartition(fetched: FetchedOffsets, topics: Request["topics"]): FetchedOffsets["topics"] {
  if (fetched.errorCode === ErrorCode.NONE) return fetched.topics;
  return (topics ?? []).map((topic) => ({
    name: topic.name,
    partitions: topic.partitionIndexes.map((partitionIndex) => ({
      partitionIndex,
      committedOffset: -1n,
      committedLeaderEpoch: -1,
      metadata: "",
      errorCode: fetched.errorCode,
    })),
  }));
}

export function offsetFetchHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    if (context.version >= firstBatchedVersion) {
      return {
        throttleTimeMs: 0,
        groups: request.groups.map((group) => {
          const fetched = fetchOffsets(coordinator, group.groupId, group.topics);
          return { groupId: group.groupId, topics: fetched.topics, errorCode: fetched.errorCode };
        }),
      };
    }
    const fetched = fetchOffsets(coordinator, request.groupId, request.topics);
    if (context.version < firstVersionWithGroupError) {
      return { throttleTimeMs: 0, topics: errorOnEachPartition(fetched, request.topics), errorCode: 0 };
    }
    return { throttleTimeMs: 0, topics: fetched.topics, errorCode: fetched.errorCode };
  };
}
