/**
 * This node's part in the metadata quorum: the Raft runtime (impl/cluster/raft)
 * over `__chronik_metadata`, and the applier that brings committed records into
 * the MetadataImage, in offset order, before anyone is told they committed.
 *
 * Every node applies what the quorum commits; the node that leads is also the
 * controller, the one writer (MetadataWriter). A node started without
 * `--voters` is the only voter of its quorum: it elects itself at once, and
 * every record commits when it is durable. That is the same path a cluster
 * takes, with a quorum of one.
 */

import type { MembershipError } from "../../machines/raft-quorum.ts";
import { QuorumStateFile } from "../cluster/quorum-state-file.ts";
import { systemRaftClock } from "../cluster/raft/clock.ts";
import type { RaftRole } from "../cluster/raft/core.ts";
import type { QuorumDescription } from "../cluster/raft/describe-quorum.ts";
import { NotLeaderError } from "../cluster/raft/errors.ts";
import type { LeadershipChange, RaftSettings } from "../cluster/raft/options.ts";
import { RaftNode, type RaftStatus } from "../cluster/raft/raft-node.ts";
import type { RaftRpcHandler, RaftTransport } from "../cluster/raft/raft-transport.ts";
import type { Logger } from "../log.ts";
import { type MetadataWriter, NotControllerError } from "../metadata/controller.ts";
import { type ImageChange, MetadataImage } from "../metadata/image.ts";
import { RaftMetadataLog } from "../metadata/raft-metadata-log.ts";
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from "../metadata/records.ts";
import type { SyncScheduler } from "../storage/sync-scheduler.ts";
import { appliedEntry } from "../trace/applied-entries.ts";
import type { TransitionTrace } from "../trace/transition-trace.ts";

/** Reacts to applied changes (opens or deletes local partitions) before the records are reported committed. */
export type ChangeListener = (changes: ImageChange[]) => Promise<void>;

/** How many entries the applier reads from the log at a time. */
const applyReadEntriesMax = 1_000;

export interface LeadershipView {
  role: RaftRole;
  epoch: number;
  leaderId: number | null;
}

interface Waiter<T> {
  ready(value: T): boolean;
  resolve(value: T): void;
}

export interface MetadataQuorumOptions {
  dataDir: string;
  nodeId: number;
  /** The voters before any voters entry in the log (--voters, or this node alone). */
  initialVoters: number[];
  transport: RaftTransport;
  sync: SyncScheduler;
  logger: Logger;
  raftSettings?: Partial<RaftSettings>;
  onFatal: (error: Error) => void;
  /** The transition trace (`--trace`): the quorum machine's steps and every applied entry. */
  trace?: TransitionTrace;
}

export class MetadataQuorum implements MetadataWriter {
  private readonly listeners: ChangeListener[] = [];
  /** Every record below this offset is in the image. */
  private appliedOffset = 0;
  /** Metadata records (not control entries) applied since the node started. */
  private appliedRecords = 0;
  private appliedWaiters: Array<Waiter<number>> = [];
  /** The highest high watermark the quorum reported; the applier works towards it. */
  private commitTarget = 0;
  /** The applier's run while it has committed entries to apply. */
  private applier: Promise<void> | null = null;
  private closing = false;
  private leadershipWaiters: Array<Waiter<LeadershipView>> = [];
  private raft!: RaftNode;
  private view: LeadershipView = { role: "follower", epoch: 0, leaderId: null };
  /**
   * While this node leads: its epoch, and the offset its image must reach
   * before it decides (past its own leader-change entry, so past everything
   * an earlier leader committed).
   */
  private leadership: { epoch: number; writableFrom: number } | null = null;

  private constructor(
    readonly nodeId: number,
    readonly image: MetadataImage,
    private readonly log: RaftMetadataLog,
    private readonly logger: Logger,
    private readonly trace: TransitionTrace | undefined,
  ) {}

