/**
 * Where this node's InitProducerId answers get their producer ids (Kafka's
 * RPCProducerIdManager): a block of ids from the controller, handed out one
 * by one, the next block asked for once 90% of the current one is gone so
 * that producers rarely wait. Only the controller gives blocks, each once
 * (impl/metadata/producer-ids.ts), so no two nodes, and no two runs of one
 * node, hand out the same id: ids left in a block at a restart are skipped,
 * never reused.
 *
 * One block request is in flight at a time; a failed one is retried after a
 * pause. An InitProducerId that finds no id waits for the request, up to its
 * own deadline; past it, or with too many waiting already, it is answered
 * COORDINATOR_LOAD_IN_PROGRESS, which clients retry (Kafka answers the same
 * while its next block is on its way).
 */

import type { Logger } from "../log.ts";
import { ControllerQueueFullError, NotControllerError } from "../metadata/controller.ts";
import {
  decideProducerIdBlock,
  type ProducerIdAllocation,
  type ProducerIdBlock,
} from "../metadata/producer-ids.ts";
import { allocateProducerIdsApi } from "../protocol/apis/allocate-producer-ids.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import type { BrokerServices } from "./services.ts";

/** The share of a block handed out when the next one is asked for (Kafka's PidPrefetchThreshold). */
const prefetchFraction = 0.9;
/** The pause after a failed block request (Kafka's RetryBackoffMs). */
const retryBackoffMsDefault = 50;
/** InitProducerIds waiting for a block at once; more are answered at once with a retriable error. */
const waitingMaxDefault = 1_000;
/** How long one AllocateProducerIds may take (Kafka's request.timeout.ms). */
const allocateTimeoutMs = 30_000;
const int64Max = (1n << 63n) - 1n;

export type ProducerIdOutcome =
  | { ok: true; producerId: bigint }
  | { ok: false; errorCode: number; errorMessage: string };

export interface ProducerIdManagerOptions {
  /** Asks the controller for the next block (or decides it, on the controller). */
  requestBlock: () => Promise<ProducerIdAllocation>;
  logger: Logger;
  waitingMax?: number;
  retryBackoffMs?: number;
}

interface CurrentBlock {
  next: bigint;
  last: bigint;
  /** Handing out this id asks for the next block. */
  prefetchAt: bigint;
}

export class ProducerIdManager {
  private current: CurrentBlock | null = null;
  /** The block after the current one, once the controller gave it. */
  private upcoming: ProducerIdBlock | null = null;
  /** The last id of the latest block accepted: every later block must start after it. */
  private lastGiven = -1n;
  private request: Promise<void> | null = null;
  private retryNotBefore = 0;
  private waiting = 0;
  private lastProblem = "no block was asked for yet";
  private readonly waitingMax: number;
  private readonly retryBackoffMs: number;

  constructor(private readonly options: ProducerIdManagerOptions) {
    this.waitingMax = options.waitingMax ?? waitingMaxDefault;
    this.retryBackoffMs = options.retryBackoffMs ?? retryBackoffMsDefault;
  }

