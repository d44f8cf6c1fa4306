/**
 * A RaftLog in memory, for tests and simulations: every write is "durable" at
 * once. It checks what a real log must check (contiguous offsets, epochs that
 * never decrease) so a runtime bug fails here rather than passing silently.
 */
import { type EpochStart, epochStartsOf } from "../../../machines/log-divergence.ts";
import { decodeVoters, type NewRaftEntry, type RaftEntry, type RaftLog } from "./raft-log.ts";

export class InMemoryRaftLog implements RaftLog {
  private log: RaftEntry[] = [];

  constructor(entries: readonly RaftEntry[] = []) {
    if (entries.length > 0) this.append(entries);
  }

  /** Every entry, for assertions; a copy. */
  entries(): RaftEntry[] {
    return [...this.log];
  }

  endOffset(): number {
    return this.log.length;
  }

  lastEpoch(): number {
    return this.log[this.log.length - 1]?.epoch ?? 0;
  }

  epochStarts(): EpochStart[] {
    return epochStartsOf(this.log.map((entry) => entry.epoch));
  }

  async appendAsLeader(entries: readonly NewRaftEntry[], epoch: number): Promise<RaftEntry[]> {
    const base = this.log.length;
    const written = entries.map((entry, i) => ({ ...entry, offset: base + i, epoch }));
    this.append(written);
    return written;
  }

  async appendAsFollower(entries: readonly RaftEntry[]): Promise<void> {
    this.append(entries);
  }

  async truncateTo(offset: number): Promise<void> {
    if (!Number.isInteger(offset) || offset < 0 || offset > this.log.length) {
      throw new Error(`in-memory log: truncate to ${offset} but the log ends at ${this.log.length}`);
    }
    this.log = this.log.slice(0, offset);
  }

  async read(fromOffset: number, maxEntries: number): Promise<RaftEntry[]> {
    if (fromOffset < 0 || fromOffset > this.log.length) {
      throw new Error(`in-memory log: read at ${fromOffset} but the log ends at ${this.log.length}`);
    }
    return this.log.slice(fromOffset, fromOffset + maxEntries);
  }

  latestVoters(): number[] | null {
    for (let i = this.log.length - 1; i >= 0; i--) {
      const entry = this.log[i]!;
      if (entry.kind === "voters") return decodeVoters(entry.payload);
    }
    return null;
  }

  private append(entries: readonly RaftEntry[]): void {
    let expected = this.log.length;
    let epoch = this.lastEpoch();
    for (const entry of entries) {
      if (entry.offset !== expected) {
        throw new Error(`in-memory log: entry at ${entry.offset} but the log ends at ${expected}`);
      }
      if (entry.epoch < epoch) {
        throw new Error(`in-memory log: entry of epoch ${entry.epoch} after epoch ${epoch}`);
      }
      expected++;
      epoch = entry.epoch;
    }
    this.log.push(...entries.map((entry) => ({ ...entry })));
  }
}
