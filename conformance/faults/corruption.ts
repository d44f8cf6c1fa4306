/**
 * Damage to the tail of a stopped node's log, as a crash in the middle of a
 * write leaves it: garbage after the last batch (a write that reached the
 * file as noise), or the last batch cut short (a torn write). Only the
 * active (last) segment is touched: that is where a crash can tear a write,
 * and what the broker scans on start to cut what follows its last valid
 * batch (impl/storage/log-recovery.ts).
 *
 * A torn last batch may be one this node had already acknowledged (to the
 * leader as a follower, or to a client): that is data lost by one replica
 * after it was synced, which the cluster must survive because one fault
 * comes at a time and the other replicas hold the batch.
 */
import { open, readdir } from "node:fs/promises";
import path from "node:path";
import type { CorruptionPlan } from "./schedule.ts";
import { SeededRandom } from "./seeded-random.ts";

/** A batch's first 12 bytes: base offset (8) and the length of what follows (4). */
const batchLengthPosition = 8;
const batchOverheadBytes = 12;
export const metadataLogDirectory = "__chronik_metadata-0";

/** The active segment of a partition directory, or null when it has none. */
async function activeSegment(partitionDirectory: string): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(partitionDirectory);
  } catch {
    return null;
  }
  const logs = names.filter((name) => /^\d{20}\.log$/.test(name)).sort();
  const last = logs.at(-1);
  return last === undefined ? null : path.join(partitionDirectory, last);
}

/** Where the last whole batch of a segment starts and ends, walking the length fields. */
async function lastBatchOf(segmentPath: string): Promise<{ start: number; end: number } | null> {
  const file = await open(segmentPath, "r");
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(batchOverheadBytes);
    let position = 0;
    let last: { start: number; end: number } | null = null;
    while (position + batchOverheadBytes <= size) {
      await file.read(header, 0, batchOverheadBytes, position);
      const end = position + batchOverheadBytes + header.readInt32BE(batchLengthPosition);
      if (end <= position + batchOverheadBytes || end > size) break;
      last = { start: position, end };
      position = end;
    }
    return last;
  } finally {
    await file.close();
  }
}

/** Damages one partition directory's active segment; says what it did. */
export async function damageLogTail(
  partitionDirectory: string,
  plan: Pick<CorruptionPlan, "damage" | "amount" | "bytesSeed">,
): Promise<string> {
  const segmentPath = await activeSegment(partitionDirectory);
  const name = path.basename(partitionDirectory);
  if (segmentPath === null) return `${name}: no segment to damage`;
  const file = await open(segmentPath, "r+");
  try {
    const { size } = await file.stat();
    const lastBatch = plan.damage === "torn" ? await lastBatchOf(segmentPath) : null;
    if (lastBatch === null || lastBatch.end - lastBatch.start < 2) {
      const garbage = new SeededRandom(plan.bytesSeed).bytes(plan.damage === "garbage" ? plan.amount : 64);
      await file.write(garbage, 0, garbage.length, size);
      await file.sync();
      return `${name}: ${garbage.length} garbage bytes appended at byte ${size}`;
    }
    const batchBytes = lastBatch.end - lastBatch.start;
    const kept = Math.min(batchBytes - 1, Math.max(1, Math.floor((batchBytes * plan.amount) / 1000)));
    await file.truncate(lastBatch.start + kept);
    await file.sync();
    return `${name}: last batch (bytes ${lastBatch.start}-${lastBatch.end}) torn after ${kept} bytes, ${size - lastBatch.start - kept} bytes cut`;
  } finally {
    await file.close();
  }
}

/** The damage a `corrupt` fault plans, on a stopped node's data directory. */
export async function corruptNodeData(
  dataDir: string,
  plan: CorruptionPlan,
  topic: string,
): Promise<string[]> {
  const directories: string[] = [];
  if (plan.logs !== "data") directories.push(metadataLogDirectory);
  if (plan.logs !== "metadata") directories.push(`${topic}-${plan.partition}`);
  const done: string[] = [];
  for (const directory of directories) done.push(await damageLogTail(path.join(dataDir, directory), plan));
  return done;
}
