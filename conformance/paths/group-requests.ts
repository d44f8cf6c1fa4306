/**
 * The machine's consumer group events as Kafka requests, and the broker's
 * answers in the machine's terms (member ids as the machine names them,
 * group-member-ids.ts). Metadata and assignments are the machine's strings as
 * UTF-8 bytes, and every timeout is the model's times the suite's scale.
 */

import type { ApiDefinition } from "../../impl/protocol/api.ts";
import { deleteGroupsApi } from "../../impl/protocol/apis/delete-groups.ts";
import { heartbeatApi } from "../../impl/protocol/apis/heartbeat.ts";
import { joinGroupApi } from "../../impl/protocol/apis/join-group.ts";
import { leaveGroupApi } from "../../impl/protocol/apis/leave-group.ts";
import { offsetCommitApi } from "../../impl/protocol/apis/offset-commit.ts";
import { syncGroupApi } from "../../impl/protocol/apis/sync-group.ts";
import type {
  Effect,
  Event,
  EventOf,
  JoinAnswer,
  LeaveAnswer,
  SyncAnswer,
} from "../../machines/consumer-group.ts";
import type { MemberIds } from "./group-member-ids.ts";
import type { Pending, WireClient } from "./group-wire.ts";

/** The topic offset commits name (the models' subscriptions are to "t"); one partition. */
export const commitTopic = "t";

/** Versions that carry every field the machine's events carry (instance ids, protocol names in syncs). */
const syncVersion = 5;
const heartbeatVersion = 4;
const leaveVersion = 5;
const commitVersion = 8;
const deleteVersion = 2;

const bytesOf = (text: string) => Buffer.from(text, "utf8");
const textOf = (bytes: Buffer) => bytes.toString("utf8");

export type RequestEvent = EventOf<
  | "group.joinRequested"
  | "group.syncRequested"
  | "group.heartbeatRequested"
  | "group.leaveRequested"
  | "offsets.commitRequested"
  | "group.deleteRequested"
>;

export function isRequest(event: Event): event is RequestEvent {
  return "requestId" in event;
}

/** A request the path sent, waiting for the step that answers it. */
export interface Sent {
  event: RequestEvent;
  version: number;
  pending: Pending<unknown>;
}

interface Wire {
  api: ApiDefinition<unknown, unknown, unknown, unknown>;
  version: number;
  request: unknown;
}

