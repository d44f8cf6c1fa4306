/**
 * A real cluster for tests: N `chronik start` processes on loopback, each with
 * its own free port and data directory, all voters of one metadata quorum
 * (`--voters` lists every node). Nodes can be stopped, killed, paused and
 * started again on the same address and data; more nodes can join as
 * observers. A placement may put each node on an address of its own and
 * start it through a launcher (a network namespace: support/netns-network.ts).
 */
import { createServer } from "node:net";
import path from "node:path";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "./broker-process.ts";

export interface ClusterNode {
  nodeId: number;
  /** Where it listens and what it advertises. */
  host: string;
  port: number;
  dataDir: string;
  /** The running process, or null while the node is down. */
  process: BrokerProcess | null;
}

/**
 * Ports the kernel never gives to an outgoing connection: below Linux's
 * ephemeral range (32768-60999). A port bound to 0 comes from that range, and
 * between its release and the node's bind any client socket of a test running
 * beside this one could take it as its local port.
 */
const fixedPortRange: [number, number] = [10_000, 32_768];
const freePortAttempts = 100;

/** A port nothing listens on right now, outside the ephemeral range: tried, found free, released. */
export async function freePort(): Promise<number> {
  const [low, high] = fixedPortRange;
  for (let attempt = 0; attempt < freePortAttempts; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found in ${low}-${high - 1} after ${freePortAttempts} attempts`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Where nodes run when not on loopback: an address each (all on one port) and a launcher each. */
export interface NodePlacement {
  port: number;
  hostOf(nodeId: number): string;
  launcherOf(nodeId: number): string[];
}

export interface ClusterOptions {
  /** The directory the nodes' data directories go in; the caller keeps it. A new temporary one by default. */
  root?: string;
  placement?: NodePlacement;
  /** Arguments for one node only (e.g. `--trace` with a file of its own). */
  argsOf?: (nodeId: number) => string[];
  /** Each node's log lines are appended to <logDirectory>/node-<id>.log. */
  logDirectory?: string;
}

export class LocalCluster {
  private constructor(
    private readonly root: string,
    /** Whether destroy removes the root: only when the cluster made it. */
    private readonly ownsRoot: boolean,
    readonly nodes: ClusterNode[],
    /** The --voters value every node starts with. */
    readonly voters: string,
    private readonly extraArgs: string[],
    private readonly options: ClusterOptions,
  ) {}

  /** Starts `count` voters at once (a majority must be up before any can finish starting). */
  static async start(
    count: number,
    extraArgs: string[] = [],
    options: ClusterOptions = {},
  ): Promise<LocalCluster> {
    const root = options.root ?? (await makeDataDir());
    const nodes: ClusterNode[] = [];
    for (let nodeId = 1; nodeId <= count; nodeId++) {
      nodes.push({
        nodeId,
        host: options.placement?.hostOf(nodeId) ?? "127.0.0.1",
        port: options.placement?.port ?? (await freePort()),
        dataDir: path.join(root, `node-${nodeId}`),
        process: null,
      });
    }
    const voters = nodes.map((node) => `${node.nodeId}@${node.host}:${node.port}`).join(",");
    const cluster = new LocalCluster(root, options.root === undefined, nodes, voters, extraArgs, options);
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

  /** "HOST:PORT" of every running node, for a client's bootstrap list. */
  get bootstrap(): string[] {
    return this.up.map((node) => `${node.host}:${node.port}`);
  }

  /** Starts (or restarts) a node on its address and data; resolves once it serves clients. */
  async startNode(nodeId: number): Promise<BrokerProcess> {
    const node = this.node(nodeId);
    const { placement, argsOf, logDirectory } = this.options;
    const started = await startBroker({
      dataDir: node.dataDir,
      port: node.port,
      host: node.host,
      args: [
        "--node-id",
        String(nodeId),
        "--voters",
        this.voters,
        ...this.extraArgs,
        ...(argsOf?.(nodeId) ?? []),
      ],
      ...(placement === undefined ? {} : { launcher: placement.launcherOf(nodeId) }),
      ...(logDirectory === undefined ? {} : { logFile: path.join(logDirectory, `node-${nodeId}.log`) }),
    });
    node.process = started;
    return started;
  }

  /** A node that is not among the voters: it joins as an observer (a broker) and may be added as a voter. */
  async addNode(nodeId: number): Promise<BrokerProcess> {
    this.nodes.push({
      nodeId,
      host: this.options.placement?.hostOf(nodeId) ?? "127.0.0.1",
      port: this.options.placement?.port ?? (await freePort()),
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

  /** SIGSTOP: the process keeps its sockets and files but answers nothing until resumed. */
  pauseNode(nodeId: number): void {
    this.node(nodeId).process?.child.kill("SIGSTOP");
  }

  /** SIGCONT. */
  resumeNode(nodeId: number): void {
    this.node(nodeId).process?.child.kill("SIGCONT");
  }

  /** Kills every node; removes the data unless the caller gave the directory. */
  async destroy(): Promise<void> {
    await Promise.all(this.up.map((node) => node.process!.kill()));
    for (const node of this.nodes) node.process = null;
    if (this.ownsRoot) await removeDataDir(this.root);
  }
}