  /** A producer id never handed out before, or a retriable refusal once `timeoutMs` passed without one. */
  async nextProducerId(timeoutMs: number): Promise<ProducerIdOutcome> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const producerId = this.claim();
      if (producerId !== null) return { ok: true, producerId };
      if (this.waiting >= this.waitingMax) {
        return this.refusal(`${this.waiting} InitProducerId requests already wait for a producer id block`);
      }
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) {
        return this.refusal(`no producer id block within ${timeoutMs} ms: ${this.lastProblem}`);
      }
      this.waiting += 1;
      try {
        await untilDeadline(this.fetchBlock(), remainingMs);
      } finally {
        this.waiting -= 1;
      }
    }
  }

  private refusal(why: string): ProducerIdOutcome {
    return { ok: false, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, errorMessage: why };
  }

  /** The next id of the current block (moving to the upcoming one when it is used up), or null. */
  private claim(): bigint | null {
    if ((this.current === null || this.current.next > this.current.last) && this.upcoming !== null) {
      const { firstProducerId, size } = this.upcoming;
      this.current = {
        next: firstProducerId,
        last: firstProducerId + BigInt(size) - 1n,
        prefetchAt: firstProducerId + BigInt(Math.floor(size * prefetchFraction)),
      };
      this.upcoming = null;
    }
    const block = this.current;
    if (block === null || block.next > block.last) return null;
    const producerId = block.next;
    block.next += 1n;
    if (producerId === block.prefetchAt) void this.fetchBlock();
    return producerId;
  }

  /** Asks for the next block unless one is waiting or asked for; resolves when that request ends. */
  private fetchBlock(): Promise<void> {
    if (this.upcoming !== null) return Promise.resolve();
    if (this.request !== null) return this.request;
    const pauseMs = Math.max(0, this.retryNotBefore - performance.now());
    this.request = (async () => {
      try {
        if (pauseMs > 0) await sleep(pauseMs);
        const outcome = await this.options.requestBlock();
        if (outcome.errorCode !== ErrorCode.NONE || !("block" in outcome)) {
          const message = "errorMessage" in outcome ? outcome.errorMessage : "";
          this.failed(`the controller answered ${errorName(outcome.errorCode)}: ${message}`);
          return;
        }
        const problem = this.problemWith(outcome.block);
        if (problem !== null) {
          this.failed(problem);
          return;
        }
        this.upcoming = outcome.block;
        this.lastGiven = outcome.block.firstProducerId + BigInt(outcome.block.size) - 1n;
        this.options.logger.info(
          { firstProducerId: String(outcome.block.firstProducerId), size: outcome.block.size },
          "got a producer id block",
        );
      } catch (error) {
        this.failed((error as Error).message);
      } finally {
        this.request = null;
      }
    })();
    return this.request;
  }

  /** Kafka's checks on an AllocateProducerIds answer: a real range, after every id given before. */
  private problemWith(block: ProducerIdBlock): string | null {
    const { firstProducerId, size } = block;
    if (firstProducerId < 0n || size <= 0 || firstProducerId > int64Max - BigInt(size)) {
      return `the producer id block ${firstProducerId} (+${size}) is not a valid range`;
    }
    if (firstProducerId <= this.lastGiven) {
      return `the producer id block from ${firstProducerId} does not start after ${this.lastGiven}, the end of the previous one`;
    }
    return null;
  }

  private failed(problem: string): void {
    this.lastProblem = problem;
    this.retryNotBefore = performance.now() + this.retryBackoffMs;
    this.options.logger.warn({ problem }, "asking for a producer id block failed; asking again on demand");
  }
}

/**
 * The block this node asks for: decided here when this node is the
 * controller, sent to the controller as AllocateProducerIds otherwise, with
 * the broker epoch of this node's registration.
 */
export async function requestProducerIdBlock(
  services: Pick<BrokerServices, "config" | "image" | "controller" | "controllerLink">,
): Promise<ProducerIdAllocation> {
  const brokerId = services.config.nodeId;
  const brokerEpoch = services.image.brokers.get(brokerId)?.brokerEpoch ?? -1n;
  if (!services.controllerLink.isLocal()) {
    const forwarded = await services.controllerLink.sendToController(
      allocateProducerIdsApi,
      0,
      { brokerId, brokerEpoch },
      allocateTimeoutMs,
    );
    if (forwarded.ok) {
      const { errorCode, producerIdStart, producerIdLen } = forwarded.response;
      if (errorCode !== ErrorCode.NONE) {
        return { errorCode, errorMessage: `AllocateProducerIds answered ${errorName(errorCode)}` };
      }
      return { errorCode: ErrorCode.NONE, block: { firstProducerId: producerIdStart, size: producerIdLen } };
    }
    // NOT_CONTROLLER here means this node became the controller meanwhile: decide below.
    if (forwarded.errorCode !== ErrorCode.NOT_CONTROLLER) return forwarded;
  }
  try {
    return await services.controller.decide((image) => decideProducerIdBlock(image, brokerId, brokerEpoch));
  } catch (error) {
    if (error instanceof NotControllerError) {
      return { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: error.message };
    }
    if (error instanceof ControllerQueueFullError) {
      return { errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: error.message };
    }
    throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `promise` settles or `timeoutMs` passes, whichever is first. */
async function untilDeadline(promise: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
