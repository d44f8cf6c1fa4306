/**
 * JoinGroup: a member joins (or a client asks to) the group this node
 * coordinates; the group machine decides, and the answer may wait for the
 * rebalance to complete. v0 has no rebalance timeout (the session timeout
 * stands in, as in Kafka); protocol names are nullable only from v7, so an
 * empty group's answers say "" before it.
 */

import type { JoinAnswer } from "../../../machines/consumer-group.ts";
import type { GroupCoordinator } from "../../groups/group-coordinator.ts";
import { bytesFromMachine, bytesToMachine } from "../../groups/stored-group.ts";
import type { joinGroupApi } from "../../protocol/apis/join-group.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { clientHostOf } from "./group-request.ts";

type Request = ReturnType<typeof joinGroupApi.request.read>;
type Response = InferInput<typeof joinGroupApi.response>;

const firstVersionWithNullableProtocol = 7;

function refused(errorCode: number, memberId: string): Response {
  return {
    throttleTimeMs: 0,
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: "",
    skipAssignment: false,
    memberId,
    members: [],
  };
}

function answered(answer: JoinAnswer, version: number): Response {
  const nameOrEmpty = (name: string | null) =>
    version >= firstVersionWithNullableProtocol ? name : (name ?? "");
  return {
    throttleTimeMs: 0,
    errorCode: answer.errorCode,
    generationId: answer.generationId,
    protocolType: answer.protocolType,
    protocolName: nameOrEmpty(answer.protocolName),
    leader: answer.leaderId,
    skipAssignment: answer.skipAssignment,
    memberId: answer.memberId,
    members: answer.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      metadata: bytesFromMachine(member.metadata),
    })),
  };
}

export function joinGroupHandler(coordinator: GroupCoordinator): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    if (request.groupId === "") return refused(ErrorCode.INVALID_GROUP_ID, request.memberId);
    const found = coordinator.coordinated(request.groupId);
    if ("errorCode" in found) return refused(found.errorCode, request.memberId);
    // A join without a member id may start the group; a member id names a member of a group that must exist.
    const runtime = coordinator.runtime(request.groupId, found.partition, request.memberId === "");
    if (runtime === null) return refused(ErrorCode.UNKNOWN_MEMBER_ID, request.memberId);
    const answer = await runtime.join({
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      protocolType: request.protocolType,
      protocols: request.protocols.map((protocol) => ({
        name: protocol.name,
        metadata: bytesToMachine(protocol.metadata),
      })),
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: context.version === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
      apiVersion: context.version,
      clientId: context.header.clientId ?? "",
      clientHost: clientHostOf(context.peer),
    });
    return typeof answer === "number" ? refused(answer, request.memberId) : answered(answer, context.version);
  };
}
