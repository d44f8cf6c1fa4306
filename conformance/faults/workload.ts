/**
 * The clients that work while the faults happen: idempotent KafkaJS
 * producers (acks=all, one request in flight) writing uniquely numbered
 * records, and a consumer group of members in child processes consuming and
 * committing (support/group-members.ts). Every acknowledged record is kept
 * with the partition and offset the broker gave it, for the checks.
 *
 * A send that fails after KafkaJS's own retries is sent again, the same
 * records by the same producer: its sequence numbers are the same, so a
 * broker that already wrote the batch must answer with the first attempt's
 * offsets. Sending other records instead would reuse those sequence numbers
 * and be answered as a duplicate of records never acknowledged. Only an
 * error no retry can cure (a producer-state error such as
 * OUT_OF_ORDER_SEQUENCE_NUMBER) makes a producer give a batch up and start
 * over with a new producer id; the given-up records are then neither
 * acknowledged nor sent again.
 */
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { GroupMember } from "../support/group-members.ts";

export interface Acknowledgement {
  partition: number;
  offset: bigint;
}

const recordsPerBatch = 20;
/** How long the broker may wait for the ISR before answering a produce. */
const produceTimeoutMs = 5_000;
const requestTimeoutMs = 8_000;
const pauseBetweenAttemptsMs = 200;
/** Distinct error descriptions counted; past this they are lumped together. */
const errorKindsMax = 50;
/** Members replaced after exiting, at most, over a run. */
const memberReplacementsMax = 20;
const memberSessionTimeoutMs = 6_000;

export interface WorkloadOptions {
  brokers: string[];
  topic: string;
  partitions: number;
  producers: number;
  groupId: string;
  members: number;
  /** The producers stop once this many records are acknowledged: every map here stays bounded. */
  recordsMax: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** "KafkaJSNumberOfRetriesExceeded: NOT_ENOUGH_REPLICAS", the error and what caused it. */
function describeError(error: unknown): string {
  const failure = error as { name?: string; cause?: { type?: string; name?: string }; type?: string };
  const cause = failure.cause?.type ?? failure.type ?? failure.cause?.name ?? "";
  return cause === "" ? String(failure.name ?? error) : `${failure.name}: ${cause}`;
}

/** KafkaJS gave up without exhausting its retries: the error is not one a retry cures. */
function isNonRetriable(error: unknown): boolean {
  return (error as { name?: string }).name === "KafkaJSNonRetriableError";
}

export class Workload {
  /** Every acknowledged record, by value. */
  readonly acknowledged = new Map<string, Acknowledgement>();
  /** Failed sends (each sent again or given up), by error. */
  readonly sendErrors = new Map<string, number>();
  /** Batches given up, by the error that ended them. */
  readonly abandonedBatches = new Map<string, number>();
  /** Members replaced because their process exited. */
  memberReplacements = 0;
  private readonly members: GroupMember[] = [];
  private readonly retiredMembers: GroupMember[] = [];
  private readonly kafka: Kafka;
  private stopping = false;
  /** Set when stopping takes too long: a batch still failing is then given up. */
  private givingUp = false;
  private producing: Promise<void>[] = [];

  private constructor(private readonly options: WorkloadOptions) {
    this.kafka = new Kafka({
      clientId: "chronik-faults",
      brokers: options.brokers,
      logLevel: logLevel.NOTHING,
      requestTimeout: requestTimeoutMs,
      connectionTimeout: 3_000,
      // Elections, fences and restarts take seconds: keep retrying through them.
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 30 },
    });
  }

  static start(options: WorkloadOptions): Workload {
    const workload = new Workload(options);
    for (let index = 0; index < options.members; index++) workload.startMember();
    workload.producing = Array.from({ length: options.producers }, (_, index) => workload.produce(index));
    return workload;
  }

  /** Replaces members whose process exited (a consumer KafkaJS gave up on). */
  superviseMembers(): void {
    for (const [position, member] of this.members.entries()) {
      if (member.running || this.memberReplacements >= memberReplacementsMax) continue;
      this.retiredMembers.push(member);
      this.memberReplacements += 1;
      this.members.splice(position, 1, this.newMember());
    }
  }

