/**
 * The `--voters` list: the metadata quorum's initial voters and where they
 * listen, as `ID@HOST:PORT,...` (KRaft's controller.quorum.voters form).
 * Every node of a cluster is started with the same list; the voter set then
 * lives in the metadata log, which membership changes extend.
 */
import { createHash } from "node:crypto";

export interface VoterEndpoint {
  nodeId: number;
  host: string;
  port: number;
}

export class InvalidVotersError extends Error {
  override readonly name = "InvalidVotersError";
}

const voterPattern = /^(\d+)@(.+):(\d+)$/;

export function parseVoters(text: string): VoterEndpoint[] {
  const items = text.split(",").map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === "")) {
    throw new InvalidVotersError(`expected ID@HOST:PORT,... got "${text}"`);
  }
  const voters = items.map((item) => {
    const match = voterPattern.exec(item);
    const nodeId = Number(match?.[1]);
    const port = Number(match?.[3]);
    if (!match || !Number.isSafeInteger(nodeId) || port < 1 || port > 65_535) {
      throw new InvalidVotersError(`expected ID@HOST:PORT with a port from 1 to 65535, got "${item}"`);
    }
    return { nodeId, host: match[2]!.replace(/^\[(.*)\]$/, "$1"), port };
  });
  const ids = new Set<number>();
  for (const voter of voters) {
    if (ids.has(voter.nodeId))
      throw new InvalidVotersError(`node ${voter.nodeId} is listed twice in "${text}"`);
    ids.add(voter.nodeId);
  }
  return voters.sort((left, right) => left.nodeId - right.nodeId);
}

export function formatVoters(voters: readonly VoterEndpoint[]): string {
  return voters.map((voter) => `${voter.nodeId}@${formatHost(voter.host)}:${voter.port}`).join(",");
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * The cluster id every node of a new cluster agrees on without talking: a
 * digest of the initial voters, in Kafka's cluster-id form (16 bytes,
 * URL-safe base64 without padding). Written to meta.properties at a data
 * directory's first start and read from there afterwards.
 */
export function clusterIdOfVoters(voters: readonly VoterEndpoint[]): string {
  return createHash("sha256")
    .update(`chronik-cluster:${formatVoters(voters)}`)
    .digest()
    .subarray(0, 16)
    .toString("base64url");
}
