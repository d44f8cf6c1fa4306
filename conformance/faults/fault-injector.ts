/**
 * Carries out one planned fault and heals it: kill -9 and restart, SIGTERM
 * (a controlled shutdown) and restart, SIGSTOP and SIGCONT, links cut and
 * restored, or kill -9, damage on disk and restart. It returns once the
 * fault is healed (the cluster may still be catching up), with what is worth
 * reporting of it.
 */
import type { LocalCluster } from "../support/cluster-process.ts";
import type { NetnsNetwork } from "../support/netns-network.ts";
import { corruptNodeData } from "./corruption.ts";
import type { NodeKeeper } from "./node-keeper.ts";
import type { PlannedFault } from "./schedule.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class FaultInjector {
  constructor(
    private readonly cluster: LocalCluster,
    private readonly network: NetnsNetwork,
    private readonly keeper: NodeKeeper,
    private readonly topic: string,
  ) {}

  /** Injects the fault, holds it, heals it; returns what was done to the disk or how the node stopped. */
  async inject(fault: PlannedFault): Promise<string[]> {
    const [node, peer] = fault.nodes as [number, number | undefined];
    switch (fault.kind) {
      case "kill":
        await this.keeper.kill(node);
        await sleep(fault.holdMs);
        await this.keeper.start(node);
        return [];
      case "stop": {
        const outcome = await this.keeper.stop(node);
        await sleep(fault.holdMs);
        await this.keeper.start(node);
        return [outcome];
      }
      case "pause":
        this.keeper.pause(node);
        await sleep(fault.holdMs);
        this.keeper.resume(node);
        return [];
      case "cut":
        await this.cutFor([[node, peer!]], fault.holdMs);
        return [];
      case "isolate": {
        const others = this.cluster.nodes.map((other) => other.nodeId).filter((other) => other !== node);
        await this.cutFor(
          others.map((other) => [node, other]),
          fault.holdMs,
        );
        return [];
      }
      case "corrupt": {
        await this.keeper.kill(node);
        const done = await corruptNodeData(this.cluster.node(node).dataDir, fault.corruption!, this.topic);
        await sleep(fault.holdMs);
        await this.keeper.start(node);
        return done;
      }
    }
  }

  private async cutFor(links: Array<[number, number]>, holdMs: number): Promise<void> {
    for (const [first, second] of links) await this.network.cut(first, second);
    await sleep(holdMs);
    for (const [first, second] of links) await this.network.heal(first, second);
  }
}
