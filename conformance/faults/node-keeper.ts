/**
 * The campaign's hold on the cluster's processes: it starts, kills, pauses
 * and stops nodes and tells a death it caused from one it did not. A node
 * that exits on its own (an assertion, a crash on a damaged log) is a
 * finding; so is one that will not start again on its data.
 */
import type { ChildProcess } from "node:child_process";
import type { LocalCluster } from "../support/cluster-process.ts";
import { onExit } from "../support/exit-cleanup.ts";

const startAttempts = 3;
const pauseBetweenStartsMs = 2_000;
const stopPatienceMs = 20_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class NodeKeeper {
  /** Deaths and failed starts nobody asked for, in the order they happened. */
  readonly problems: string[] = [];
  private readonly intended = new WeakSet<ChildProcess>();
  private readonly paused = new Set<number>();
  private readonly unregisterCleanup: () => void;

  constructor(private readonly cluster: LocalCluster) {
    for (const node of cluster.nodes) if (node.process !== null) this.watch(node.nodeId, node.process.child);
    // Ctrl-C must not leave brokers running (or stopped) behind.
    this.unregisterCleanup = onExit(() => {
      for (const node of cluster.nodes) node.process?.child.kill("SIGKILL");
    });
  }

  /** Starts a node on its data, a few times if need be; false if it never came up. */
  async start(nodeId: number): Promise<boolean> {
    for (let attempt = 1; attempt <= startAttempts; attempt++) {
      try {
        const started = await this.cluster.startNode(nodeId);
        this.watch(nodeId, started.child);
        return true;
      } catch (error) {
        this.problems.push(`node ${nodeId} did not start (attempt ${attempt}): ${String(error)}`);
        await sleep(pauseBetweenStartsMs);
      }
    }
    return false;
  }

  async kill(nodeId: number): Promise<void> {
    this.intend(nodeId);
    this.paused.delete(nodeId);
    await this.cluster.killNode(nodeId);
  }

  pause(nodeId: number): void {
    this.paused.add(nodeId);
    this.cluster.pauseNode(nodeId);
  }

  resume(nodeId: number): void {
    this.paused.delete(nodeId);
    this.cluster.resumeNode(nodeId);
  }

  /** Every node running and none paused, as the final checks need. */
  async restoreAll(): Promise<void> {
    for (const nodeId of [...this.paused]) this.resume(nodeId);
    for (const node of this.cluster.nodes) if (node.process === null) await this.start(node.nodeId);
  }

  /** SIGTERM to every node; one that does not exit in time is killed, and that is a finding. */
  async stopAll(): Promise<void> {
    await Promise.all(this.cluster.up.map((node) => this.stop(node.nodeId)));
  }

  /**
   * SIGTERM to one node: it goes through its controlled shutdown and exits
   * 0, or that is a finding (one that does not exit in time is killed). What
   * its controlled shutdown came to, from its own log.
   */
  async stop(nodeId: number): Promise<string> {
    this.intend(nodeId);
    this.paused.delete(nodeId);
    const logLines = this.cluster.node(nodeId).process?.logLines ?? [];
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.cluster.stopNode(nodeId),
      new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), stopPatienceMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (code === "late") {
      this.problems.push(`node ${nodeId} did not stop within ${stopPatienceMs} ms of SIGTERM`);
      await this.cluster.killNode(nodeId);
    } else if (code !== 0) {
      this.problems.push(`node ${nodeId} exited with ${code} on SIGTERM`);
    }
    return controlledShutdownOutcome(logLines);
  }

  /** Kills whatever still runs; the keeper is done. */
  async destroy(): Promise<void> {
    for (const node of this.cluster.nodes) this.intend(node.nodeId);
    await this.cluster.destroy();
    this.unregisterCleanup();
  }

  private intend(nodeId: number): void {
    const child = this.cluster.node(nodeId).process?.child;
    if (child !== undefined) this.intended.add(child);
  }

  private watch(nodeId: number, child: ChildProcess): void {
    child.once("exit", (code, signal) => {
      if (this.intended.has(child)) return;
      this.problems.push(`node ${nodeId} exited on its own (code ${code}, signal ${signal})`);
      // Down, so that restoring the cluster starts it again.
      const node = this.cluster.node(nodeId);
      if (node.process?.child === child) node.process = null;
    });
  }
}

/** The last word of a node's log on its controlled shutdown: granted (and how soon), or why not. */
function controlledShutdownOutcome(logLines: ReadonlyArray<Record<string, unknown>>): string {
  for (let index = logLines.length - 1; index >= 0; index--) {
    const line = logLines[index]!;
    if (line.msg === "controlled shutdown granted")
      return `controlled shutdown granted after ${line.waitedMs} ms`;
    if (typeof line.msg === "string" && line.msg.startsWith("controlled shutdown ")) return line.msg;
  }
  return "no controlled shutdown in its log";
}
