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
import { type AlterPartitionSender, PartitionLeader } from "../replication/partition-leader.ts";
import { PartitionLog } from "../storage/partition-log.ts";
import type { SyncScheduler } from "../storage/sync-scheduler.ts";
import type { TransitionTrace } from "../trace/transition-trace.ts";
import type { BrokerConfig } from "./config.ts";
import { effectiveTopicConfig, logConfigFor } from "./topic-configs.ts";

export class LocalPartition {
  private waiters = new Set<() => void>();
  private logEndWaiters = new Set<() => void>();
  private watermark: bigint;
  /**
   * While this node leads: the high watermark in the last answer to each
   * follower, so a fetch from one that has not heard the current one is
   * answered at once rather than held.
   */
  readonly highWatermarksSent = new Map<number, bigint>();

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

  /**
   * A follower's high watermark: the leader's, as its fetch answer gave it,
   * clamped to what this replica holds (it may not have fetched that far).
   */
  followLeaderHighWatermark(leaderHighWatermark: bigint): void {
    const end = this.log.logEndOffset;
    this.advanceHighWatermark(leaderHighWatermark < end ? leaderHighWatermark : end);
  }

  /**
   * After a truncation the high watermark may stand past the new log end;
   * Kafka's truncateTo lowers it likewise. The only way it moves back.
   */
  clampHighWatermarkToLogEnd(): void {
    if (this.watermark > this.log.logEndOffset) this.watermark = this.log.logEndOffset;
  }

  /** Tells the replica fetches waiting on this leader that the log grew (or was truncated). */
  logEndMoved(): void {
    const woken = this.logEndWaiters;
    this.logEndWaiters = new Set();
    for (const wake of woken) wake();
  }

  /** Calls `wake` once, the next time logEndMoved is called. Returns a function that cancels it. */
  onceLogEndMoves(wake: () => void): () => void {
    this.logEndWaiters.add(wake);
    return () => this.logEndWaiters.delete(wake);
  }
}

function partitionKey(topic: string, partitionId: number): string {
  return `${topic}\u0000${partitionId}`;
}

/** How a replica this node follows gets its data: the replica fetchers (impl/replication). */
export interface FollowerFetching {
  follow(local: LocalPartition, leaderId: number, leaderEpoch: number): void;
  stopFollowing(local: LocalPartition): Promise<void>;
}

/** What leading a partition needs from outside: where its AlterPartition requests go, which brokers may join an ISR. */
export interface LeadershipServices {
  fetching: FollowerFetching;
  alterPartitionSenderFor(local: LocalPartition): AlterPartitionSender;
  /** The replicas whose brokers the applied metadata shows unregistered, fenced or in controlled shutdown. */
  isrIneligible(replicaIds: readonly number[]): number[];
}

/**
 * Told when this node starts or stops leading a partition: the group
 * coordinator loads and unloads its `__consumer_offsets` partitions by it.
 * Called synchronously with the change, so a listener sees every leadership
 * in order and never a stale one.
 */
export interface LeadershipListener {
  startedLeading(local: LocalPartition, leader: PartitionLeader): void;
  stoppedLeading(local: LocalPartition, leader: PartitionLeader): void;
}

/** acks=all produces waiting per partition at most (Kafka bounds them by memory; here by count). */
const waitingProducesPerPartitionMax = 10_000;

export class ReplicaManager {
  private readonly partitions = new Map<string, LocalPartition>();
  /** The partitions this node leads, each in its current leader epoch. */
  private readonly leaders = new Map<string, PartitionLeader>();
  private leadership: LeadershipServices | null = null;
  /** Held follower fetches to answer when this node starts leading a partition their follower replicates. */
  private readonly leadingWaiters = new Map<number, Set<{ wake: () => void }>>();
  /** Per replica id: how many partitions this node leads that it replicates; null once leaderships changed. */
  private ledPerFollower: Map<number, number> | null = null;
  private readonly leadershipListeners: LeadershipListener[] = [];

  constructor(
    private readonly config: BrokerConfig,
    private readonly sync: SyncScheduler,
    private readonly logger: Logger,
    private readonly trace?: TransitionTrace,
  ) {}

  /**
   * Starts taking the roles the image gives this node: leading (the ISR
   * machine) or following (the fetchers). Until then replicas are open but
   * serve nothing; the broker calls it once its peers are reachable.
   */
  async takeRoles(services: LeadershipServices): Promise<void> {
    this.leadership = services;
    for (const local of this.partitions.values()) await this.assumeRole(local);
  }

