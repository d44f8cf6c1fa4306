/**
 * Shapes shared by the Raft quorum APIs (KIP-595, KIP-853): the topics →
 * partitions nesting in which each carries its one metadata partition, a
 * node's named listener, and where a node named in an answer listens. Ports
 * are UINT16 in these APIs, unlike the INT32 ports of Metadata and
 * DescribeCluster.
 */
import { array, field, int32, string, struct, uint16, type WireType } from "../schema.ts";

/** `[topic_name, partitions: [...]]`, around each API's own partition fields. */
export function quorumTopics<T, I>(partition: WireType<T, I>) {
  return array(struct({ topicName: field(string), partitions: field(array(partition)) }));
}

/** One of a node's named listeners. */
export const listener = struct({ name: field(string), host: field(string), port: field(uint16) });

/** Where a node named in a response (a leader, a voter) listens. */
export const nodeEndpoint = struct({ nodeId: field(int32), host: field(string), port: field(uint16) });