  /**
   * Opens the log, replays what is known committed into a new image, and
   * starts the Raft node. A sole voter committed every durable record when it
   * wrote it, so it replays the whole log; a node with peers replays up to
   * its last checkpointed commit point (its log may end in entries a new
   * leader will truncate) and applies the rest as the leader commits it.
   */
  static async open(options: MetadataQuorumOptions): Promise<MetadataQuorum> {
    const { dataDir, nodeId, sync, logger } = options;
    const log = await RaftMetadataLog.open(dataDir, sync, logger);
    const quorum = new MetadataQuorum(nodeId, new MetadataImage(), log, logger, options.trace);
    const voters = log.latestVoters() ?? options.initialVoters;
    const soleVoter = voters.length === 1 && voters[0] === nodeId;
    const committed = soleVoter ? log.endOffset() : log.committedOffset();
    // The same applier as for commits; no listener is registered yet, so only the image changes.
    await quorum.applyUpTo(committed);
    quorum.commitTarget = committed;
    logger.info(
      { records: quorum.appliedRecords, topics: quorum.image.topicsByName.size, committedOffset: committed },
      "metadata log replayed",
    );
    quorum.raft = await RaftNode.start({
      nodeId,
      initialVoters: options.initialVoters,
      log,
      quorumState: new QuorumStateFile(dataDir),
      transport: options.transport,
      clock: systemRaftClock,
      logger,
      ...(options.raftSettings === undefined ? {} : { settings: options.raftSettings }),
      highWatermark: committed,
      onCommitted: (highWatermark) => quorum.commitAdvanced(highWatermark, options.onFatal),
      onLeadershipChange: (view) => quorum.leadershipChanged(view),
      onFatal: options.onFatal,
      ...(options.trace === undefined
        ? {}
        : { inspect: options.trace.inspector("raft-quorum", String(nodeId)) }),
    });
    return quorum;
  }

  /**
   * DescribeQuorum's view: the leader's record of every voter and observer,
   * with fetch times on the wall clock as Kafka reports them (the runtime
   * keeps them on a monotonic clock, which means nothing to another process).
   */
  async describe(): Promise<QuorumDescription> {
    const description = await this.raft.describeQuorum();
    const monotonicNow = systemRaftClock.nowMs();
    const wallNow = Date.now();
    const onWallClock = (monotonicMs: number) =>
      monotonicMs < 0 ? monotonicMs : wallNow - (monotonicNow - monotonicMs);
    const convert = (replica: QuorumDescription["voters"][number]) => ({
      ...replica,
      lastFetchTimestampMs: onWallClock(replica.lastFetchTimestampMs),
      lastCaughtUpTimestampMs: onWallClock(replica.lastCaughtUpTimestampMs),
    });
    return {
      ...description,
      voters: description.voters.map(convert),
      observers: description.observers.map(convert),
    };
  }

  /** Answers Vote, BeginQuorumEpoch, EndQuorumEpoch and metadata-log Fetch from other nodes. */
  get rpc(): RaftRpcHandler {
    return this.raft;
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  /** The quorum's leader as this node knows it: the controller, or null during an election. */
  get controllerId(): number | null {
    return this.view.leaderId;
  }

  get applied(): number {
    return this.appliedOffset;
  }

  onApplied(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** AddRaftVoter / RemoveRaftVoter on the leader: resolves with the quorum machine's answer once decided. */
  changeVoters(kind: "add" | "remove", nodeId: number): Promise<MembershipError> {
    return kind === "add" ? this.raft.addVoter(nodeId) : this.raft.removeVoter(nodeId);
  }

  /** Resolves with the first view (now or later) that names a leader. */
  whenLeaderKnown(): Promise<LeadershipView> {
    return this.waitForLeadership((view) => view.leaderId !== null);
  }

  /** Resolves with the first view that differs from `view` (a new epoch, role or leader). */
  whenLeadershipChanges(view: LeadershipView): Promise<LeadershipView> {
    return this.waitForLeadership(
      (now) => now.epoch !== view.epoch || now.role !== view.role || now.leaderId !== view.leaderId,
    );
  }

  /** Resolves once every record below `offset` is in the image (and the listeners have run). */
  whenApplied(offset: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter<number> = { ready: (applied) => applied >= offset, resolve: () => resolve() };
      if (waiter.ready(this.appliedOffset)) resolve();
      else this.appliedWaiters.push(waiter);
    });
  }

