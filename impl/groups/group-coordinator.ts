/**
 * The group coordinator on this node: it serves the groups whose
 * `__consumer_offsets` partition this node leads. Each group's membership is
 * decided by its consumer group machine (machines/consumer-group.ts) run by a
 * GroupRuntime; committed offsets live in the partition's state and are
 * written, like group state, through the partition with acks=all before any
 * client hears they are stored.
 */
import { appendErrorToResponseError, type GroupRecord, type Limits } from "../../machines/consumer-group.ts";
import type { BrokerConfig } from "../broker/config.ts";
import type { Logger } from "../log.ts";
import type { MetadataImage } from "../metadata/image.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import type { RecordInput } from "../protocol/records.ts";
import type { TransitionTrace } from "../trace/transition-trace.ts";
import { groupPartition } from "./coordinator-lookup.ts";
import { GroupRuntime } from "./group-runtime.ts";
import { type CoordinatedPartition, OffsetsPartitions } from "./offsets-partitions.ts";
import { groupMetadataKeyBytes, groupMetadataValueBytes, offsetCommitKeyBytes } from "./offsets-records.ts";
import { groupValueOf, storedGroupOf } from "./stored-group.ts";

export interface GroupCoordinatorServices {
  config: BrokerConfig;
  image: MetadataImage;
  logger: Logger;
  trace?: TransitionTrace;
}

export type Coordinated = { partition: CoordinatedPartition } | { errorCode: number };

/** Kafka's group.new.member.join.timeout: how long a new member may wait in a join phase. */
const newMemberJoinTimeoutMs = 5 * 60 * 1000;

export class GroupCoordinator {
  readonly partitions: OffsetsPartitions;
  /** The groups with a running machine, in partitions this node coordinates. */
  private readonly groups = new Map<string, { runtime: GroupRuntime; partition: CoordinatedPartition }>();
  private readonly logger: Logger;

  constructor(private readonly services: GroupCoordinatorServices) {
    this.logger = services.logger.child({ component: "group-coordinator" });
    this.partitions = new OffsetsPartitions(
      {
        loaded: (partition) => this.partitionLoaded(partition),
        unloaded: (partition) => this.partitionUnloaded(partition),
      },
      this.logger,
    );
  }

  /**
   * The partition that holds the group, when this node coordinates it and has
   * loaded it: NOT_COORDINATOR when another node does (or the topic does not
   * exist yet), COORDINATOR_LOAD_IN_PROGRESS while loading.
   */
  coordinated(groupId: string): Coordinated {
    const partitionId = groupPartition(this.services, groupId);
    const partition = partitionId === null ? undefined : this.partitions.get(partitionId);
    if (partition === undefined) return { errorCode: ErrorCode.NOT_COORDINATOR };
    if (partition.status === "loading") return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    return { partition };
  }

  /**
   * The group's running machine in its partition, started when `create` and
   * the group has none yet (a group known only by committed offsets starts
   * Empty, as Kafka loads it). Null when the group does not exist and may not
   * be created.
   */
  runtime(groupId: string, partition: CoordinatedPartition, create: boolean): GroupRuntime | null {
    const running = this.running(groupId, partition);
    if (running !== null) return running;
    if (!this.exists(groupId, partition) && !create) return null;
    return this.start(groupId, partition);
  }

  /**
   * The group's machine if one runs, without starting one: reads (ListGroups,
   * DescribeGroups) never start machines. A group that exists but has none
   * is known only by committed offsets, and so is Empty.
   */
  running(groupId: string, partition: CoordinatedPartition): GroupRuntime | null {
    const running = this.groups.get(groupId);
    return running !== undefined && running.partition === partition ? running.runtime : null;
  }

  /** Whether the partition holds anything of the group: state, offsets, or a running machine. */
  exists(groupId: string, partition: CoordinatedPartition): boolean {
    return (
      this.running(groupId, partition) !== null ||
      partition.state.groups.has(groupId) ||
      partition.state.hasOffsets(groupId)
    );
  }

  /** Every group of the loaded partitions, running or known only by what is stored. */
  *knownGroups(): Generator<{ groupId: string; partition: CoordinatedPartition }> {
    for (const partition of this.partitions.all()) {
      if (partition.status !== "loaded") continue;
      const ids = new Set([...partition.state.groupIds()]);
      for (const [groupId, running] of this.groups) if (running.partition === partition) ids.add(groupId);
      for (const groupId of ids) yield { groupId, partition };
    }
  }

  /** Whether any partition of this node is still being loaded (ListGroups reports it). */
  get loading(): boolean {
    return this.partitions.all().some((partition) => partition.status === "loading");
  }

  /** Appends records for the group's partition with acks=all; NONE once committed, or the append's error. */
  write(partition: CoordinatedPartition, records: RecordInput[]): Promise<number> {
    return this.partitions.append(partition, records);
  }

  private limits(): Limits {
    const { config } = this.services;
    return {
      groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
      groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
      groupMaxSize: config.groupMaxSize,
      groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
      groupNewMemberJoinTimeoutMs: newMemberJoinTimeoutMs,
      // Members given an id but not back yet are bounded like members.
      pendingMembersMax: config.groupMaxSize,
    };
  }

  private start(groupId: string, partition: CoordinatedPartition): GroupRuntime {
    const stored = partition.state.groups.get(groupId);
    const entry = {
      partition,
      runtime: new GroupRuntime({
        groupId,
        limits: this.limits(),
        storedGroup: stored === undefined ? null : storedGroupOf(stored),
        persist: (record) => this.persistGroup(partition, record),
        writeTombstone: (id) => this.deleteGroupRecords(partition, id),
        onDead: () => {
          if (this.groups.get(groupId) === entry) this.groups.delete(groupId);
        },
        logger: this.logger,
        ...(this.services.trace === undefined ? {} : { trace: this.services.trace }),
      }),
    };
    this.groups.set(groupId, entry);
    return entry.runtime;
  }

  private async persistGroup(partition: CoordinatedPartition, record: GroupRecord): Promise<number> {
    const value = groupValueOf(record, Date.now());
    const errorCode = await this.write(partition, [
      { key: groupMetadataKeyBytes(record.groupId), value: groupMetadataValueBytes(value) },
    ]);
    if (errorCode === ErrorCode.NONE) partition.state.groups.set(record.groupId, value);
    return errorCode;
  }

  /** A deleted group: its state and every offset it committed, tombstoned in one batch. */
  private async deleteGroupRecords(partition: CoordinatedPartition, groupId: string): Promise<number> {
    const offsets = partition.state.offsetsOf(groupId);
    const records: RecordInput[] = [
      ...offsets.map((committed) => ({
        key: offsetCommitKeyBytes(groupId, committed.topic, committed.partition),
        value: null,
      })),
      { key: groupMetadataKeyBytes(groupId), value: null },
    ];
    // The group machine maps a failed write of the group itself; a deletion's answer comes from here.
    const errorCode = appendErrorToResponseError(await this.write(partition, records));
    if (errorCode === ErrorCode.NONE) {
      for (const committed of offsets)
        partition.state.removeOffset(groupId, committed.topic, committed.partition);
      partition.state.groups.delete(groupId);
    }
    return errorCode;
  }

  /** Stored groups start their machines at once, so members' sessions run from the takeover. */
  private partitionLoaded(partition: CoordinatedPartition): void {
    for (const groupId of partition.state.groups.keys()) this.start(groupId, partition);
  }

  private partitionUnloaded(partition: CoordinatedPartition): void {
    for (const [, entry] of [...this.groups]) {
      if (entry.partition === partition) entry.runtime.unload();
    }
  }
}
