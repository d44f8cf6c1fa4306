/**
 * Drives planned ISR paths against a real partition leader (node 1): each
 * machine event of a wire step is given its stimulus (isr-wire.ts), the
 * machine is stepped alongside, and the node must then show what the
 * machine's state and effects say: the high watermark in the followers'
 * Fetch answers and in ListOffsets, the log end in OffsetForLeaderEpoch, the
 * committed ISR in Metadata, and each produce answered (or still waiting) as
 * the machine completes or refuses it.
 */
import { expect } from "vitest";
import { initialTransition, type SnapshotFrom, transition } from "xstate";
import { createTopicsApi } from "../../impl/protocol/apis/create-topics.ts";
import { deleteTopicsApi } from "../../impl/protocol/apis/delete-topics.ts";
import { produceApi } from "../../impl/protocol/apis/produce.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { encodeRecordBatch } from "../../impl/protocol/records.ts";
import { zeroUuid } from "../../impl/protocol/schema.ts";
import { type Event, isrMachine } from "../../machines/isr.ts";
import type { Coverage } from "../../machines/testing/coverage.ts";
import { settleMs } from "../support/eventually.ts";
import type { FakeBroker } from "./fake-broker.ts";
import { followers, isrInput, joiningFollowerOf, leaderId, replicaLagMsMax } from "./isr-wire.ts";
import { RequestConnection, requestOnce } from "./kafka-requests.ts";
import { highWatermarkOf, logEndOffsetOf, settleTo, type TopicView, topicView } from "./node-views.ts";
import type { PlannedPath } from "./wire-steps.ts";

type Snapshot = SnapshotFrom<typeof isrMachine>;
/** An effect the machine asked for, as `transition` returns it. */
type Effect = { type: string; params?: unknown };

const produceVersion = 9;
const createTopicsVersion = 7;
const deleteTopicsVersion = 6;
/** Longer than any path: an acks=all produce is answered by the machine, never by its request timeout. */
const produceTimeoutMs = 120_000;
/** The leader's epoch throughout: node 1 never loses the leadership it gets at creation. */
const leaderEpoch = 0;

/** A produce sent and not yet known answered. */
interface ProduceInFlight {
  answer: Promise<number>;
  answeredWith: number | null;
}

/** What the node must show of the partition once it rests after a step. */
interface LeaderView {
  metadata: TopicView;
  highWatermark: number | null;
  logEndOffset: number | null;
}

export class IsrRunner {
  /** The followers the controller has fenced (or will, once it notices): the wire's truth. */
  private readonly fenced = new Set<number>();

  constructor(
    private readonly port: number,
    private readonly fakes: ReadonlyMap<number, FakeBroker>,
    private readonly coverage: Coverage,
  ) {}

  async run(path: PlannedPath<typeof isrMachine>, topic: string): Promise<void> {
    const produces = new Map<number, ProduceInFlight>();
    let actual = initialTransition(isrMachine, isrInput)[0];
    await this.createTopic(topic, actual);
    // The machine's clock stands still between its ticks while the node's runs: a step that lands
    // more than the lag time after the machine's clock last moved may see the node act on its own.
    let clockMovedAtMs = Date.now();
    for (const [index, { step }] of path.steps.entries()) {
      const where = `${topic}, step ${index + 1}/${path.steps.length}: ${step.events.map((event) => JSON.stringify(event)).join(" then ")} from ${JSON.stringify(actual.value)} ${JSON.stringify(actual.context)}`;
      try {
        const joining = joiningFollowerOf(step);
        // The controller's answer to the expansion depends on the joining follower's liveness.
        if (joining !== null) await this.setLive(topic, actual, joining.replicaId, joining.live);
        const answers = new Map<number, number>();
        for (const event of step.events) {
          const [next, effects] = transition(isrMachine, actual, event);
          await this.stimulate(topic, actual, event, effects, produces);
          for (const [requestId, errorCode] of produceAnswers(effects)) answers.set(requestId, errorCode);
          this.coverage.record(actual, { steps: [{ event, state: next }] });
          actual = next;
        }
        await this.checkProduceAnswers(produces, answers, actual);
        await this.settle(topic, actual);
        if (step.events[0]?.type === "clock.ticked") clockMovedAtMs = Date.now();
      } catch (error) {
        const sinceClockMs = Date.now() - clockMovedAtMs;
        throw new Error(
          `${where}\n${(error as Error).message}\n` +
            `(the node's clock ran ${sinceClockMs} ms since the machine's last moved; replica.lag.time.max.ms is ${replicaLagMsMax} ms)`,
        );
      }
    }
    if (actual.status === "active") await this.deleteTopic(topic);
  }

