/**
 * Names of the files in a partition directory. Segment files carry their base
 * offset as 20 zero-padded digits, as Kafka's do, so that a directory listing
 * sorts in offset order and Kafka's tools recognise the layout.
 */
import { readdir } from "node:fs/promises";

export const logFileSuffix = ".log";
export const offsetIndexFileSuffix = ".index";
export const timeIndexFileSuffix = ".timeindex";
export const leaderEpochCheckpointFileName = "leader-epoch-checkpoint";
export const highWatermarkFileName = "high-watermark";
/** Present only between a clean close and the next open: its absence means the last run crashed. */
export const cleanShutdownFileName = "clean-shutdown";

const offsetDigits = 20;
const segmentFilePattern = /^(\d{20})(\.log|\.index|\.timeindex)$/;

export type SegmentFileSuffix =
  | typeof logFileSuffix
  | typeof offsetIndexFileSuffix
  | typeof timeIndexFileSuffix;

export function segmentFileName(baseOffset: bigint, suffix: SegmentFileSuffix): string {
  if (baseOffset < 0n) throw new RangeError(`segment base offset ${baseOffset} is negative`);
  return baseOffset.toString().padStart(offsetDigits, "0") + suffix;
}

export function parseSegmentFileName(name: string): { baseOffset: bigint; suffix: SegmentFileSuffix } | null {
  const match = segmentFilePattern.exec(name);
  if (match === null) return null;
  return { baseOffset: BigInt(match[1]!), suffix: match[2] as SegmentFileSuffix };
}

export interface DirectoryListing {
  /** Base offsets of the `.log` files, ascending. */
  segmentBaseOffsets: bigint[];
  /** Index files whose `.log` is gone, and interrupted atomic writes. */
  leftoverNames: string[];
}

export async function listPartitionDirectory(directory: string): Promise<DirectoryListing> {
  const names = await readdir(directory);
  const logs = new Set<bigint>();
  const indexes: { name: string; baseOffset: bigint }[] = [];
  const leftoverNames: string[] = [];
  for (const name of names) {
    if (name.endsWith(".tmp")) {
      leftoverNames.push(name);
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (parsed === null) continue;
    if (parsed.suffix === logFileSuffix) logs.add(parsed.baseOffset);
    else indexes.push({ name, baseOffset: parsed.baseOffset });
  }
  for (const index of indexes) if (!logs.has(index.baseOffset)) leftoverNames.push(index.name);
  const segmentBaseOffsets = [...logs].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
  return { segmentBaseOffsets, leftoverNames };
}
