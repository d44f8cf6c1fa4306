/**
 * Endpoint shapes shared by the Raft quorum APIs (KIP-853): a node's named
 * listener, and where a node named in an answer listens. Ports are UINT16 in
 * these APIs, unlike the INT32 ports of Metadata and DescribeCluster.
 */
import { field, int32, string, struct, uint16 } from "../schema.ts";

/** One of a node's named listeners. */
export const listener = struct({ name: field(string), host: field(string), port: field(uint16) });

/** Where a node named in a response (a leader, a voter) listens. */
export const nodeEndpoint = struct({ nodeId: field(int32), host: field(string), port: field(uint16) });