  private async stimulate(
    topic: string,
    before: Snapshot,
    event: Event,
    effects: Effect[],
    produces: Map<number, ProduceInFlight>,
  ): Promise<void> {
    switch (event.type) {
      case "replica.fetched": {
        const answer = await this.fake(event.replicaId).fetchAsFollower(topic, {
          leaderEpoch,
          fetchOffset: event.fetchOffset,
          // Every record is of epoch 0; a follower with none names no epoch.
          lastFetchedEpoch: event.fetchOffset === 0 ? -1 : leaderEpoch,
        });
        // The leader answers with its high watermark as it was when the fetch arrived.
        expect(answer, "the follower's Fetch answer").toEqual({
          errorCode: ErrorCode.NONE,
          highWatermark: BigInt(before.context.highWatermark),
        });
        return;
      }
      case "clock.ticked": {
        const [next] = transition(isrMachine, before, event);
        // A shrink shows in Metadata once it commits, which the step's settle waits for. Without
        // one there is nothing to see: let the node's own ticks pass the lag time all the same.
        if (next.status === "active" && next.context.pendingIsrChange === null) {
          await new Promise((resolve) => setTimeout(resolve, 1.5 * replicaLagMsMax + 100));
        }
        return;
      }
      case "produce.requested": {
        const inFlight = this.produce(topic, event.acks);
        produces.set(event.requestId, inFlight);
        if (!effects.some((effect) => effect.type === "appendBatch")) return;
        if (event.acks === -1) {
          // Answered once the high watermark passes it; the next stimulus waits for its append.
          await settleTo("the produce appended", event.lastOffset + 1, () =>
            logEndOffsetOf(this.port, topic, leaderEpoch),
          );
        } else {
          // acks=1 is answered once the append is durable, which is the machine's leader.appended.
          expect(
            await within(inFlight.answer, "the acks=1 produce's answer"),
            "the acks=1 produce's answer",
          ).toBe(ErrorCode.NONE);
        }
        return;
      }
      case "leader.resigned":
        expect(await this.deleteTopic(topic), "DeleteTopics answer").toBe(ErrorCode.NONE);
        return;
      case "leader.appended":
      case "isr.committed":
      case "isr.rejected":
        // The node's own doing: the produce's append, and the controller's answer to its proposal.
        return;
      default:
        throw new Error(`${(event as Event).type} has no stimulus over the wire`);
    }
  }

  /** Each produce the machine answered in this step has that answer; every one it still holds has none. */
  private async checkProduceAnswers(
    produces: ReadonlyMap<number, ProduceInFlight>,
    answers: ReadonlyMap<number, number>,
    after: Snapshot,
  ): Promise<void> {
    for (const [requestId, errorCode] of answers) {
      const inFlight = produces.get(requestId);
      if (inFlight === undefined) throw new Error(`the machine answered produce ${requestId}, never sent`);
      expect(
        await within(inFlight.answer, `produce ${requestId}'s answer`),
        `produce ${requestId}'s answer`,
      ).toBe(errorCode);
    }
    const waiting = after.status === "active" ? after.context.waitingProduces : [];
    for (const { requestId } of waiting) {
      expect(produces.get(requestId)?.answeredWith, `produce ${requestId}, which still waits`).toBeNull();
    }
  }

  /** Waits until the node shows the machine's ISR, high watermark and log end, and the fakes' liveness. */
  private async settle(topic: string, snapshot: Snapshot): Promise<void> {
    const liveBrokers = [leaderId, ...followers.filter((follower) => !this.fenced.has(follower))];
    const expected: LeaderView =
      snapshot.status === "active"
        ? {
            metadata: {
              liveBrokers,
              topicErrorCode: ErrorCode.NONE,
              partition: {
                errorCode: ErrorCode.NONE,
                leader: leaderId,
                leaderEpoch,
                replicas: snapshot.context.replicas,
                isr: snapshot.context.isr,
                offlineReplicas: followers.filter((follower) => this.fenced.has(follower)),
              },
            },
            highWatermark: snapshot.context.highWatermark,
            logEndOffset: snapshot.context.leaderEndOffset,
          }
        : {
            metadata: { liveBrokers, topicErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: null },
            highWatermark: null,
            logEndOffset: null,
          };
    await settleTo(`${topic} on its leader`, expected, async () => {
      const metadata = await topicView(this.port, topic);
      if (metadata.partition === null) return { metadata, highWatermark: null, logEndOffset: null };
      return {
        metadata,
        highWatermark: await highWatermarkOf(this.port, topic, leaderEpoch),
        logEndOffset: await logEndOffsetOf(this.port, topic, leaderEpoch),
      };
    });
    for (const fake of this.fakes.values()) fake.assertHealthy();
  }

