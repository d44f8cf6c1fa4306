/**
 * One partition led by this node, in one leader epoch: the ISR machine
 * (machines/isr.ts) run as an actor with its effects carried out here. The
 * machine decides everything about followers, the ISR and the high watermark,
 * and when an acks=all produce is refused, waits or completes; this class only
 * appends, moves the partition's high watermark, sends AlterPartition to the
 * controller and answers produces, as the machine's actions say.
 *
 * A new leader epoch gets a new PartitionLeader: the old one resigns (its
 * waiting produces are answered NOT_LEADER_OR_FOLLOWER by the machine).
 *
 * Idempotent producers' batches are checked against the partition's producer
 * state (storage/producer-state.ts) before the machine sees them: a refused
 * batch is answered at once, and a retry of a batch already written is
 * answered with the first attempt's offsets once that attempt is as safe as
 * the acks ask, without being written again.
 */
import { type Actor, createActor } from "xstate";
import { type Event, isrMachine } from "../../machines/isr.ts";
import type { LocalPartition } from "../broker/replica-manager.ts";
import type { Logger } from "../log.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import type { BatchHeader } from "../protocol/record-batch.ts";
import { type ProducerBatchProblem, ProducerBatchRefusedError } from "../storage/producer-state.ts";
import { partitionInstance } from "../trace/trace-lines.ts";
import type { TransitionTrace } from "../trace/transition-trace.ts";

/** What the controller answered to one AlterPartition, or that no answer came. */
export type AlterPartitionOutcome =
  | { errorCode: 0; leaderEpoch: number; partitionEpoch: number; isr: number[] }
  | { errorCode: number };

/** Sends the machine's proposal to the controller and resolves with its answer. */
export type AlterPartitionSender = (proposal: {
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
}) => Promise<AlterPartitionOutcome>;

export type ProduceOutcome =
  | { errorCode: 0; baseOffset: bigint }
  | { errorCode: number; errorMessage: string | null };

export interface PartitionLeaderOptions {
  nodeId: number;
  minInsyncReplicas: number;
  /** Replicas whose brokers the applied metadata shows unregistered, fenced or in controlled shutdown. */
  ineligibleReplicas: number[];
  /** replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR. */
  replicaLagMsMax: number;
  /** acks=all produces waiting for the high watermark at most; more are refused before they append. */
  waitingProducesMax: number;
  sendAlterPartition: AlterPartitionSender;
  logger: Logger;
  nowMs?: () => number;
  /** The transition trace (`--trace`), which records every step of this leader's ISR machine. */
  trace?: TransitionTrace;
}

interface PendingProduce {
  records: Buffer;
  batches: BatchHeader[];
  resolve(outcome: ProduceOutcome): void;
  baseOffset: bigint | null;
  /** acks=1 is answered when durable; acks=all when the machine completes it. */
  acks: number;
  /** A retry of batches already in the log at these offsets: nothing is appended for it. */
  duplicateOf: { firstOffset: bigint; lastOffset: bigint } | null;
}

/** The Kafka error for each producer state refusal, in every Produce version (3-11). */
const producerProblemErrorCodes: Record<ProducerBatchProblem, number> = {
  // Kafka answers a fenced epoch on Produce with INVALID_PRODUCER_EPOCH since 2.7 (KIP-588);
  // PRODUCER_FENCED is the transaction coordinator's answer, never Produce's.
  "invalid-producer-epoch": ErrorCode.INVALID_PRODUCER_EPOCH,
  "out-of-order-sequence": ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  "invalid-sequence": ErrorCode.INVALID_RECORD,
};

export class PartitionLeader {
  readonly leaderEpoch: number;
  private readonly actor: Actor<typeof isrMachine>;
  private readonly produces = new Map<number, PendingProduce>();
  private nextRequestId = 1;
  /** The AlterPartition whose answer the machine waits for; an answer to any other is stale. */
  private alterInFlight = 0;
  private alterSequence = 0;
  private resigned = false;
  /** What the machine was last told, so that an unrelated metadata change costs it no step. */
  private ineligibleReplicas: number[];
  private minInsyncReplicas: number;
  /** Per follower: the last caught-up position reported to the machine, and when. */
  private readonly idleFetchReports = new Map<number, { fetchOffset: bigint; atMs: number }>();
  private readonly nowMs: () => number;
  private readonly logger: Logger;

