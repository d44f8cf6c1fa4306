/**
 * A partition log's producer state with its snapshot files, through the
 * log's life: recovered at open, snapshotted at each roll and at a clean
 * close, reread after a truncation, trimmed by retention and by
 * producer.id.expiration.ms. PartitionLog calls these at those points, under
 * its own ordering rules (appends synchronous, the rest under its lock).
 */
import type { Logger } from "pino";
import { type ProducerStateSettings, ProducerStateTable } from "./producer-state.ts";
import { type LogExtent, recoverProducerState, reloadProducerState } from "./producer-state-recovery.ts";
import { encodeProducerSnapshot, ProducerSnapshotFiles } from "./producer-state-snapshot.ts";
import type { Segment } from "./segment.ts";

export class PartitionProducers {
  private constructor(
    readonly table: ProducerStateTable,
    readonly snapshots: ProducerSnapshotFiles,
    private readonly logger: Logger,
  ) {}

  /** The state of a log just recovered (see recoverProducerState). */
  static async open(options: {
    directory: string;
    settings: ProducerStateSettings;
    segments: readonly Segment[];
    log: LogExtent;
    cleanShutdown: boolean;
    nowMs: number;
    logger: Logger;
  }): Promise<PartitionProducers> {
    const table = new ProducerStateTable(options.settings, options.log.endOffset);
    const snapshots = await ProducerSnapshotFiles.list(options.directory);
    await recoverProducerState({ ...options, table, snapshots });
    return new PartitionProducers(table, snapshots, options.logger);
  }

  /**
   * The state as it stands, taken now, for the snapshot at `offset` (a roll's
   * new base offset): the returned write is the caller's to track.
   */
  snapshotAt(offset: bigint): Promise<void> {
    return this.snapshots.write(offset, encodeProducerSnapshot(this.table.entries()));
  }

  /**
   * After the log was truncated to `log.endOffset`, or emptied (`fully`):
   * the state as of the new end, and no snapshot past it (Kafka's
   * truncateAndReload). With no producer known the log is not reread:
   * dropping batches adds none, and Kafka skips it likewise.
   */
  async truncated(options: {
    fully: boolean;
    segments: readonly Segment[];
    log: LogExtent;
    nowMs: number;
  }): Promise<void> {
    const { log } = options;
    if (options.fully || this.table.size === 0) {
      await this.snapshots.removeWhere((offset) => options.fully || offset > log.endOffset);
      this.table.clear(log.endOffset);
      return;
    }
    await reloadProducerState({
      ...options,
      table: this.table,
      snapshots: this.snapshots,
      logger: this.logger,
    });
  }

  /** Retention moved the log start: the snapshots of deleted segments go (the producers stay, as in Kafka). */
  async startMoved(logStartOffset: bigint): Promise<void> {
    await this.snapshots.removeWhere((offset) => offset < logStartOffset);
  }

  /** Forgets the producers whose producer.id.expiration.ms has passed. */
  expire(nowMs: number): void {
    const expired = this.table.removeExpired(nowMs);
    if (expired > 0) this.logger.info({ producers: expired }, "expired idle producer ids");
  }

  /** At a clean close: a snapshot at the log end, so the next open reads no batch. */
  async closing(logEndOffset: bigint): Promise<void> {
    if (!this.snapshots.has(logEndOffset)) await this.snapshotAt(logEndOffset);
  }
}