  private fake(brokerId: number): FakeBroker {
    const fake = this.fakes.get(brokerId);
    if (fake === undefined) throw new Error(`no fake broker ${brokerId}`);
    return fake;
  }

  /** Starts or stops a follower's metadata fetches, and waits until the controller has (un)fenced it. */
  private async setLive(topic: string, snapshot: Snapshot, brokerId: number, live: boolean): Promise<void> {
    if (live === !this.fenced.has(brokerId)) return;
    if (live) {
      await this.fake(brokerId).followMetadata();
      this.fenced.delete(brokerId);
    } else {
      this.fake(brokerId).stopFollowingMetadata();
      this.fenced.add(brokerId);
    }
    // A follower outside the ISR: the controller's fence or unfence changes nothing of the partition.
    await this.settle(topic, snapshot);
  }

  /**
   * Creates the topic with replicas [1, 2, 3] while follower 3 is fenced, so
   * the new leader starts with ISR [1, 2] as the machine's input says.
   */
  private async createTopic(topic: string, initial: Snapshot): Promise<void> {
    for (const follower of followers) {
      const live = initial.context.isr.includes(follower);
      if (live === !this.fenced.has(follower)) continue;
      if (live) {
        await this.fake(follower).followMetadata();
        this.fenced.delete(follower);
      } else {
        this.fake(follower).stopFollowingMetadata();
        this.fenced.add(follower);
      }
    }
    const expectedLive = [leaderId, ...followers.filter((follower) => !this.fenced.has(follower))];
    await settleTo(
      "the followers' liveness before creation",
      expectedLive,
      async () => (await topicView(this.port, topic)).liveBrokers,
    );
    const response = await requestOnce(this.port, createTopicsApi, createTopicsVersion, {
      topics: [
        {
          name: topic,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: initial.context.replicas }],
          configs: [{ name: "min.insync.replicas", value: String(initial.context.minInsyncReplicas) }],
        },
      ],
      timeoutMs: settleMs,
      validateOnly: false,
    });
    expect(
      response.topics.map((answer) => answer.errorCode),
      `CreateTopics ${topic}`,
    ).toEqual([ErrorCode.NONE]);
    await this.settle(topic, initial);
  }

  private async deleteTopic(topic: string): Promise<number> {
    const response = await requestOnce(this.port, deleteTopicsApi, deleteTopicsVersion, {
      topics: [{ name: topic, topicId: zeroUuid }],
      timeoutMs: settleMs,
    });
    if (response.responses.length !== 1 || response.responses[0]!.name !== topic) {
      throw new Error(`DeleteTopics for ${topic} answered ${response.responses.length} topics`);
    }
    return response.responses[0]!.errorCode;
  }

  /** A one-record produce on a connection of its own, so that a waiting acks=all holds no other request. */
  private produce(topic: string, acks: number): ProduceInFlight {
    const inFlight: ProduceInFlight = { answer: Promise.resolve(-1), answeredWith: null };
    inFlight.answer = (async () => {
      const connection = await RequestConnection.open(this.port);
      try {
        const response = await connection.send(produceApi, produceVersion, {
          transactionalId: null,
          acks,
          timeoutMs: produceTimeoutMs,
          topicData: [
            {
              name: topic,
              partitionData: [
                { index: 0, records: encodeRecordBatch([{ value: Buffer.from(`acks=${acks}`) }]) },
              ],
            },
          ],
        });
        const answers = response.responses.flatMap((answer) => answer.partitionResponses);
        if (answers.length !== 1 || answers[0]!.index !== 0) {
          throw new Error(`Produce to ${topic}-0 answered ${answers.length} partitions`);
        }
        inFlight.answeredWith = answers[0]!.errorCode;
        return answers[0]!.errorCode;
      } finally {
        connection.close();
      }
    })();
    // Checked where the machine says it is answered; a failure before that must not go unhandled meanwhile.
    inFlight.answer.catch(() => undefined);
    return inFlight;
  }
}

/** The produces a step's effects answer, with the error code each gets (0 for a completed one). */
function produceAnswers(effects: Effect[]): Array<[number, number]> {
  return effects.flatMap((effect): Array<[number, number]> => {
    const params = effect.params as { requestId: number; errorCode?: number };
    if (effect.type === "completeProduce") return [[params.requestId, ErrorCode.NONE]];
    if (effect.type === "refuseProduce") return [[params.requestId, params.errorCode!]];
    return [];
  });
}

/** The promise's value, or a failure naming `what` once the settle time has passed without one. */
async function within<Value>(promise: Promise<Value>, what: string): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come within ${settleMs} ms`)), settleMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