  constructor(
    private readonly local: LocalPartition,
    private readonly options: PartitionLeaderOptions,
  ) {
    this.nowMs = options.nowMs ?? Date.now;
    this.ineligibleReplicas = [...options.ineligibleReplicas];
    this.minInsyncReplicas = options.minInsyncReplicas;
    const image = local.image;
    this.leaderEpoch = image.leaderEpoch;
    this.logger = options.logger.child({ partition: local.name, leaderEpoch: image.leaderEpoch });
    const logEnd = Number(local.log.durableEndOffset);
    const machine = isrMachine.provide({
      actions: {
        sendAlterPartition: (_, params) => this.alterPartition(params),
        advanceHighWatermark: (_, params) => this.local.advanceHighWatermark(BigInt(params.highWatermark)),
        appendBatch: (_, params) => this.append(params.requestId),
        completeProduce: (_, params) => this.answer(params.requestId, null),
        refuseProduce: (_, params) => this.answer(params.requestId, params.errorCode),
      },
    });
    const traced = partitionInstance(local.topic.topicId, local.partitionId);
    this.actor = createActor(machine, {
      ...(options.trace === undefined ? {} : { inspect: options.trace.inspector("isr", traced) }),
      input: {
        leaderId: options.nodeId,
        leaderEpoch: image.leaderEpoch,
        partitionEpoch: image.partitionEpoch,
        replicas: [...image.replicas],
        isr: [...image.isr],
        leaderEndOffset: logEnd,
        leaderEpochStartOffset: Number(local.log.logEndOffset),
        highWatermark: Number(local.highWatermark),
        minInsyncReplicas: options.minInsyncReplicas,
        ineligibleReplicas: [...options.ineligibleReplicas],
        replicaLagMsMax: options.replicaLagMsMax,
        nowMs: this.nowMs(),
        waitingProducesMax: options.waitingProducesMax,
      },
    });
    this.actor.subscribe({
      error: (error) => this.logger.error({ err: error }, "ISR machine failed"),
    });
    this.actor.start();
    this.logger.info(
      {
        replicas: image.replicas,
        isr: image.isr,
        partitionEpoch: image.partitionEpoch,
        logEndOffset: logEnd,
        highWatermark: Number(local.highWatermark),
      },
      "became partition leader",
    );
    // A sole in-sync leader's high watermark reaches its durable end at once.
    this.send({ type: "leader.appended", endOffset: logEnd });
  }

  /** A follower fetched from `fetchOffset`: its log ends there. */
  replicaFetched(replicaId: number, fetchOffset: bigint): void {
    const nowMs = this.nowMs();
    if (fetchOffset >= this.local.log.logEndOffset) {
      // A follower with everything, asking again from where it asked last: all the machine would
      // learn is that it is still caught up. Told at most once per idleFetchReportMs, which keeps
      // its lag well inside replica.lag.time.max.ms, so an idle partition costs the leader no
      // machine step on each of its followers' fetches.
      const last = this.idleFetchReports.get(replicaId);
      if (last !== undefined && last.fetchOffset === fetchOffset && nowMs - last.atMs < idleFetchReportMs)
        return;
      this.idleFetchReports.set(replicaId, { fetchOffset, atMs: nowMs });
    }
    this.send({ type: "replica.fetched", replicaId, fetchOffset: Number(fetchOffset), nowMs });
  }

  /** Time passes: the machine checks which followers fell out of sync. */
  tick(): void {
    this.send({ type: "clock.ticked", nowMs: this.nowMs() });
  }

  /** The metadata log committed a change to this partition in this leader epoch (ISR, partition epoch). */
  partitionChanged(): void {
    const image = this.local.image;
    if (image.leaderEpoch !== this.leaderEpoch) return;
    this.send({
      type: "isr.committed",
      leaderEpoch: image.leaderEpoch,
      partitionEpoch: image.partitionEpoch,
      isr: [...image.isr],
    });
  }

  /**
   * An applied broker change may have changed which replicas can join the
   * ISR; the machine hears of it only when it did, so that a follower is
   * never proposed while the metadata shows it fenced or shutting down.
   */
  eligibilityChanged(ineligibleReplicas: readonly number[]): void {
    const changed =
      ineligibleReplicas.length !== this.ineligibleReplicas.length ||
      ineligibleReplicas.some((replicaId, index) => replicaId !== this.ineligibleReplicas[index]);
    if (!changed) return;
    this.ineligibleReplicas = [...ineligibleReplicas];
    this.logger.info({ ineligibleReplicas }, "replica eligibility changed");
    this.send({ type: "replicas.eligibilityChanged", ineligibleReplicas: [...ineligibleReplicas] });
  }

