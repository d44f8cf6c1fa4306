/**
 * The metadata log of a controller the test plays (played-controller.ts):
 * `__chronik_metadata` as the leader of one quorum epoch holds it, its
 * records encoded with the project's own codec, and the MetadataImage they
 * make, which is the controller's view. The controller is the only voter, so
 * a record commits as it is appended; the node under test learns it from its
 * next metadata fetch. Delivery may be held back for a moment, as metadata
 * that reaches a broker only after an answer that depended on it.
 */
import { encodeLeaderChange, type RaftEntry } from "../../impl/cluster/raft/raft-log.ts";
import { MetadataImage } from "../../impl/metadata/image.ts";
import { encodeEntryBatches } from "../../impl/metadata/raft-entry-batches.ts";
import {
  decodeMetadataRecord,
  encodeMetadataRecord,
  type MetadataRecordInput,
} from "../../impl/metadata/records.ts";

export class PlayedMetadataLog {
  /** The controller's view: every record appended, delivered or not. */
  readonly image = new MetadataImage();
  private readonly entries: RaftEntry[] = [];
  /** Entries below this offset are the node's to fetch; those past it are committed but held back. */
  private deliverable = 0;
  private holding = false;
  private listeners: Array<() => void> = [];

  /** The log of `leaderId` leading `epoch`: it starts, as every leader's epoch does, with a leader-change entry. */
  constructor(
    readonly epoch: number,
    leaderId: number,
  ) {
    this.entries.push({
      offset: 0,
      epoch,
      kind: "leaderChange",
      payload: encodeLeaderChange({ leaderId, voters: [leaderId] }),
    });
    this.deliverable = 1;
  }

  /** The offset the next record appended takes. */
  get endOffset(): number {
    return this.entries.length;
  }

  /** Where the node's log ends once it has fetched everything delivered: the high watermark it is given. */
  get deliveredEnd(): number {
    return this.deliverable;
  }

  /** The epoch of the entry at `offset`, or null past the delivered end. */
  epochAt(offset: number): number | null {
    return offset < this.deliverable ? this.entries[offset]!.epoch : null;
  }

  /** The delivered entries from `offset` on, as the record batches of a Fetch answer. */
  batchesFrom(offset: number): Buffer {
    return encodeEntryBatches(this.entries.slice(offset, this.deliverable));
  }

  /**
   * Appends the records, applies them to the controller's image and, unless
   * delivery is held back, makes them the node's to fetch.
   */
  append(records: readonly MetadataRecordInput[]): void {
    for (const record of records) {
      const payload = encodeMetadataRecord(record);
      const offset = this.entries.length;
      // The image reads the record back as the node will, every default filled in.
      this.image.apply(decodeMetadataRecord(payload), BigInt(offset));
      this.entries.push({ offset, epoch: this.epoch, kind: "data", payload });
    }
    if (!this.holding) this.deliver();
  }

  /** Records appended from now on wait for deliver(). */
  holdBack(): void {
    this.holding = true;
  }

  /** Every record appended so far becomes the node's to fetch, and later ones go at once again. */
  deliver(): void {
    this.holding = false;
    if (this.deliverable === this.entries.length) return;
    this.deliverable = this.entries.length;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  /** Calls `listener` once, the next time records are delivered. */
  onceDelivered(listener: () => void): void {
    this.listeners.push(listener);
  }
}