  /** How many times each value was delivered to the group, over every member that ever ran. */
  consumedCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const member of [...this.members, ...this.retiredMembers]) {
      for (const message of member.consumed) {
        if (message.value !== null) counts.set(message.value, (counts.get(message.value) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** What the members wrote on stderr or reported as crashes, for the report. */
  memberProblems(): string[] {
    return [...this.retiredMembers, ...this.members].flatMap((member) => member.problems);
  }

  /** Stops sending new batches and waits for those in flight; past `patienceMs` they are given up. */
  async stopProducing(patienceMs: number): Promise<void> {
    this.stopping = true;
    const finished = Promise.all(this.producing);
    const timedOut = await Promise.race([finished.then(() => false), sleep(patienceMs).then(() => true)]);
    if (timedOut) {
      this.givingUp = true;
      await finished;
    }
  }

  async stopMembers(): Promise<void> {
    await Promise.all(this.members.map((member) => member.stop()));
  }

  /** For cleanups that cannot wait. */
  killMembersNow(): void {
    for (const member of this.members) void member.kill();
  }

  private startMember(): void {
    this.members.push(this.newMember());
  }

  private newMember(): GroupMember {
    return GroupMember.start({
      brokers: this.options.brokers,
      groupId: this.options.groupId,
      topic: this.options.topic,
      sessionTimeoutMs: memberSessionTimeoutMs,
    });
  }

  private noteError(counts: Map<string, number>, error: unknown): void {
    const description = typeof error === "string" ? error : describeError(error);
    const key = counts.has(description) || counts.size < errorKindsMax ? description : "other errors";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  private async connectProducer(): Promise<Producer | null> {
    while (!this.givingUp) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 30 },
      });
      try {
        await producer.connect();
        return producer;
      } catch (error) {
        this.noteError(this.sendErrors, error);
        await producer.disconnect().catch(() => undefined);
        await sleep(pauseBetweenAttemptsMs);
      }
    }
    return null;
  }

  /** One producer's loop: batches of records valued r-<producer>-<number>, the partitions in turn. */
  private async produce(producerIndex: number): Promise<void> {
    const { partitions, recordsMax } = this.options;
    let producer = await this.connectProducer();
    let number = 0;
    let partition = producerIndex % partitions;
    while (producer !== null && !this.stopping && this.acknowledged.size + recordsPerBatch <= recordsMax) {
      const values = Array.from(
        { length: recordsPerBatch },
        (_, index) => `r-${producerIndex}-${number + index}`,
      );
      number += recordsPerBatch;
      if (!(await this.sendUntilAcknowledged(producer, partition, values))) {
        await producer.disconnect().catch(() => undefined);
        producer = this.stopping ? null : await this.connectProducer();
      }
      partition = (partition + 1) % partitions;
    }
    await producer?.disconnect().catch(() => undefined);
  }

  /** Sends the batch until it is acknowledged (true) or given up (false). */
  private async sendUntilAcknowledged(
    producer: Producer,
    partition: number,
    values: string[],
  ): Promise<boolean> {
    for (;;) {
      try {
        const [result] = await producer.send({
          topic: this.options.topic,
          acks: -1,
          timeout: produceTimeoutMs,
          messages: values.map((value) => ({ partition, value })),
        });
        if (result === undefined || result.partition !== partition || result.baseOffset === undefined)
          throw new Error(`unexpected produce result ${JSON.stringify(result)}`);
        const baseOffset = BigInt(result.baseOffset);
        for (const [index, value] of values.entries()) {
          this.acknowledged.set(value, { partition, offset: baseOffset + BigInt(index) });
        }
        return true;
      } catch (error) {
        this.noteError(this.sendErrors, error);
        if (isNonRetriable(error) || this.givingUp) {
          this.noteError(
            this.abandonedBatches,
            this.givingUp ? "still failing when the producers stopped" : error,
          );
          return false;
        }
        await sleep(pauseBetweenAttemptsMs);
      }
    }
  }
}
