/**
 * The `__consumer_offsets` partitions this node leads, and so coordinates:
 * each is loaded when leadership arrives (its whole log folded into an
 * OffsetsPartitionState, while requests for its groups get
 * COORDINATOR_LOAD_IN_PROGRESS) and dropped when leadership leaves (requests
 * then get NOT_COORDINATOR and the client looks for the new coordinator).
 * Every write of a coordinator goes through here: one batch appended with
 * acks=all through the partition's ISR machine, answered once the high
 * watermark passes it, or with the coordinator error Kafka gives for the
 * failure.
 */
import type { LeadershipListener, LocalPartition } from "../broker/replica-manager.ts";
import type { Logger } from "../log.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { isBatchProblem, isControlBatch, lastOffsetOf, readBatchHeader } from "../protocol/record-batch.ts";
import { decodeBatchRecords, encodeRecordBatch, type RecordInput } from "../protocol/records.ts";
import type { PartitionLeader } from "../replication/partition-leader.ts";
import { OffsetsPartitionState } from "./offsets-state.ts";
import { offsetsTopicName } from "./offsets-topic.ts";

/** How much of the log one read brings while loading. */
const loadReadBytes = 1024 * 1024;
const acksAll = -1;

export interface CoordinatedPartition {
  partitionId: number;
  leaderEpoch: number;
  status: "loading" | "loaded";
  state: OffsetsPartitionState;
}

export interface OffsetsPartitionEvents {
  /** The partition's state is loaded: its groups may be served. */
  loaded(partition: CoordinatedPartition): void;
  /** Leadership left (or a new epoch began): its groups must stop. */
  unloaded(partition: CoordinatedPartition): void;
}

interface Led {
  coordinated: CoordinatedPartition;
  local: LocalPartition;
  leader: PartitionLeader;
}

export class OffsetsPartitions implements LeadershipListener {
  private readonly led = new Map<number, Led>();

  constructor(
    private readonly events: OffsetsPartitionEvents,
    private readonly logger: Logger,
  ) {}

  /** The partition if this node coordinates it now (loaded or loading). */
  get(partitionId: number): CoordinatedPartition | undefined {
    return this.led.get(partitionId)?.coordinated;
  }

  all(): CoordinatedPartition[] {
    return [...this.led.values()].map((led) => led.coordinated);
  }

  startedLeading(local: LocalPartition, leader: PartitionLeader): void {
    if (local.topic.name !== offsetsTopicName) return;
    const coordinated: CoordinatedPartition = {
      partitionId: local.partitionId,
      leaderEpoch: leader.leaderEpoch,
      status: "loading",
      state: new OffsetsPartitionState(),
    };
    const led = { coordinated, local, leader };
    this.led.set(local.partitionId, led);
    this.load(led).catch((error: unknown) => {
      if (this.led.get(local.partitionId) !== led) return;
      // A log that cannot be read back would serve wrong offsets: the partition stays unserved.
      this.logger.error(
        { partition: local.name, leaderEpoch: leader.leaderEpoch, err: error },
        "loading group coordinator state failed; its groups stay unavailable",
      );
    });
  }

  stoppedLeading(local: LocalPartition, leader: PartitionLeader): void {
    if (local.topic.name !== offsetsTopicName) return;
    const led = this.led.get(local.partitionId);
    if (led === undefined || led.leader !== leader) return;
    this.led.delete(local.partitionId);
    this.logger.info(
      { partition: local.name, leaderEpoch: leader.leaderEpoch },
      "group coordinator unloaded the partition's groups",
    );
    this.events.unloaded(led.coordinated);
  }

  /**
   * Appends one batch to the partition with acks=all and resolves with
   * NONE once it is committed, or with the append's own error code (each
   * caller turns it into what Kafka tells its client). The caller applies
   * what it wrote to the partition's state only on NONE.
   */
  async append(partition: CoordinatedPartition, records: RecordInput[]): Promise<number> {
    const led = this.led.get(partition.partitionId);
    if (led === undefined || led.coordinated !== partition) return ErrorCode.NOT_COORDINATOR;
    const batch = encodeRecordBatch(records);
    const header = readBatchHeader(batch, 0);
    if (isBatchProblem(header)) throw new Error(`a coordinator batch does not read back: ${header.detail}`);
    const outcome = await led.leader.produce(batch, [header], acksAll);
    return outcome.errorCode;
  }

  private async load(led: Led): Promise<void> {
    const { local, coordinated } = led;
    const started = performance.now();
    const log = local.log;
    await log.appendsWritten();
    const end = log.logEndOffset;
    let offset = log.logStartOffset;
    let records = 0;
    while (offset < end && this.led.get(local.partitionId) === led) {
      const read = await log.read(offset, loadReadBytes, end, true);
      if ("error" in read) throw new Error(`reading ${local.name} at ${offset}: ${read.error}`);
      if (read.records.length === 0) break;
      let position = 0;
      while (position < read.records.length) {
        const header = readBatchHeader(read.records, position);
        if (isBatchProblem(header)) throw new Error(`${local.name} at ${offset}: ${header.detail}`);
        if (!isControlBatch(header.attributes)) {
          for (const record of decodeBatchRecords(read.records, header)) {
            coordinated.state.apply(record);
            records += 1;
          }
        }
        offset = lastOffsetOf(header) + 1n;
        position += header.sizeBytes;
      }
    }
    if (this.led.get(local.partitionId) !== led) return;
    coordinated.status = "loaded";
    this.logger.info(
      {
        partition: local.name,
        leaderEpoch: coordinated.leaderEpoch,
        records,
        groups: coordinated.state.groupIds().length,
        loadMs: Math.round(performance.now() - started),
      },
      "group coordinator loaded the partition's groups",
    );
    this.events.loaded(coordinated);
  }
}