  onLeadership(listener: LeadershipListener): void {
    this.leadershipListeners.push(listener);
  }

  get(topic: string, partitionId: number): LocalPartition | undefined {
    return this.partitions.get(partitionKey(topic, partitionId));
  }

  all(): LocalPartition[] {
    return [...this.partitions.values()];
  }

  /** The ISR machine's runtime of a partition this node leads now, if it does. */
  leaderOf(local: LocalPartition): PartitionLeader | undefined {
    return this.leaders.get(partitionKey(local.topic.name, local.partitionId));
  }

  /** A follower fetched from `fetchOffset`: its progress goes to the ISR machine, when this node leads. */
  followerFetched(local: LocalPartition, replicaId: number, fetchOffset: bigint): void {
    this.leaderOf(local)?.replicaFetched(replicaId, fetchOffset);
  }

  /**
   * Whether this node leads a partition `replicaId` replicates that is not in
   * `requested` (partitions it leads with `replicaId` among their replicas).
   * Asked for each held follower fetch, so it compares counts, which are
   * counted again only after leaderships or replica sets changed.
   */
  leadsUnrequested(replicaId: number, requested: ReadonlySet<LocalPartition>): boolean {
    if (this.ledPerFollower === null) {
      this.ledPerFollower = new Map();
      for (const key of this.leaders.keys()) {
        for (const follower of this.partitions.get(key)?.image.replicas ?? []) {
          this.ledPerFollower.set(follower, (this.ledPerFollower.get(follower) ?? 0) + 1);
        }
      }
    }
    return requested.size < (this.ledPerFollower.get(replicaId) ?? 0);
  }

  /** Calls `wake` once, when this node starts leading a partition `replicaId` replicates; returns a cancel. */
  onceLeadingFor(replicaId: number, wake: () => void): () => void {
    let waiting = this.leadingWaiters.get(replicaId);
    if (waiting === undefined) {
      waiting = new Set();
      this.leadingWaiters.set(replicaId, waiting);
    }
    const entry = { wake };
    waiting.add(entry);
    return () => waiting.delete(entry);
  }

  /** Stops leading in the current epoch: the machine answers what waits, the listeners are told. */
  private resign(local: LocalPartition, leader: PartitionLeader): void {
    leader.resign();
    this.leaders.delete(partitionKey(local.topic.name, local.partitionId));
    this.ledPerFollower = null;
    for (const listener of this.leadershipListeners) listener.stoppedLeading(local, leader);
  }

  private startedLeading(local: LocalPartition): void {
    local.highWatermarksSent.clear();
    for (const replicaId of local.image.replicas) {
      const waiting = this.leadingWaiters.get(replicaId);
      if (waiting === undefined) continue;
      this.leadingWaiters.delete(replicaId);
      for (const entry of waiting) entry.wake();
    }
  }

  /** Lets every ISR machine see time pass, so followers that stopped fetching leave the ISR. */
  tickLeaders(): void {
    for (const leader of this.leaders.values()) leader.tick();
  }

