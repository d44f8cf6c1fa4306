/**
 * The controller: the one writer of `__chronik_metadata`, on the node that
 * leads the metadata quorum. Decisions run one at a time against the applied
 * image, so each sees the effect of the one before; a decision's records are
 * appended as one batch, and its caller is answered only after they are
 * committed and applied (image and local replicas alike).
 */
import type { Logger } from "../log.ts";
import type { MetadataImage } from "./image.ts";
import type { MetadataRecord } from "./records.ts";

/** Where decisions go: the quorum appends them and resolves once they are committed and applied. */
export interface MetadataWriter {
  append(records: MetadataRecord[]): Promise<{ firstOffset: number; lastOffset: number }>;
}

export class ControllerQueueFullError extends Error {
  override readonly name = "ControllerQueueFullError";
}

export class Controller {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  constructor(
    readonly image: MetadataImage,
    private readonly writer: MetadataWriter,
    private readonly logger: Logger,
    /** Decisions waiting their turn; past this, callers are refused instead of queued. */
    private readonly queuedDecisionsMax = 1000,
  ) {}

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
    const { firstOffset, lastOffset } = await this.writer.append(records);
    this.logger.info(
      { firstOffset, lastOffset, records: records.map((record) => record.type) },
      "metadata committed",
    );
  }
}
