/**
 * The campaign's verdicts over what was acknowledged and what was read, as
 * pure functions of plain data: the log must hold every acknowledged record
 * exactly once, where the broker said it put it, each producer's records in
 * the order it sent them; the group must have seen every acknowledged record
 * (more than once is allowed: redelivery after a rebalance is at least
 * once); replicas must agree below the high watermark.
 */
import type { Acknowledgement } from "./workload.ts";

export interface ReadRecord {
  offset: bigint;
  value: string | null;
}

export interface LogVerdict {
  read: number;
  /** Acknowledged values the log does not hold. */
  lost: string[];
  /** Values the log holds more than once, acknowledged or not: an idempotent producer writes each once. */
  duplicated: string[];
  /** Acknowledged values held somewhere other than the partition and offset they were acknowledged at. */
  misplaced: string[];
  /** Acknowledged values held before a value their producer sent earlier. */
  outOfOrder: string[];
  /** Values held but never acknowledged (a given-up send, or an answer that never came): allowed. */
  unacknowledged: number;
}

/** "r-<producer>-<number>" */
function parseValue(value: string): { producer: string; number: number } | null {
  const match = /^r-(\d+)-(\d+)$/.exec(value);
  return match === null ? null : { producer: match[1]!, number: Number(match[2]) };
}

/** `logs`: every record of each partition, in log order, read from offset 0. */
export function checkLogs(
  acknowledged: ReadonlyMap<string, Acknowledgement>,
  logs: ReadonlyMap<number, readonly ReadRecord[]>,
): LogVerdict {
  const held = new Map<string, { partition: number; offset: bigint; count: number }>();
  const outOfOrder: string[] = [];
  let read = 0;
  for (const [partition, records] of logs) {
    const lastNumberOfProducer = new Map<string, number>();
    for (const record of records) {
      read += 1;
      if (record.value === null) continue;
      const seen = held.get(record.value);
      if (seen === undefined) held.set(record.value, { partition, offset: record.offset, count: 1 });
      else seen.count += 1;
      const parsed = acknowledged.has(record.value) ? parseValue(record.value) : null;
      if (parsed === null) continue;
      const last = lastNumberOfProducer.get(parsed.producer);
      if (last !== undefined && parsed.number <= last) outOfOrder.push(record.value);
      lastNumberOfProducer.set(parsed.producer, parsed.number);
    }
  }
  const lost: string[] = [];
  const misplaced: string[] = [];
  for (const [value, acknowledgement] of acknowledged) {
    const found = held.get(value);
    if (found === undefined) lost.push(value);
    else if (found.partition !== acknowledgement.partition || found.offset !== acknowledgement.offset)
      misplaced.push(
        `${value} acknowledged at ${acknowledgement.partition}@${acknowledgement.offset}, held at ${found.partition}@${found.offset}`,
      );
  }
  const duplicated = [...held].filter(([, found]) => found.count > 1).map(([value]) => value);
  const unacknowledged = [...held.keys()].filter((value) => !acknowledged.has(value)).length;
  return { read, lost, duplicated, misplaced, outOfOrder, unacknowledged };
}

export interface ConsumptionVerdict {
  /** Acknowledged values no member ever received. */
  missed: string[];
  /** Deliveries beyond the first, summed over all values. */
  redelivered: number;
}

export function checkConsumption(
  acknowledged: ReadonlyMap<string, Acknowledgement>,
  consumedCounts: ReadonlyMap<string, number>,
): ConsumptionVerdict {
  const missed = [...acknowledged.keys()].filter((value) => !consumedCounts.has(value));
  let redelivered = 0;
  for (const count of consumedCounts.values()) redelivered += count - 1;
  return { missed, redelivered };
}

/**
 * Each replica's records below the high watermark must be offsets 0..hw-1
 * with the same values on every node. With `complete` false (the metadata
 * log, committed once a majority of voters has it) a replica may hold only
 * a prefix, but what it holds must agree, and a majority must hold it all.
 * Returns what disagrees, if anything.
 */
export function compareReplicas(
  logName: string,
  replicas: ReadonlyMap<number, readonly ReadRecord[]>,
  highWatermark: bigint,
  complete = true,
): string[] {
  const problems: string[] = [];
  const below = new Map<number, readonly ReadRecord[]>();
  let holdingAll = 0;
  for (const [nodeId, records] of replicas) {
    const committed = records.filter((record) => record.offset < highWatermark);
    below.set(nodeId, committed);
    const gap = committed.findIndex((record, position) => record.offset !== BigInt(position));
    if (BigInt(committed.length) === highWatermark && gap < 0) holdingAll += 1;
    else if (gap >= 0 || complete) {
      const where =
        gap >= 0 ? `offset ${committed[gap]!.offset} at position ${gap}` : `${committed.length} records`;
      problems.push(`${logName}: node ${nodeId} does not hold offsets 0..${highWatermark - 1n} (${where})`);
    }
  }
  if (!complete && holdingAll <= replicas.size / 2)
    problems.push(
      `${logName}: only ${holdingAll} of ${replicas.size} replicas hold everything below ${highWatermark}`,
    );
  const [reference, ...others] = [...below].sort((left, right) => right[1].length - left[1].length);
  if (reference === undefined) return problems;
  for (const [nodeId, records] of others) {
    const differs = records.findIndex((record, position) => record.value !== reference[1][position]?.value);
    if (differs >= 0)
      problems.push(
        `${logName}: nodes ${reference[0]} and ${nodeId} differ at offset ${records[differs]!.offset} below the high watermark ${highWatermark}`,
      );
  }
  return problems;
}

/** At most `count` examples, for a report line. */
export function examples(values: readonly string[], count = 10): string {
  const shown = values.slice(0, count).join(", ");
  return values.length > count ? `${shown}, ... (${values.length} in all)` : shown;
}
