/**
 * What the coordinator reads of the consumer protocol (protocol type
 * "consumer"): the topics in a member's subscription. The bytes are Kafka's
 * ConsumerProtocolSubscription, opaque to the group protocol itself:
 *
 *   version: INT16 (0-3)
 *   topics: [STRING]
 *   ... user data, owned partitions (1+), generation (2+), rack (3+): not read here
 *
 * Only OffsetDelete needs this, to refuse deleting offsets of a topic a
 * member still consumes. A subscription that cannot be read counts as
 * subscribing to nothing it can prove, as Kafka skips it.
 */
import type { Member } from "../../machines/consumer-group.ts";
import { DecodeError, Reader } from "../protocol/reader.ts";
import { bytesFromMachine } from "./stored-group.ts";

export function subscriptionTopics(subscription: Buffer): string[] {
  try {
    const reader = new Reader(subscription);
    reader.int16();
    const count = reader.arrayLength(reader.int32(), 2);
    const topics: string[] = [];
    for (let index = 0; index < count; index++) {
      const topic = reader.nullableString();
      if (topic !== null) topics.push(topic);
    }
    return topics;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return [];
  }
}

/** The topics any member subscribes to, from its metadata for the group's chosen protocol. */
export function subscribedTopics(members: readonly Member[], protocolName: string | null): Set<string> {
  const topics = new Set<string>();
  for (const member of members) {
    const protocol = member.protocols.find((candidate) => candidate.name === protocolName);
    if (protocol === undefined) continue;
    for (const topic of subscriptionTopics(bytesFromMachine(protocol.metadata))) topics.add(topic);
  }
  return topics;
}
