/**
 * This node's part in the metadata quorum: the Raft runtime (impl/cluster/raft)
 * over `__chronik_metadata`, and the applier that brings committed records into
 * the MetadataImage, in offset order, before anyone is told they committed.
 *
 * A node started without `--voters` is the only voter of its quorum: it elects
 * itself at once, and every record commits when it is durable. That is the same
 * path a cluster takes, with a quorum of one.
 */

import { QuorumStateFile } from "../cluster/quorum-state-file.ts";
import { systemRaftClock } from "../cluster/raft/clock.ts";
import type { QuorumDescription } from "../cluster/raft/describe-quorum.ts";
import { RaftNode } from "../cluster/raft/raft-node.ts";
import type { RaftTransport } from "../cluster/raft/raft-transport.ts";
import type { Logger } from "../log.ts";
import { type ImageChange, MetadataImage } from "../metadata/image.ts";
import { RaftMetadataLog } from "../metadata/raft-metadata-log.ts";
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from "../metadata/records.ts";
import type { SyncScheduler } from "../storage/sync-scheduler.ts";

/** Reacts to applied changes (opens or deletes local partitions) before the records are reported committed. */
export type ChangeListener = (changes: ImageChange[]) => Promise<void>;

/** How many entries the applier reads from the log at a time. */
const applyReadEntriesMax = 1_000;

/** A quorum of one sends nothing: a call here means the voter set grew, which needs the cluster transport. */
const noPeers: RaftTransport = {
  vote: (to) => Promise.reject(new Error(`no transport to node ${to}: this node is the only voter`)),
  beginQuorumEpoch: (to) =>
    Promise.reject(new Error(`no transport to node ${to}: this node is the only voter`)),
  endQuorumEpoch: (to) =>
    Promise.reject(new Error(`no transport to node ${to}: this node is the only voter`)),
  fetch: (to) => Promise.reject(new Error(`no transport to node ${to}: this node is the only voter`)),
};

export class MetadataQuorum {
  private readonly listeners: ChangeListener[] = [];
  /** Every record below this offset is in the image. */
  private appliedOffset = 0;
  /** Metadata records (not control entries) applied since the node started. */
  private appliedRecords = 0;
  private appliedWaiters: Array<{ offset: number; resolve: () => void }> = [];
  private raft!: RaftNode;
  private leading!: () => void;
  /** Resolves once this node leads and has applied what it committed as leader. */
  readonly leadership: Promise<void> = new Promise((resolve) => {
    this.leading = resolve;
  });

  private constructor(
    readonly image: MetadataImage,
    private readonly log: RaftMetadataLog,
    private readonly logger: Logger,
  ) {}

  /**
   * Opens the log, replays it into a new image, and starts the Raft node. With
   * one voter every durable record was committed when it was written, so the
   * whole log is replayed; a node with peers will replay only to its last
   * known commit point (a snapshot), which the cluster adds.
   */
  static async open(options: {
    dataDir: string;
    nodeId: number;
    sync: SyncScheduler;
    logger: Logger;
    onFatal: (error: Error) => void;
  }): Promise<MetadataQuorum> {
    const { dataDir, nodeId, sync, logger } = options;
    const log = await RaftMetadataLog.open(dataDir, sync, logger);
    const quorum = new MetadataQuorum(new MetadataImage(), log, logger);
    // The same applier as for commits; no listener is registered yet, so only the image changes.
    await quorum.applyUpTo(log.endOffset());
    logger.info(
      { records: quorum.appliedRecords, topics: quorum.image.topicsByName.size },
      "metadata log replayed",
    );
    quorum.raft = await RaftNode.start({
      nodeId,
      initialVoters: [nodeId],
      log,
      quorumState: new QuorumStateFile(dataDir),
      transport: noPeers,
      clock: systemRaftClock,
      logger,
      highWatermark: log.endOffset(),
      onCommitted: (highWatermark) => quorum.applyUpTo(highWatermark),
      onFatal: options.onFatal,
    });
    return quorum;
  }

  /** DescribeQuorum's view: the leader's record of every voter and observer. */
  describe(): Promise<QuorumDescription> {
    return this.raft.describeQuorum();
  }

  onApplied(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Appends the records as one batch through the Raft leader and resolves, with
   * their offsets, once they are committed and applied (image and listeners).
   */
  async append(records: MetadataRecord[]): Promise<{ firstOffset: number; lastOffset: number }> {
    const { baseOffset, lastOffset } = await this.raft.append(records.map(encodeMetadataRecord));
    await this.applied(lastOffset + 1);
    return { firstOffset: baseOffset, lastOffset };
  }

  private applied(offset: number): Promise<void> {
    if (this.appliedOffset >= offset) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ offset, resolve }));
  }

  /** Applies committed entries in order; control entries (leader change, voters) carry no image change. */
  private async applyUpTo(highWatermark: number): Promise<void> {
    while (this.appliedOffset < highWatermark) {
      const entries = await this.log.read(this.appliedOffset, applyReadEntriesMax);
      const changes: ImageChange[] = [];
      let next = this.appliedOffset;
      for (const entry of entries) {
        if (entry.offset >= highWatermark) break;
        if (entry.kind === "data") {
          const change = this.image.apply(
            decodeMetadataRecord(Buffer.from(entry.payload)),
            BigInt(entry.offset),
          );
          if (change) changes.push(change);
        }
        next = entry.offset + 1;
      }
      for (const listener of this.listeners) await listener(changes);
      this.appliedOffset = next;
      const ready = this.appliedWaiters.filter((waiter) => waiter.offset <= next);
      this.appliedWaiters = this.appliedWaiters.filter((waiter) => waiter.offset > next);
      for (const waiter of ready) waiter.resolve();
    }
    // A leader's high watermark first moves when its own leader-change record commits.
    if (this.raft !== undefined && this.raft.role() === "leader") this.leading();
  }

  /** Leaves the quorum gracefully (a leader tells the voters), then closes the log. */
  async close(): Promise<void> {
    await this.raft.shutdown();
    await this.log.close();
    this.logger.debug("metadata quorum closed");
  }
}
