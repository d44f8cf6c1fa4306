/**
 * DescribeGroups: each group's state, protocol and members, from its
 * coordinator. As Kafka's, members' metadata and assignments are shown only
 * while the group is Stable (between rebalances they are not settled); a group
 * known only by committed offsets is Empty, one this coordinator does not know
 * is Dead, without error. Describing never starts a group's machine.
 */
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import { bytesFromMachine } from "../../groups/stored-group.ts";
import type { describeGroupsApi } from "../../protocol/apis/describe-groups.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof describeGroupsApi.request.read>;
type Response = InferInput<typeof describeGroupsApi.response>;
type DescribedGroup = Response["groups"][number];

function described(coordinator: GroupCoordinator, groupId: string): DescribedGroup {
  const base = { groupId, groupState: "", protocolType: "", protocolData: "", members: [] };
  const found = coordinator.coordinated(groupId);
  if ("errorCode" in found) return { ...base, errorCode: found.errorCode };
  const runtime = coordinator.running(groupId, found.partition);
  if (runtime === null) {
    const groupState = coordinator.exists(groupId, found.partition) ? "Empty" : "Dead";
    return { ...base, errorCode: ErrorCode.NONE, groupState };
  }
  const state = runtime.state;
  const { context } = runtime.snapshot;
  const stable = state === "Stable";
  return {
    errorCode: ErrorCode.NONE,
    groupId,
    groupState: state,
    protocolType: context.protocolType ?? "",
    protocolData: stable ? (context.protocolName ?? "") : "",
    members: context.members.map((member) => {
      const metadata = member.protocols.find((protocol) => protocol.name === context.protocolName)?.metadata;
      return {
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        memberMetadata: stable && metadata !== undefined ? bytesFromMachine(metadata) : Buffer.alloc(0),
        memberAssignment: stable ? bytesFromMachine(member.assignment) : Buffer.alloc(0),
      };
    }),
  };
}

export function describeGroupsHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    return { throttleTimeMs: 0, groups: request.groups.map((groupId) => described(coordinator, groupId)) };
  };
}
