/**
 * The partitions this node hosts, opened and removed as the metadata image
 * says: a replica exists here only after the record that assigns it has been
 * applied (metadata before data). It owns each partition's log, its high
 * watermark, and the long polls waiting for that watermark to move.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../log.ts";
import type { ImageChange, MetadataImage, PartitionImage, TopicImage } from "../metadata/image.ts";
import { PartitionLog } from "../storage/partition-log.ts";
import type { SyncScheduler } from "../storage/sync-scheduler.ts";
import type { BrokerConfig } from "./config.ts";
import { logConfigFor } from "./topic-configs.ts";

export class LocalPartition {
  private waiters = new Set<() => void>();
  private watermark: bigint;

  constructor(
    readonly topic: TopicImage,
    readonly partitionId: number,
    readonly log: PartitionLog,
  ) {
    this.watermark =
      log.checkpointedHighWatermark > log.logEndOffset ? log.logEndOffset : log.checkpointedHighWatermark;
  }

  get name(): string {
    return `${this.topic.name}-${this.partitionId}`;
  }

  get image(): PartitionImage {
    const partition = this.topic.partitions.get(this.partitionId);
    if (!partition) throw new Error(`partition ${this.name} is hosted but missing from the metadata image`);
    return partition;
  }

  get highWatermark(): bigint {
    return this.watermark;
  }

  /** Moves the high watermark forward (never back) and wakes the long polls waiting on it. */
  advanceHighWatermark(offset: bigint): void {
    if (offset <= this.watermark) return;
    if (offset > this.log.logEndOffset) {
      throw new Error(
        `high watermark ${offset} of ${this.name} would pass its log end ${this.log.logEndOffset}`,
      );
    }
    this.watermark = offset;
    const woken = this.waiters;
    this.waiters = new Set();
    for (const wake of woken) wake();
  }

  /** Calls `wake` once, the next time the high watermark moves. Returns a function that cancels it. */
  onceHighWatermarkMoves(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }
}

export function isSoleInSyncLeader(partition: PartitionImage, nodeId: number): boolean {
  return partition.leader === nodeId && partition.isr.length === 1 && partition.isr[0] === nodeId;
}

function partitionKey(topic: string, partitionId: number): string {
  return `${topic}\u0000${partitionId}`;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, LocalPartition>();

  constructor(
    private readonly config: BrokerConfig,
    private readonly sync: SyncScheduler,
    private readonly logger: Logger,
  ) {}

  get(topic: string, partitionId: number): LocalPartition | undefined {
    return this.partitions.get(partitionKey(topic, partitionId));
  }

  all(): LocalPartition[] {
    return [...this.partitions.values()];
  }

  private directoryOf(topic: string, partitionId: number): string {
    return path.join(this.config.dataDir, `${topic}-${partitionId}`);
  }

  private async open(topic: TopicImage, partition: PartitionImage): Promise<void> {
    const key = partitionKey(topic.name, partition.partitionId);
    if (this.partitions.has(key) || !partition.replicas.includes(this.config.nodeId)) return;
    const log = await PartitionLog.open({
      directory: this.directoryOf(topic.name, partition.partitionId),
      config: logConfigFor(topic.configs, this.config),
      sync: this.sync,
      logger: this.logger.child({ partition: `${topic.name}-${partition.partitionId}` }),
    });
    log.recordEpochStart(partition.leaderEpoch, log.logEndOffset);
    const local = new LocalPartition(topic, partition.partitionId, log);
    // A leader that is its own whole ISR has committed everything durable, as
    // Kafka's leader does on taking over; the checkpoint may lag after kill -9.
    if (isSoleInSyncLeader(partition, this.config.nodeId)) local.advanceHighWatermark(log.durableEndOffset);
    this.partitions.set(key, local);
    this.logger.info(
      {
        topic: topic.name,
        partition: partition.partitionId,
        leader: partition.leader,
        leaderEpoch: partition.leaderEpoch,
        logEndOffset: log.logEndOffset,
      },
      "replica opened",
    );
  }

  /** Opens every replica the image assigns to this node (at start, after replay). */
  async openAll(image: MetadataImage): Promise<void> {
    for (const topic of image.topicsByName.values()) {
      for (const partition of topic.partitions.values()) await this.open(topic, partition);
    }
  }

  async apply(changes: ImageChange[]): Promise<void> {
    for (const change of changes) {
      if (change.kind === "partition-changed") await this.open(change.topic, change.partition);
      if (change.kind === "topic-removed") await this.remove(change.topic);
    }
  }

  private async remove(topic: TopicImage): Promise<void> {
    for (const partitionId of topic.partitions.keys()) {
      const key = partitionKey(topic.name, partitionId);
      const local = this.partitions.get(key);
      if (!local) continue;
      this.partitions.delete(key);
      await local.log.close();
      await rm(this.directoryOf(topic.name, partitionId), { recursive: true, force: true });
      this.logger.info({ topic: topic.name, partition: partitionId }, "replica deleted with its topic");
    }
  }

  /** Saves every high watermark, as Kafka does every replica.high.watermark.checkpoint.interval.ms. */
  async checkpointHighWatermarks(): Promise<void> {
    for (const local of this.partitions.values()) {
      if (local.highWatermark !== local.log.checkpointedHighWatermark) {
        await local.log.checkpointHighWatermark(local.highWatermark);
      }
    }
  }

  async applyRetention(nowMs: number): Promise<void> {
    for (const local of this.partitions.values()) await local.log.applyRetention(nowMs);
  }

  async closeAll(): Promise<void> {
    for (const local of this.partitions.values()) {
      await local.log.checkpointHighWatermark(local.highWatermark);
      await local.log.close();
    }
    this.partitions.clear();
  }
}
