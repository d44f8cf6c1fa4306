/**
 * meta.properties: the cluster id and node id a data directory belongs to,
 * written at first start, checked at every later one so that a directory is
 * never served under another node's identity. A node started with `--voters`
 * takes the id the voters list gives every node of that cluster; a node
 * without is a cluster of its own, with a random id.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { clusterIdOfVoters, type VoterEndpoint } from "../cluster/voters.ts";

const fileName = "meta.properties";

/** Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding. */
function newClusterId(): string {
  return randomBytes(16).toString("base64url");
}

function parse(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const equals = trimmed.indexOf("=");
    if (equals > 0) entries.set(trimmed.slice(0, equals), trimmed.slice(equals + 1));
  }
  return entries;
}

export async function loadClusterIdentity(
  dataDir: string,
  nodeId: number,
  voters: readonly VoterEndpoint[] | null,
): Promise<string> {
  const file = path.join(dataDir, fileName);
  let text: string | null = null;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (text === null) {
    const clusterId = voters === null ? newClusterId() : clusterIdOfVoters(voters);
    await writeFile(file, `version=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`, { flush: true });
    return clusterId;
  }
  const entries = parse(text);
  const clusterId = entries.get("cluster.id");
  const storedNodeId = entries.get("node.id");
  if (!clusterId) throw new Error(`${file} has no cluster.id`);
  if (storedNodeId !== String(nodeId)) {
    throw new Error(
      `${file} belongs to node ${storedNodeId}, but this node is ${nodeId}; refusing to serve it`,
    );
  }
  return clusterId;
}