  /** Resolves once the applied image satisfies `holds` (checked now and after every applied batch). */
  whenImage(holds: (image: MetadataImage) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter<number> = { ready: () => holds(this.image), resolve: () => resolve() };
      if (waiter.ready(this.appliedOffset)) resolve();
      else this.appliedWaiters.push(waiter);
    });
  }

  async whenWritable(): Promise<void> {
    for (;;) {
      const leadership = this.leadership;
      if (leadership === null) {
        throw new NotControllerError(this.view.leaderId, "only the quorum leader writes metadata");
      }
      if (this.appliedOffset >= leadership.writableFrom) return;
      // Either the leader-change entry is applied, or leadership moved on.
      await Promise.race([
        this.whenApplied(leadership.writableFrom),
        this.whenLeadershipChanges({ ...this.view }),
      ]);
    }
  }

  /**
   * Appends the records as one batch through the Raft leader and resolves, with
   * their offsets, once they are committed and applied (image and listeners).
   */
  async append(records: MetadataRecord[]): Promise<{ firstOffset: number; lastOffset: number }> {
    let written: Awaited<ReturnType<RaftNode["append"]>>;
    try {
      written = await this.raft.append(records.map(encodeMetadataRecord));
    } catch (error) {
      if (error instanceof NotLeaderError) throw new NotControllerError(error.leaderId, error.message);
      throw error;
    }
    await this.whenApplied(written.lastOffset + 1);
    return { firstOffset: written.baseOffset, lastOffset: written.lastOffset };
  }

  private waitForLeadership(ready: (view: LeadershipView) => boolean): Promise<LeadershipView> {
    return new Promise((resolve) => {
      if (ready(this.view)) resolve({ ...this.view });
      else this.leadershipWaiters.push({ ready, resolve });
    });
  }

  private leadershipChanged(view: LeadershipChange): void {
    const leadsNow = view.role === "leader";
    if (leadsNow && view.epochStartOffset !== null && this.leadership?.epoch !== view.epoch) {
      this.leadership = { epoch: view.epoch, writableFrom: view.epochStartOffset + 1 };
    } else if (!leadsNow) {
      this.leadership = null;
    }
    this.view = { role: view.role, epoch: view.epoch, leaderId: view.leaderId };
    const waiting = this.leadershipWaiters;
    this.leadershipWaiters = [];
    for (const waiter of waiting) {
      if (waiter.ready(this.view)) waiter.resolve({ ...this.view });
      else this.leadershipWaiters.push(waiter);
    }
  }

  /**
   * The quorum's high watermark moved. Applying runs on its own, not in the
   * Raft node's effect queue: opening the partitions of a new topic takes
   * milliseconds, and the node's fetches, votes and appends must not wait
   * behind it (a follower that applies before fetching again would hold up the
   * next commit by as long).
   */
  private commitAdvanced(highWatermark: number, onFatal: (error: Error) => void): void {
    if (highWatermark <= this.commitTarget) return;
    this.commitTarget = highWatermark;
    if (this.applier !== null || this.closing) return;
    this.applier = (async () => {
      try {
        while (this.appliedOffset < this.commitTarget && !this.closing) {
          const before = this.appliedOffset;
          await this.applyUpTo(this.commitTarget);
          // Nothing more in the log yet (a high watermark past this node's log end): the next commit calls again.
          if (this.appliedOffset === before) break;
        }
      } catch (error) {
        if (this.closing) return;
        // An image that cannot follow the committed log would serve wrong metadata: stop, as a failed persist does.
        this.logger.error(
          { err: error, appliedOffset: this.appliedOffset },
          "applying committed metadata failed",
        );
        onFatal(error instanceof Error ? error : new Error(String(error)));
      } finally {
        this.applier = null;
      }
    })();
  }

  /** Applies committed entries in order; control entries (leader change, voters) carry no image change. */
  private async applyUpTo(highWatermark: number): Promise<void> {
    while (this.appliedOffset < highWatermark) {
      // Never past the high watermark: the entries above it may be truncated while this reads.
      const readMax = Math.min(applyReadEntriesMax, highWatermark - this.appliedOffset);
      const entries = await this.log.read(this.appliedOffset, readMax);
      if (entries.length === 0) break;
      const changes: ImageChange[] = [];
      let next = this.appliedOffset;
      for (const entry of entries) {
        if (entry.offset >= highWatermark) break;
        let record: MetadataRecord | undefined;
        if (entry.kind === "data") {
          record = decodeMetadataRecord(Buffer.from(entry.payload));
          const change = this.image.apply(record, BigInt(entry.offset));
          this.appliedRecords += 1;
          if (change) changes.push(change);
        }
        this.trace?.applied(appliedEntry(entry, record, this.image));
        next = entry.offset + 1;
      }
      for (const listener of this.listeners) await listener(changes);
      this.appliedOffset = next;
      const waiting = this.appliedWaiters;
      this.appliedWaiters = [];
      for (const waiter of waiting) {
        if (waiter.ready(next)) waiter.resolve(next);
        else this.appliedWaiters.push(waiter);
      }
    }
    // Restart replays from here: committed entries are never truncated, so this point stays valid.
    this.log.checkpointCommitted(this.appliedOffset).catch((error: unknown) => {
      this.logger.warn({ err: error, offset: this.appliedOffset }, "metadata commit checkpoint failed");
    });
  }

  /** Leaves the quorum gracefully (a leader tells the voters), then closes the log. */
  async close(): Promise<void> {
    await this.raft.shutdown();
    this.closing = true;
    await this.applier;
    await this.log.close();
    this.logger.debug("metadata quorum closed");
  }
}