  /** The topic's min.insync.replicas changed: it holds from the next produce on, not the next epoch. */
  minInsyncReplicasChanged(minInsyncReplicas: number): void {
    if (minInsyncReplicas === this.minInsyncReplicas) return;
    this.minInsyncReplicas = minInsyncReplicas;
    this.logger.info({ minInsyncReplicas }, "min.insync.replicas changed");
    this.send({ type: "topic.configChanged", minInsyncReplicas });
  }

  /**
   * Appends the batches as the machine decides (refused before writing when
   * acks=all and the ISR is below min.insync.replicas) and resolves with the
   * answer: at durability for acks=0/1, once the high watermark passes the
   * batch for acks=all.
   */
  produce(records: Buffer, batches: BatchHeader[], acks: number): Promise<ProduceOutcome> {
    if (this.resigned) {
      return Promise.resolve({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: null });
    }
    // Refused before the machine: a refusal registered there as a waiting acks=all produce would
    // hold a place in its bounded list until the high watermark next moves.
    const verdict = this.local.log.checkProducedBatches(batches);
    if (verdict.kind === "refused") {
      return Promise.resolve({
        errorCode: producerProblemErrorCodes[verdict.problem],
        errorMessage: verdict.detail,
      });
    }
    const duplicateOf = verdict.kind === "duplicate" ? verdict : null;
    if (duplicateOf !== null && (acks !== -1 || duplicateOf.lastOffset < this.local.highWatermark)) {
      // Already as safe as acks asks (below the high watermark it is on every ISR member): answer it.
      return this.local.log.durableThrough(duplicateOf.lastOffset).then(
        () => ({ errorCode: ErrorCode.NONE, baseOffset: duplicateOf.firstOffset }),
        (error: unknown) => ({
          errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
          errorMessage: (error as Error).message,
        }),
      );
    }
    const requestId = this.nextRequestId++;
    const recordCount = batches.reduce((count, batch) => count + batch.lastOffsetDelta + 1, 0);
    // Offsets are given in the append the machine asks for, synchronously within this send; a retry
    // not yet committed waits, as a new append would, for the high watermark to pass its first attempt.
    const lastOffset =
      duplicateOf === null
        ? Number(this.local.log.logEndOffset) + recordCount - 1
        : Number(duplicateOf.lastOffset);
    return new Promise((resolve) => {
      this.produces.set(requestId, { records, batches, resolve, baseOffset: null, acks, duplicateOf });
      this.send({ type: "produce.requested", requestId, acks, lastOffset });
    });
  }

  /** Leadership moved: the machine answers every waiting produce NOT_LEADER_OR_FOLLOWER. */
  resign(): void {
    if (this.resigned) return;
    this.send({ type: "leader.resigned" });
    this.resigned = true;
    this.actor.stop();
    this.options.trace?.stopped("isr", partitionInstance(this.local.topic.topicId, this.local.partitionId));
    this.logger.info("stopped leading partition");
  }

  private send(event: Event): void {
    if (this.resigned) return;
    this.actor.send(event);
  }

  private append(requestId: number): void {
    const pending = this.produces.get(requestId);
    if (pending === undefined) return;
    if (pending.duplicateOf !== null) {
      this.awaitFirstAttempt(requestId, pending, pending.duplicateOf);
      return;
    }
    let appended: ReturnType<LocalPartition["log"]["append"]>;
    try {
      appended = this.local.log.append(pending.records, pending.batches, this.leaderEpoch);
    } catch (error) {
      if (error instanceof ProducerBatchRefusedError) {
        this.settle(requestId, {
          errorCode: producerProblemErrorCodes[error.problem],
          errorMessage: error.message,
        });
        return;
      }
      this.logger.error({ err: error }, "append failed");
      this.settle(requestId, {
        errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
        errorMessage: (error as Error).message,
      });
      return;
    }
    if (appended.duplicate) {
      this.awaitFirstAttempt(requestId, pending, {
        firstOffset: appended.baseOffset,
        lastOffset: appended.lastOffset,
      });
      return;
    }
    pending.baseOffset = appended.baseOffset;
    this.local.logEndMoved();
    appended.durable.then(
      () => {
        // The machine counts the leader's own copy once it is durable, like a follower's.
        this.send({ type: "leader.appended", endOffset: Number(this.local.log.durableEndOffset) });
        if (pending.acks !== -1) this.answer(requestId, null);
      },
      (error: unknown) => {
        this.logger.error({ err: error }, "write or sync failed");
        this.settle(requestId, {
          errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
          errorMessage: (error as Error).message,
        });
      },
    );
  }

