/**
 * A real cluster for tests: N `chronik start` processes on loopback, each with
 * its own free port and data directory, all voters of one metadata quorum
 * (`--voters` lists every node). Nodes can be stopped, killed and started
 * again on the same address and data; more nodes can join as observers.
 */
import { createServer } from "node:net";
import path from "node:path";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "./broker-process.ts";

export interface ClusterNode {
  nodeId: number;
  port: number;
  dataDir: string;
  /** The running process, or null while the node is down. */
  process: BrokerProcess | null;
}

/** A port nothing listens on right now: bound to 0, read, released. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

export class LocalCluster {
  private constructor(
    private readonly root: string,
    readonly nodes: ClusterNode[],
    /** The --voters value every node starts with. */
    readonly voters: string,
    private readonly extraArgs: string[],
  ) {}

  /** Starts `count` voters at once (a majority must be up before any can finish starting). */
  static async start(count: number, extraArgs: string[] = []): Promise<LocalCluster> {
    const root = await makeDataDir();
    const nodes: ClusterNode[] = [];
    for (let nodeId = 1; nodeId <= count; nodeId++) {
      nodes.push({
        nodeId,
        port: await freePort(),
        dataDir: path.join(root, `node-${nodeId}`),
        process: null,
      });
    }
    const voters = nodes.map((node) => `${node.nodeId}@127.0.0.1:${node.port}`).join(",");
    const cluster = new LocalCluster(root, nodes, voters, extraArgs);
    try {
      await Promise.all(nodes.map((node) => cluster.startNode(node.nodeId)));
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  node(nodeId: number): ClusterNode {
    const node = this.nodes.find((candidate) => candidate.nodeId === nodeId);
    if (node === undefined) throw new Error(`no node ${nodeId} in this cluster`);
    return node;
  }

  /** The running nodes. */
  get up(): ClusterNode[] {
    return this.nodes.filter((node) => node.process !== null);
  }

  /** "127.0.0.1:PORT" of every running node, for a client's bootstrap list. */
  get bootstrap(): string[] {
    return this.up.map((node) => `127.0.0.1:${node.port}`);
  }

  /** Starts (or restarts) a node on its address and data; resolves once it serves clients. */
  async startNode(nodeId: number): Promise<BrokerProcess> {
    const node = this.node(nodeId);
    const started = await startBroker({
      dataDir: node.dataDir,
      port: node.port,
      args: ["--node-id", String(nodeId), "--voters", this.voters, ...this.extraArgs],
    });
    node.process = started;
    return started;
  }

  /** A node that is not among the voters: it joins as an observer (a broker) and may be added as a voter. */
  async addNode(nodeId: number): Promise<BrokerProcess> {
    this.nodes.push({
      nodeId,
      port: await freePort(),
      dataDir: path.join(this.root, `node-${nodeId}`),
      process: null,
    });
    return this.startNode(nodeId);
  }

  async stopNode(nodeId: number): Promise<number | null> {
    const node = this.node(nodeId);
    const code = node.process === null ? null : await node.process.stop();
    node.process = null;
    return code;
  }

  /** kill -9. */
  async killNode(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    await node.process?.kill();
    node.process = null;
  }

  /** Every log line of every process this cluster started, with the node that wrote it. */
  logLines(nodeId: number): Array<Record<string, unknown>> {
    return this.node(nodeId).process?.logLines ?? [];
  }

  async destroy(): Promise<void> {
    await Promise.all(this.up.map((node) => node.process!.kill()));
    for (const node of this.nodes) node.process = null;
    await removeDataDir(this.root);
  }
}
