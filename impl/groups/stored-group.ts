/**
 * The group as the machine sees it (members' metadata and assignments as
 * base64 text, plain serializable data) and as `__consumer_offsets` stores it
 * (Kafka's GroupMetadataValue, bytes), converted both ways.
 */
import type { GroupRecord, StoredGroup } from "../../machines/consumer-group.ts";
import type { GroupMetadataValue } from "./offsets-records.ts";

/** Member metadata and assignments cross into the machine as base64, out of it as bytes. */
export function bytesToMachine(bytes: Buffer): string {
  return bytes.toString("base64");
}

export function bytesFromMachine(text: string): Buffer {
  return Buffer.from(text, "base64");
}

export function groupValueOf(record: GroupRecord, nowMs: number): GroupMetadataValue {
  return {
    // Kafka writes the group's protocol type even for an empty group; one that never had a member has none.
    protocolType: record.protocolType ?? "",
    generation: record.generationId,
    protocol: record.protocolName,
    leader: record.leaderId,
    currentStateTimestamp: BigInt(nowMs),
    members: record.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      rebalanceTimeout: member.rebalanceTimeoutMs,
      sessionTimeout: member.sessionTimeoutMs,
      subscription: bytesFromMachine(member.subscription),
      assignment: bytesFromMachine(member.assignment),
    })),
  };
}

export function storedGroupOf(value: GroupMetadataValue): StoredGroup {
  return {
    generationId: value.generation,
    protocolType: value.protocolType === "" ? null : value.protocolType,
    protocolName: value.protocol,
    leaderId: value.leader,
    members: value.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      rebalanceTimeoutMs: member.rebalanceTimeout,
      sessionTimeoutMs: member.sessionTimeout,
      subscription: bytesToMachine(member.subscription),
      assignment: bytesToMachine(member.assignment),
    })),
  };
}
