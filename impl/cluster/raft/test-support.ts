/**
 * A cluster of RaftNodes for tests: in-memory logs, in-memory quorum-state
 * stores (or real files), an in-process network and one fake clock. Time
 * moves only through `advance`, which fires the due timers one at a time and
 * lets every node settle (mailbox and effects empty, nothing moving) in
 * between, so a test reads like a protocol transcript and never sleeps.
 */
import type { RaftQuorumMachine } from "../../../machines/raft-quorum.ts";
import { type Logger, silentLogger } from "../../log.ts";
import type { QuorumStateRecord } from "../quorum-state-file.ts";
import { deferred } from "./deferred.ts";
import { FakeClock } from "./fake-clock.ts";
import { InMemoryRaftLog } from "./in-memory-log.ts";
import { InProcessNetwork } from "./in-process-transport.ts";
import type { QuorumStateStore, RaftSettings } from "./options.ts";
import { RaftNode } from "./raft-node.ts";

/** A quorum-state store in memory; `hold()` makes writes wait until released (a slow fsync). */
export class MemoryQuorumState implements QuorumStateStore {
  state: QuorumStateRecord | null = null;
  writes: QuorumStateRecord[] = [];
  private held: Array<() => void> | null = null;

  async read(): Promise<QuorumStateRecord | null> {
    return this.state === null ? null : { ...this.state };
  }

  async write(state: QuorumStateRecord): Promise<void> {
    if (this.held !== null) {
      const release = deferred<void>();
      this.held.push(() => release.resolve());
      await release.promise;
    }
    this.state = { ...state };
    this.writes.push({ ...state });
  }

  /** Writes wait from now on, until `release`. */
  hold(): void {
    this.held ??= [];
  }

  get waitingWrites(): number {
    return this.held?.length ?? 0;
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const resume of held) resume();
  }
}

export interface StartOptions {
  voters: number[];
  log?: InMemoryRaftLog;
  quorumState?: QuorumStateStore;
  settings?: Partial<RaftSettings>;
  highWatermark?: number;
  machine?: RaftQuorumMachine;
}

export class TestCluster {
  readonly clock: FakeClock;
  readonly network = new InProcessNetwork();
  readonly nodes = new Map<number, RaftNode>();
  readonly logs = new Map<number, InMemoryRaftLog>();
  readonly stores = new Map<number, QuorumStateStore>();
  /** Every high watermark each node was told to apply up to, in order. */
  readonly applied = new Map<number, number[]>();
  readonly fatal: Array<{ nodeId: number; error: Error }> = [];

  constructor(
    seed = 1,
    private readonly logger: Logger = silentLogger(),
  ) {
    this.clock = new FakeClock(seed);
  }

  /** Starts (or restarts) a node, keeping the log and quorum state of an earlier one unless given. */
  async start(nodeId: number, options: StartOptions): Promise<RaftNode> {
    const log = options.log ?? this.logs.get(nodeId) ?? new InMemoryRaftLog();
    const quorumState = options.quorumState ?? this.stores.get(nodeId) ?? new MemoryQuorumState();
    this.logs.set(nodeId, log);
    this.stores.set(nodeId, quorumState);
    const applied = this.applied.get(nodeId) ?? [];
    this.applied.set(nodeId, applied);
    const node = await RaftNode.start({
      nodeId,
      initialVoters: options.voters,
      log,
      quorumState,
      transport: this.network.transportFor(nodeId),
      clock: this.clock,
      logger: this.logger,
      ...(options.settings === undefined ? {} : { settings: options.settings }),
      ...(options.highWatermark === undefined ? {} : { highWatermark: options.highWatermark }),
      ...(options.machine === undefined ? {} : { machine: options.machine }),
      onCommitted: (highWatermark) => {
        applied.push(highWatermark);
      },
      onFatal: (error) => this.fatal.push({ nodeId, error }),
    });
    this.nodes.set(nodeId, node);
    this.network.register(nodeId, node);
    return node;
  }

  node(nodeId: number): RaftNode {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new Error(`test cluster: no node ${nodeId}`);
    return node;
  }

  log(nodeId: number): InMemoryRaftLog {
    return this.logs.get(nodeId)!;
  }

  /** Stops a node as a crash would: what it persisted and logged stays for a restart. */
  crash(nodeId: number): void {
    this.node(nodeId).stop("crashed");
    this.network.unregister(nodeId);
    this.nodes.delete(nodeId);
  }

  leaders(): RaftNode[] {
    return [...this.nodes.values()].filter((node) => !node.isStopped && node.role() === "leader");
  }

  /** The one leader; fails when there is none or more than one. */
  leader(): RaftNode {
    const leaders = this.leaders();
    if (leaders.length !== 1) {
      throw new Error(`expected one leader, found ${leaders.map((node) => node.nodeId).join(",") || "none"}`);
    }
    return leaders[0]!;
  }

  /** Lets promise chains, queued effects and in-process messages run until nothing moves. */
  async settle(): Promise<void> {
    let quiet = 0;
    for (let round = 0; round < 100_000; round++) {
      const before = this.activity();
      await Promise.all([...this.nodes.values()].map((node) => node.whenIdle()));
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.activity() === before) {
        if (++quiet >= 3) return;
      } else quiet = 0;
    }
    throw new Error("test cluster: did not settle (a busy loop?)");
  }

  /** Moves the fake clock forward, firing each due timer in turn and settling after each. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.nowMs() + ms;
    await this.settle();
    while (this.clock.fireNext(target)) await this.settle();
  }

  /** Advances in small steps until `done()` holds; fails after `limitMs` of fake time. */
  async advanceUntil(done: () => boolean, limitMs = 30_000, stepMs = 50): Promise<void> {
    const end = this.clock.nowMs() + limitMs;
    await this.settle();
    while (!done()) {
      if (this.clock.nowMs() >= end)
        throw new Error(`test cluster: condition not reached within ${limitMs} ms\n${this.describe()}`);
      await this.advance(stepMs);
    }
  }

  /** One line per node: role, epoch, leader, voters, high watermark and log, for failure messages. */
  describe(): string {
    return [...this.nodes.values()]
      .map((node) => {
        const s = node.status();
        const log = this.log(node.nodeId)
          .entries()
          .map((e) => `${e.epoch}:${e.kind === "data" ? new TextDecoder().decode(e.payload) : e.kind}`)
          .join(" ");
        return (
          `n${s.nodeId} ${node.isStopped ? "stopped" : s.role} epoch ${s.epoch} leader ${s.leaderId ?? "-"} ` +
          `voted ${s.votedFor ?? "-"} voters [${s.voters.join(",")}] hw ${s.highWatermark} log ${log}`
        );
      })
      .join("\n");
  }

  stopAll(): void {
    for (const node of this.nodes.values()) node.stop("test over");
  }

  private activity(): number {
    let sum = this.network.delivered;
    for (const node of this.nodes.values()) sum += node.activity;
    return sum;
  }
}

/** A text payload, for readable tests. */
export function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

export function textOf(payload: Uint8Array): string {
  return new TextDecoder().decode(payload);
}
