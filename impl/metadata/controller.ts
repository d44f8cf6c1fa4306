/**
 * The controller: the one writer of `__chronik_metadata`. Decisions run one at
 * a time against the applied image, so each sees the effect of the one before;
 * a decision's records are appended as one batch, and its caller is answered
 * only after they are durable and applied (image and local replicas alike).
 */
import type { Logger } from "../log.ts";
import type { ImageChange, MetadataImage } from "./image.ts";
import type { MetadataLog } from "./metadata-log.ts";
import type { MetadataRecord } from "./records.ts";

/** Reacts to applied changes (opens or deletes local partitions) before the decision is answered. */
export type ChangeListener = (changes: ImageChange[]) => Promise<void>;

export class ControllerQueueFullError extends Error {
  override readonly name = "ControllerQueueFullError";
}

export class Controller {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private readonly listeners: ChangeListener[] = [];

  constructor(
    readonly image: MetadataImage,
    private readonly log: MetadataLog,
    /** The epoch stamped on metadata batches (the Raft epoch once there is a quorum). */
    private readonly epoch: number,
    private readonly logger: Logger,
    /** Decisions waiting their turn; past this, callers are refused instead of queued. */
    private readonly queuedDecisionsMax = 1000,
  ) {}

  onApplied(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `decide` when every earlier decision has been applied. It returns the
   * records to commit (possibly none) and a result; the promise resolves with
   * the result once the records are committed and applied.
   */
  decide<Result>(
    decide: (image: MetadataImage) => { records: MetadataRecord[]; result: Result },
  ): Promise<Result> {
    if (this.queued >= this.queuedDecisionsMax) {
      return Promise.reject(
        new ControllerQueueFullError(`${this.queued} controller decisions already queued`),
      );
    }
    this.queued += 1;
    const run = this.tail.then(async () => {
      try {
        const { records, result } = decide(this.image);
        if (records.length > 0) await this.commit(records);
        return result;
      } finally {
        this.queued -= 1;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async commit(records: MetadataRecord[]): Promise<void> {
    const offsets = await this.log.append(records, this.epoch);
    const changes: ImageChange[] = [];
    records.forEach((record, index) => {
      const change = this.image.apply(record, offsets[index]!);
      if (change) changes.push(change);
    });
    this.logger.info(
      { firstOffset: offsets[0], lastOffset: offsets.at(-1), records: records.map((record) => record.type) },
      "metadata committed",
    );
    for (const listener of this.listeners) await listener(changes);
  }
}
