/**
 * DescribeGroups as the suite compares it: what the machine's group must look
 * like, and the broker's answer with its member ids named as the machine's.
 */
import type { describeGroupsApi } from "../../impl/protocol/apis/describe-groups.ts";
import type { Snapshot } from "../../machines/testing/consumer-group-paths.ts";
import type { MemberIds } from "./group-member-ids.ts";

export const describeVersion = 5;
/** Every simulated client connects from loopback; the models' made-up host is not compared. */
export const clientHost = "/127.0.0.1";

type DescribeResponse = ReturnType<typeof describeGroupsApi.response.read>;

const textOf = (bytes: Buffer) => bytes.toString("utf8");

/** A DescribeGroups answer for one group, as the suite compares it. */
export interface Description {
  errorCode: number;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: string;
    assignment: string;
  }>;
}

/**
 * What DescribeGroups must say of the machine's group: as Kafka's, the
 * protocol and members' metadata and assignments only while it is Stable; a
 * finished machine is a group the coordinator no longer has, Dead.
 */
export function expectedDescription(snapshot: Snapshot): Description {
  if (snapshot.status === "done") {
    return { errorCode: 0, groupState: "Dead", protocolType: "", protocolData: "", members: [] };
  }
  const context = snapshot.context;
  const stable = snapshot.value === "Stable";
  return {
    errorCode: 0,
    groupState: String(snapshot.value),
    protocolType: context.protocolType ?? "",
    protocolData: stable ? (context.protocolName ?? "") : "",
    members: context.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost,
      metadata: stable
        ? (member.protocols.find((protocol) => protocol.name === context.protocolName)?.metadata ?? "")
        : "",
      assignment: stable ? member.assignment : "",
    })),
  };
}

/** What an old coordinator says of a group that moved to another node: NOT_COORDINATOR, nothing else. */
export const movedGroupDescription: Description = {
  errorCode: 16,
  groupState: "",
  protocolType: "",
  protocolData: "",
  members: [],
};

export function describeRequest(groupId: string) {
  return { groups: [groupId], includeAuthorizedOperations: false };
}

export function actualDescription(
  response: DescribeResponse,
  expected: Description,
  ids: MemberIds,
): Description {
  const group = response.groups[0];
  if (group === undefined) throw new Error("DescribeGroups answered no group");
  return {
    errorCode: group.errorCode,
    groupState: group.groupState,
    protocolType: group.protocolType,
    protocolData: group.protocolData,
    members: group.members.map((member, index) => ({
      memberId: ids.model(member.memberId, expected.members[index]?.memberId ?? ""),
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      metadata: textOf(member.memberMetadata),
      assignment: textOf(member.memberAssignment),
    })),
  };
}
