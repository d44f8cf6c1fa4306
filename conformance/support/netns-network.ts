/**
 * A network whose links a test can cut: each node runs in a network
 * namespace of its own, joined to the root namespace by a veth pair, and the
 * root namespace forwards between them. A cut between two nodes is a pair of
 * `ip rule ... blackhole` policy rules in the root namespace, so the packets
 * it forwards between them are dropped without a word (no ICMP: TCP sees
 * only silence, as with a pulled cable), while clients in the root namespace
 * still reach every node. This needs root and `ip` only; the machine's `tc`
 * has no netem and there is no iptables or nft.
 *
 * Addresses: a run claims a block b of 10.77.b.0/24 by creating its first
 * veth, whose name carries b (interface names are unique, so creating it is
 * the lock two concurrent runs contend for), and node i gets the /30 at
 * 10.77.b.4i: 10.77.b.(4i+1) on the root side, 10.77.b.(4i+2) in its
 * namespace. Namespaces are named chronik-<pid>-<block>-<node>, so a run
 * that was killed with SIGKILL is recognised by its dead pid and swept by
 * the next one.
 */
import { execFile, execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { onExit } from "./exit-cleanup.ts";

const runFile = promisify(execFile);

const addressPrefix = "10.77";
const blockFirst = 1;
const blockLast = 250;
/** Four addresses per node in a /24. */
const nodeIdMax = 62;
const namespacePattern = /^chronik-(\d+)-(\d+)-(\d+)$/;
const forwardingSwitch = "/proc/sys/net/ipv4/ip_forward";

export class NetworkSetupError extends Error {}

async function ip(args: string[]): Promise<string> {
  try {
    const { stdout } = await runFile("ip", args);
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(" ")} failed: ${stderr || String(error)}`);
  }
}

/** `ip` for cleanups that must not stop at the first thing already gone. */
function ipQuietly(args: string[]): void {
  try {
    execFileSync("ip", args, { stdio: "ignore" });
  } catch {
    // Already removed (or never made): nothing to clean.
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function pairKey(first: number, second: number): string {
  return first < second ? `${first}-${second}` : `${second}-${first}`;
}

export class NetnsNetwork {
  private readonly cutPairs = new Set<string>();
  private destroyed = false;
  private readonly unregisterCleanup: () => void;

  private constructor(
    private readonly block: number,
    readonly nodeIds: readonly number[],
  ) {
    this.unregisterCleanup = onExit(() => this.destroySync());
  }

  /** Makes a namespace per node, or fails saying why (not root, no `ip netns`, ...). */
  static async create(nodeIds: readonly number[]): Promise<NetnsNetwork> {
    for (const nodeId of nodeIds) {
      if (!Number.isInteger(nodeId) || nodeId < 1 || nodeId > nodeIdMax)
        throw new RangeError(`node id ${nodeId} is outside 1..${nodeIdMax}`);
    }
    if (process.getuid?.() !== 0) {
      throw new NetworkSetupError("network namespaces need root: run the fault campaign as root");
    }
    await sweepDeadRuns();
    await enableForwarding();
    const first = nodeIds[0]!;
    for (let block = blockFirst; block <= blockLast; block++) {
      try {
        await ip(vethPairArguments(block, first));
      } catch (error) {
        // Another run holds this block: try the next one. Anything else is a setup failure.
        if (String(error).includes("File exists")) continue;
        throw new NetworkSetupError(`could not make a veth pair: ${String(error)}`);
      }
      const network = new NetnsNetwork(block, nodeIds);
      try {
        await network.build();
      } catch (error) {
        network.destroySync();
        throw new NetworkSetupError(
          `could not make network namespaces for the cluster (${String(error instanceof Error ? error.message : error)})`,
        );
      }
      return network;
    }
    throw new NetworkSetupError(`no free address block in ${addressPrefix}.${blockFirst}-${blockLast}.0/24`);
  }

  /** The node's address inside its namespace: it listens and advertises on it. */
  hostOf(nodeId: number): string {
    return `${addressPrefix}.${this.block}.${4 * nodeId + 2}`;
  }

  /** The command prefix that runs a program inside the node's namespace (ip execs it: the pid is the program's). */
  launcherOf(nodeId: number): string[] {
    return ["ip", "netns", "exec", this.namespaceOf(nodeId)];
  }

  namespaceOf(nodeId: number): string {
    return `chronik-${process.pid}-${this.block}-${nodeId}`;
  }

  /** Links cut right now, as "a-b" with a < b. */
  get cuts(): string[] {
    return [...this.cutPairs].sort();
  }

  /** Drops every packet between the two nodes, both ways; clients still reach both. */
  async cut(first: number, second: number): Promise<void> {
    const key = pairKey(first, second);
    if (this.cutPairs.has(key)) return;
    this.cutPairs.add(key);
    for (const [from, to] of [
      [first, second],
      [second, first],
    ] as const) {
      await ip(["rule", "add", "from", this.hostOf(from), "to", this.hostOf(to), "blackhole"]);
    }
  }

  async heal(first: number, second: number): Promise<void> {
    const key = pairKey(first, second);
    if (!this.cutPairs.delete(key)) return;
    for (const [from, to] of [
      [first, second],
      [second, first],
    ] as const) {
      await ip(["rule", "del", "from", this.hostOf(from), "to", this.hostOf(to), "blackhole"]);
    }
  }

  async healAll(): Promise<void> {
    for (const key of this.cuts) {
      const [first, second] = key.split("-").map(Number) as [number, number];
      await this.heal(first, second);
    }
  }

  /** Removes the rules, links and namespaces. Processes still inside a namespace keep it alive until they exit. */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  private async build(): Promise<void> {
    // Rules a killed run left for this block would cut the new run's links.
    removeRulesOfBlock(this.block);
    for (const nodeId of this.nodeIds) {
      const namespace = this.namespaceOf(nodeId);
      const root = rootLink(this.block, nodeId);
      const inner = nodeLink(this.block, nodeId);
      await ip(["netns", "add", namespace]);
      if (nodeId !== this.nodeIds[0]) await ip(vethPairArguments(this.block, nodeId));
      await ip(["link", "set", inner, "netns", namespace]);
      await ip(["addr", "add", `${this.rootSideOf(nodeId)}/30`, "dev", root]);
      await ip(["link", "set", root, "up"]);
      await ip(["-n", namespace, "addr", "add", `${this.hostOf(nodeId)}/30`, "dev", inner]);
      await ip(["-n", namespace, "link", "set", inner, "up"]);
      await ip(["-n", namespace, "link", "set", "lo", "up"]);
      await ip(["-n", namespace, "route", "add", "default", "via", this.rootSideOf(nodeId)]);
    }
  }

  private rootSideOf(nodeId: number): string {
    return `${addressPrefix}.${this.block}.${4 * nodeId + 1}`;
  }

  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.unregisterCleanup();
    removeRulesOfBlock(this.block);
    this.cutPairs.clear();
    for (const nodeId of this.nodeIds) {
      // Deleting one end of a veth pair deletes both.
      ipQuietly(["link", "del", rootLink(this.block, nodeId)]);
      ipQuietly(["netns", "del", this.namespaceOf(nodeId)]);
    }
  }
}

/** `ip` arguments making a node's veth pair, both ends in the root namespace for now. */
function vethPairArguments(block: number, nodeId: number): string[] {
  return ["link", "add", rootLink(block, nodeId), "type", "veth", "peer", "name", nodeLink(block, nodeId)];
}

function rootLink(block: number, nodeId: number): string {
  return `chr${block}r${nodeId}`;
}

function nodeLink(block: number, nodeId: number): string {
  return `chr${block}n${nodeId}`;
}

/** Every blackhole rule naming an address of the block, found by its priority. */
function removeRulesOfBlock(block: number): void {
  let listing: string;
  try {
    listing = execFileSync("ip", ["rule", "list"], { encoding: "utf8" });
  } catch {
    return;
  }
  const blockAddress = new RegExp(`\\b${addressPrefix.replace(".", "\\.")}\\.${block}\\.\\d+\\b`);
  for (const line of listing.split("\n")) {
    const match = /^(\d+):\s+(.*)$/.exec(line);
    if (match === null || !blockAddress.test(match[2]!) || !match[2]!.includes("blackhole")) continue;
    ipQuietly(["rule", "del", "priority", match[1]!]);
  }
}

/** Namespaces (and with them their links) of runs whose process is gone. */
async function sweepDeadRuns(): Promise<void> {
  let listing: string;
  try {
    listing = await ip(["netns", "list"]);
  } catch (error) {
    throw new NetworkSetupError(`\`ip netns\` does not work here: ${String(error)}`);
  }
  for (const line of listing.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const match = namespacePattern.exec(name);
    if (match === null || processAlive(Number(match[1]))) continue;
    const block = Number(match[2]);
    ipQuietly(["link", "del", rootLink(block, Number(match[3]))]);
    ipQuietly(["netns", "del", name]);
    removeRulesOfBlock(block);
  }
}

/** The root namespace must forward between the nodes' links; it is left on (other runs may rely on it). */
async function enableForwarding(): Promise<void> {
  try {
    await writeFile(forwardingSwitch, "1\n");
  } catch (error) {
    throw new NetworkSetupError(`could not enable IPv4 forwarding (${forwardingSwitch}): ${String(error)}`);
  }
}
