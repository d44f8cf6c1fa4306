/**
 * The controller: the one writer of `__chronik_metadata`, on the node that
 * leads the metadata quorum. Decisions run one at a time against the applied
 * image, so each sees the effect of the one before; a decision's records are
 * appended as one batch, and its caller is answered only after they are
 * committed and applied (image and local replicas alike). On a node that does
 * not lead, a decision is refused with NotControllerError before it runs.
 */
import type { Logger } from "../log.ts";
import type { MetadataImage } from "./image.ts";
import type { MetadataRecord } from "./records.ts";

/** Where decisions go: the quorum appends them and resolves once they are committed and applied. */
export interface MetadataWriter {
  /**
   * Resolves once this node may decide: it leads the quorum and its image holds
   * everything committed before its leadership. Rejects with NotControllerError
   * when it does not lead (or stops leading while waiting).
   */
  whenWritable(): Promise<void>;
  append(records: MetadataRecord[]): Promise<{ firstOffset: number; lastOffset: number }>;
}

export class ControllerQueueFullError extends Error {
  override readonly name = "ControllerQueueFullError";
}

/** This node is not the controller (does not lead the metadata quorum): Kafka's NOT_CONTROLLER. */
export class NotControllerError extends Error {
  override readonly name = "NotControllerError";
  constructor(
    /** The controller this node knows of, if any: where the request belongs. */
    readonly controllerId: number | null,
    detail: string,
  ) {
    super(`this node is not the controller (controller: ${controllerId ?? "unknown"}): ${detail}`);
  }
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
        await this.writer.whenWritable();
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
