/**
 * Per-partition storage settings, named after the Kafka topic configs they
 * implement (segment.bytes, segment.ms, index.interval.bytes, retention.bytes,
 * retention.ms), with the unit last.
 */
export interface LogConfig {
  /** segment.bytes: roll when the active segment would exceed it. */
  segmentBytesMax: number;
  /** segment.ms: roll when the active segment's first batch is older. */
  segmentMsMax: number;
  /** index.interval.bytes: one sparse index entry per this many bytes. */
  indexIntervalBytes: number;
  /** retention.bytes: -1 = unlimited. */
  retentionBytesMax: number;
  /** retention.ms: -1 = unlimited. */
  retentionMsMax: number;
}

const dayMs = 24 * 60 * 60 * 1000;

export const defaultLogConfig: LogConfig = Object.freeze({
  segmentBytesMax: 1024 * 1024 * 1024,
  segmentMsMax: 7 * dayMs,
  indexIntervalBytes: 4096,
  retentionBytesMax: -1,
  retentionMsMax: 7 * dayMs,
});

export type FsyncPolicy = "always" | "interval" | "never";
export const fsyncPolicies: readonly FsyncPolicy[] = ["always", "interval", "never"];

/**
 * Largest batch the log stores. Recovery treats a length field above it as
 * garbage, so append refuses anything larger rather than write a batch that
 * recovery would later cut; it also bounds what one scan step allocates.
 */
export const storedBatchBytesMax = 256 * 1024 * 1024;

/** Index entries hold file positions as int32, so a segment must stay below 2 GiB. */
const segmentBytesLimit = 0x7fffffff;

/** Why the config cannot be used, or null. */
export function checkLogConfig(config: LogConfig): string | null {
  const { segmentBytesMax, segmentMsMax, indexIntervalBytes, retentionBytesMax, retentionMsMax } = config;
  if (!Number.isSafeInteger(segmentBytesMax) || segmentBytesMax < 1 || segmentBytesMax > segmentBytesLimit) {
    return `segmentBytesMax ${segmentBytesMax} is not within 1..${segmentBytesLimit}`;
  }
  if (!Number.isSafeInteger(segmentMsMax) || segmentMsMax < 1) {
    return `segmentMsMax ${segmentMsMax} is not positive`;
  }
  if (!Number.isSafeInteger(indexIntervalBytes) || indexIntervalBytes < 1) {
    return `indexIntervalBytes ${indexIntervalBytes} is not positive`;
  }
  if (!Number.isSafeInteger(retentionBytesMax) || retentionBytesMax < -1) {
    return `retentionBytesMax ${retentionBytesMax} is neither -1 nor a byte count`;
  }
  if (!Number.isSafeInteger(retentionMsMax) || retentionMsMax < -1) {
    return `retentionMsMax ${retentionMsMax} is neither -1 nor a duration`;
  }
  return null;
}