  /**
   * A topic's configs changed: its open replicas take the new retention and
   * rolling, and the partitions this node leads the new min.insync.replicas.
   */
  private reconfigure(topic: TopicImage): void {
    for (const local of this.partitions.values()) {
      if (local.topic.topicId !== topic.topicId) continue;
      this.leaderOf(local)?.minInsyncReplicasChanged(this.minInsyncReplicasOf(topic));
      const problem = local.log.reconfigure(logConfigFor(topic.configs, this.config));
      if (problem === null) continue;
      this.logger.warn(
        { topic: topic.name, partition: local.partitionId, problem },
        "topic config change not applied to the replica's log; it keeps its previous settings",
      );
    }
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
    const local = new LocalPartition(topic, partition.partitionId, log);
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
      for (const partition of topic.partitions.values()) {
        await this.open(topic, partition);
        const local = this.get(topic.name, partition.partitionId);
        if (local !== undefined && this.leadership !== null) await this.assumeRole(local);
      }
    }
  }

  async apply(changes: ImageChange[]): Promise<void> {
    // The replicas a run of partition changes creates are opened side by side (a new topic's
    // partitions are independent files); roles are then taken in the order the changes came.
    let run: Array<Extract<ImageChange, { kind: "partition-changed" }>> = [];
    const flush = async () => {
      const latestOfEach = new Map(
        run.map((change) => [partitionKey(change.topic.name, change.partition.partitionId), change]),
      );
      await Promise.all(
        [...latestOfEach.values()].map((change) => this.open(change.topic, change.partition)),
      );
      for (const change of run) {
        const local = this.get(change.topic.name, change.partition.partitionId);
        if (local !== undefined && this.leadership !== null) await this.assumeRole(local);
      }
      run = [];
    };
    for (const change of changes) {
      if (change.kind === "partition-changed") run.push(change);
      if (change.kind === "topic-removed") {
        await flush();
        await this.remove(change.topic);
      }
      if (change.kind === "topic-config-changed") this.reconfigure(change.topic);
      if (change.kind === "broker-changed") this.brokerChanged(change.broker.brokerId);
    }
    await flush();
  }

  /** Tells each partition this node leads with the broker among its replicas which replicas may join its ISR. */
  private brokerChanged(brokerId: number): void {
    if (this.leadership === null) return;
    for (const [key, leader] of this.leaders) {
      const replicas = this.partitions.get(key)?.image.replicas;
      if (replicas?.includes(brokerId)) leader.eligibilityChanged(this.ineligibleFollowersOf(replicas));
    }
  }

  /** The leader's own eligibility is the controller's concern: it moves the leadership first. */
  private ineligibleFollowersOf(replicas: readonly number[]): number[] {
    const followers = replicas.filter((replicaId) => replicaId !== this.config.nodeId);
    return this.leadership?.isrIneligible(followers) ?? [];
  }

  private minInsyncReplicasOf(topic: TopicImage): number {
    return Number(effectiveTopicConfig(topic.configs, this.config, "min.insync.replicas"));
  }

  /**
   * Leads, follows or idles as the partition's applied metadata says. A new
   * leader epoch for this node starts a new ISR machine from the log as it is,
   * recording where the epoch starts; a change within its epoch (ISR,
   * partition epoch) goes to the running machine.
   */
  private async assumeRole(local: LocalPartition): Promise<void> {
    // Leadership or the replica set may change here.
    this.ledPerFollower = null;
    const services = this.leadership!;
    const image = local.image;
    const key = partitionKey(local.topic.name, local.partitionId);
    const current = this.leaders.get(key);
    if (image.leader === this.config.nodeId) {
      if (current !== undefined && current.leaderEpoch === image.leaderEpoch) {
        current.partitionChanged();
        return;
      }
      if (current !== undefined) this.resign(local, current);
      await services.fetching.stopFollowing(local);
      local.log.recordEpochStart(image.leaderEpoch, local.log.logEndOffset);
      const leader = new PartitionLeader(local, {
        nodeId: this.config.nodeId,
        minInsyncReplicas: this.minInsyncReplicasOf(local.topic),
        ineligibleReplicas: this.ineligibleFollowersOf(image.replicas),
        replicaLagMsMax: this.config.replicaLagMsMax,
        waitingProducesMax: waitingProducesPerPartitionMax,
        sendAlterPartition: services.alterPartitionSenderFor(local),
        logger: this.logger,
        ...(this.trace === undefined ? {} : { trace: this.trace }),
      });
      this.leaders.set(key, leader);
      this.startedLeading(local);
      for (const listener of this.leadershipListeners) listener.startedLeading(local, leader);
      return;
    }
    if (current !== undefined) this.resign(local, current);
    if (image.leader >= 0) services.fetching.follow(local, image.leader, image.leaderEpoch);
    else await services.fetching.stopFollowing(local);
  }

  private async remove(topic: TopicImage): Promise<void> {
    for (const partitionId of topic.partitions.keys()) {
      const key = partitionKey(topic.name, partitionId);
      const local = this.partitions.get(key);
      if (!local) continue;
      this.partitions.delete(key);
      const leader = this.leaders.get(key);
      if (leader !== undefined) this.resign(local, leader);
      this.ledPerFollower = null;
      await this.leadership?.fetching.stopFollowing(local);
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
    for (const [key, leader] of [...this.leaders]) {
      const local = this.partitions.get(key);
      if (local !== undefined) this.resign(local, leader);
    }
    this.leaders.clear();
    this.ledPerFollower = null;
    for (const local of this.partitions.values()) {
      await this.leadership?.fetching.stopFollowing(local);
      await local.log.checkpointHighWatermark(local.highWatermark);
      await local.log.close();
    }
    this.partitions.clear();
  }
}