function wireOf(event: RequestEvent, groupId: string, ids: MemberIds, scale: number): Wire {
  const as = <Response, RequestInput>(
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
  ): Wire => ({ api: api as Wire["api"], version, request });
  switch (event.type) {
    case "group.joinRequested":
      return as(joinGroupApi, event.apiVersion, {
        groupId,
        sessionTimeoutMs: event.sessionTimeoutMs * scale,
        rebalanceTimeoutMs: event.rebalanceTimeoutMs * scale,
        memberId: ids.real(event.memberId),
        groupInstanceId: event.groupInstanceId,
        protocolType: event.protocolType,
        protocols: event.protocols.map((protocol) => ({
          name: protocol.name,
          metadata: bytesOf(protocol.metadata),
        })),
        reason: null,
      });
    case "group.syncRequested":
      return as(syncGroupApi, syncVersion, {
        groupId,
        generationId: event.generationId,
        memberId: ids.real(event.memberId),
        groupInstanceId: event.groupInstanceId,
        protocolType: event.protocolType,
        protocolName: event.protocolName,
        assignments: event.assignments.map((entry) => ({
          memberId: ids.real(entry.memberId),
          assignment: bytesOf(entry.assignment),
        })),
      });
    case "group.heartbeatRequested":
      return as(heartbeatApi, heartbeatVersion, {
        groupId,
        generationId: event.generationId,
        memberId: ids.real(event.memberId),
        groupInstanceId: event.groupInstanceId,
      });
    case "group.leaveRequested":
      return as(leaveGroupApi, leaveVersion, {
        groupId,
        memberId: "",
        members: event.members.map((member) => ({
          memberId: ids.real(member.memberId),
          groupInstanceId: member.groupInstanceId,
          reason: null,
        })),
      });
    case "offsets.commitRequested":
      return as(offsetCommitApi, commitVersion, {
        groupId,
        generationIdOrMemberEpoch: event.generationId,
        memberId: ids.real(event.memberId),
        groupInstanceId: event.groupInstanceId,
        retentionTimeMs: -1n,
        topics: [
          {
            name: commitTopic,
            partitions: [
              { partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
            ],
          },
        ],
      });
    case "group.deleteRequested":
      return as(deleteGroupsApi, deleteVersion, { groupsNames: [groupId] });
  }
}

/** Sends the event's request from the client that makes it. */
export async function sendRequest(
  event: RequestEvent,
  client: WireClient,
  groupId: string,
  ids: MemberIds,
  scale: number,
): Promise<Sent> {
  const wire = wireOf(event, groupId, ids, scale);
  return { event, version: wire.version, pending: await client.send(wire.api, wire.version, wire.request) };
}

type JoinResponse = ReturnType<typeof joinGroupApi.response.read>;
type SyncResponse = ReturnType<typeof syncGroupApi.response.read>;
type LeaveResponse = ReturnType<typeof leaveGroupApi.response.read>;
type CommitResponse = ReturnType<typeof offsetCommitApi.response.read>;
type DeleteResponse = ReturnType<typeof deleteGroupsApi.response.read>;

/** What an answer effect says the request gets, as far as the request's version can say it. */
export function expectedAnswer(effect: Effect, sent: Sent): unknown {
  switch (effect.type) {
    case "answerJoin":
      return joinAnswerAsVersion(effect.params, sent.version);
    case "answerSync": {
      const { requestId: _, ...answer } = effect.params;
      return answer;
    }
    case "answerLeave": {
      const { requestId: _, ...answer } = effect.params;
      return answer;
    }
    case "answerHeartbeat":
    case "refuseOffsetCommit":
    case "answerDelete":
      return { errorCode: effect.params.errorCode };
    case "acceptOffsetCommit":
      return { errorCode: 0 };
    default:
      throw new Error(`${effect.type} answers no request`);
  }
}

/** Protocol type from JoinGroup v7, nullable names from v7, skip_assignment and instance ids of members as versioned. */
function joinAnswerAsVersion(answer: JoinAnswer, version: number) {
  const { requestId: _, ...rest } = answer;
  return {
    ...rest,
    protocolType: version >= 7 ? answer.protocolType : null,
    protocolName: version >= 7 ? answer.protocolName : (answer.protocolName ?? ""),
    skipAssignment: version >= 9 ? answer.skipAssignment : false,
    members: answer.members.map((member) => ({
      ...member,
      groupInstanceId: version >= 5 ? member.groupInstanceId : null,
    })),
  };
}

/** The broker's answer in the machine's terms, its member ids named as the expected answer names them. */
export function actualAnswer(response: unknown, sent: Sent, expected: unknown, ids: MemberIds): unknown {
  switch (sent.event.type) {
    case "group.joinRequested": {
      const join = response as JoinResponse;
      const want = expected as Omit<JoinAnswer, "requestId">;
      return {
        errorCode: join.errorCode,
        memberId: ids.model(join.memberId, want.memberId),
        generationId: join.generationId,
        protocolType: join.protocolType,
        protocolName: join.protocolName,
        leaderId: ids.model(join.leader, want.leaderId),
        skipAssignment: join.skipAssignment,
        members: join.members.map((member, index) => ({
          memberId: ids.model(member.memberId, want.members[index]?.memberId ?? ""),
          groupInstanceId: member.groupInstanceId,
          metadata: textOf(member.metadata),
        })),
      };
    }
    case "group.syncRequested": {
      const sync = response as SyncResponse;
      return {
        errorCode: sync.errorCode,
        protocolType: sync.protocolType,
        protocolName: sync.protocolName,
        assignment: textOf(sync.assignment),
      } satisfies Omit<SyncAnswer, "requestId">;
    }
    case "group.leaveRequested": {
      const leave = response as LeaveResponse;
      const want = expected as Omit<LeaveAnswer, "requestId">;
      return {
        errorCode: leave.errorCode,
        members: leave.members.map((member, index) => ({
          memberId: ids.model(member.memberId, want.members[index]?.memberId ?? ""),
          groupInstanceId: member.groupInstanceId,
          errorCode: member.errorCode,
        })),
      };
    }
    case "offsets.commitRequested":
      return { errorCode: (response as CommitResponse).topics[0]?.partitions[0]?.errorCode };
    case "group.deleteRequested":
      return { errorCode: (response as DeleteResponse).results[0]?.errorCode };
    case "group.heartbeatRequested":
      return { errorCode: (response as { errorCode: number }).errorCode };
  }
}