  /**
   * A retry the machine let through: nothing is written; it is answered with
   * the first attempt's offsets once those are durable (acks=1), or once the
   * high watermark passes them (acks=all), which the machine completes as for
   * any append, unless it had passed them already by the time they were durable.
   */
  private awaitFirstAttempt(
    requestId: number,
    pending: PendingProduce,
    firstAttempt: { firstOffset: bigint; lastOffset: bigint },
  ): void {
    pending.baseOffset = firstAttempt.firstOffset;
    this.local.log.durableThrough(firstAttempt.lastOffset).then(
      () => {
        if (pending.acks !== -1 || firstAttempt.lastOffset < this.local.highWatermark) {
          this.answer(requestId, null);
        }
      },
      (error: unknown) => {
        this.settle(requestId, {
          errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
          errorMessage: (error as Error).message,
        });
      },
    );
  }

  private answer(requestId: number, errorCode: number | null): void {
    const pending = this.produces.get(requestId);
    if (pending === undefined) return;
    if (errorCode === null) {
      if (pending.baseOffset === null) return;
      this.settle(requestId, { errorCode: 0, baseOffset: pending.baseOffset });
      return;
    }
    this.settle(requestId, { errorCode, errorMessage: refusalMessage(errorCode, this.local) });
  }

  private settle(requestId: number, outcome: ProduceOutcome): void {
    const pending = this.produces.get(requestId);
    if (pending === undefined) return;
    this.produces.delete(requestId);
    pending.resolve(outcome);
  }

  /**
   * Sends the machine's proposal until the controller answers it, as Kafka's
   * AlterPartitionManager does: a lost request or a controller that moved
   * (NOT_CONTROLLER, REQUEST_TIMED_OUT) is sent again after a pause. Only the
   * answer to the latest proposal reaches the machine; errors carry no epoch,
   * so an answer to an older one could not be told apart.
   */
  private alterPartition(proposal: { leaderEpoch: number; partitionEpoch: number; newIsr: number[] }): void {
    const sequence = ++this.alterSequence;
    this.alterInFlight = sequence;
    this.logger.info({ ...proposal, isr: this.local.image.isr }, "proposing ISR change");
    const current = () => this.alterInFlight === sequence && !this.resigned;
    const attempt = (retryMs: number): void => {
      this.options.sendAlterPartition(proposal).then(
        (outcome) => {
          if (!current()) return;
          if (retriableAlterPartitionErrors.has(outcome.errorCode)) {
            retry(retryMs, `controller answered ${outcome.errorCode}`);
            return;
          }
          this.alterInFlight = 0;
          if (outcome.errorCode === 0 && "isr" in outcome) {
            this.send({
              type: "isr.committed",
              leaderEpoch: outcome.leaderEpoch,
              partitionEpoch: outcome.partitionEpoch,
              isr: outcome.isr,
            });
          } else {
            this.logger.info({ errorCode: outcome.errorCode }, "ISR change refused");
            this.send({ type: "isr.rejected", errorCode: outcome.errorCode });
          }
        },
        (error: unknown) => {
          if (current()) retry(retryMs, (error as Error).message);
        },
      );
    };
    const retry = (retryMs: number, why: string) => {
      this.logger.debug({ why, retryMs }, "AlterPartition not answered; sending again");
      setTimeout(() => {
        if (current()) attempt(Math.min(retryMs * 2, alterPartitionRetryMsMax));
      }, retryMs).unref();
    };
    attempt(alterPartitionRetryMsInitial);
  }
}

/** Answers that say nothing about the proposal: send it again (Kafka's AlterPartitionManager retries these). */
const retriableAlterPartitionErrors: ReadonlySet<number> = new Set([
  ErrorCode.NOT_CONTROLLER,
  ErrorCode.REQUEST_TIMED_OUT,
]);
/** How often a caught-up follower that keeps fetching from the same position is reported to the ISR machine. */
const idleFetchReportMs = 1_000;
const alterPartitionRetryMsInitial = 50;
const alterPartitionRetryMsMax = 1_000;

function refusalMessage(errorCode: number, local: LocalPartition): string | null {
  const isr = local.image.isr.join(", ");
  if (errorCode === ErrorCode.NOT_ENOUGH_REPLICAS) {
    return `The size of the current ISR [${isr}] is insufficient to satisfy the min.isr requirement for partition ${local.name}`;
  }
  if (errorCode === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND) {
    return `The ISR of ${local.name} shrank to [${isr}], below min.insync.replicas, after the records were written`;
  }
  return null;
}
