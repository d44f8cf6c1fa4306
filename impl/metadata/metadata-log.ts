/**
 * `__chronik_metadata`: the one partition whose records are the cluster's
 * metadata. It is stored like any partition (segments, indexes, recovery);
 * each append is one batch, so the records of one decision (a topic and its
 * partitions) commit together or not at all.
 */
import path from "node:path";
import type { Logger } from "../log.ts";
import { isBatchProblem, readBatchHeader } from "../protocol/record-batch.ts";
import { decodeBatchRecords, encodeRecordBatch } from "../protocol/records.ts";
import { defaultLogConfig } from "../storage/log-config.ts";
import { PartitionLog } from "../storage/partition-log.ts";
import type { SyncScheduler } from "../storage/sync-scheduler.ts";
import { metadataTopicName } from "./internal-topics.ts";
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from "./records.ts";

/** How much of the log one replay read takes at a time. */
const replayReadBytesMax = 4 * 1024 * 1024;

export class MetadataLog {
  private constructor(private readonly log: PartitionLog) {}

  static async open(dataDir: string, sync: SyncScheduler, logger: Logger): Promise<MetadataLog> {
    const log = await PartitionLog.open({
      directory: path.join(dataDir, `${metadataTopicName}-0`),
      // Metadata is never deleted by retention: every record is part of the image.
      config: { ...defaultLogConfig, retentionBytesMax: -1, retentionMsMax: -1 },
      sync,
      logger: logger.child({ partition: `${metadataTopicName}-0` }),
    });
    return new MetadataLog(log);
  }

  get endOffset(): bigint {
    return this.log.logEndOffset;
  }

  /** Every durable record in order, for rebuilding the image at start. */
  async *records(): AsyncGenerator<{ offset: bigint; record: MetadataRecord }> {
    let offset = this.log.logStartOffset;
    const end = this.log.durableEndOffset;
    while (offset < end) {
      const result = await this.log.read(offset, replayReadBytesMax, end, true);
      if ("error" in result) throw new Error(`metadata log read at ${offset} failed: ${result.error}`);
      let position = 0;
      while (position < result.records.length) {
        const header = readBatchHeader(result.records, position);
        if (isBatchProblem(header)) throw new Error(`metadata log batch at ${offset}: ${header.detail}`);
        for (const entry of decodeBatchRecords(result.records, header)) {
          if (entry.offset >= offset && entry.value !== null) {
            yield { offset: entry.offset, record: decodeMetadataRecord(entry.value) };
          }
          offset = entry.offset + 1n;
        }
        position += header.sizeBytes;
      }
    }
  }

  /** Appends the records as one batch and resolves, with their offsets, once they are durable. */
  async append(records: MetadataRecord[], epoch: number): Promise<bigint[]> {
    const batch = encodeRecordBatch(
      records.map((record) => ({ value: encodeMetadataRecord(record) })),
      { partitionLeaderEpoch: epoch },
    );
    const header = readBatchHeader(batch, 0);
    if (isBatchProblem(header)) throw new Error(`metadata batch encoding broke: ${header.detail}`);
    const { baseOffset, durable } = this.log.append(batch, [header], epoch);
    await durable;
    return records.map((_, index) => baseOffset + BigInt(index));
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
