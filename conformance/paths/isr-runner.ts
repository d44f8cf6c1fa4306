/**
 * Drives planned ISR paths against a real partition leader (node 1): each
 * wire step is given its stimulus (isr-wire.ts), by the played followers, a
 * producer or the played controller, the machine is stepped alongside, and
 * the node must then show what the machine's state and effects say: the
 * high watermark in the followers' Fetch answers and in ListOffsets, the log
 * end in OffsetForLeaderEpoch, the committed ISR in Metadata, each produce
 * answered (or still waiting) as the machine completes or refuses it, and
 * each AlterPartition it sends the controller the one the machine proposes,
 * and no other.
 */
import { expect } from "vitest";
import { initialTransition, type SnapshotFrom, transition } from "xstate";
import { defaultBrokerConfig } from "../../impl/broker/config.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { type Event, type isrMachine, isrMachine as machine } from "../../machines/isr.ts";
import type { Coverage } from "../../machines/testing/coverage.ts";
import type { BrokerProcess } from "../support/broker-process.ts";
import { settleMs } from "../support/eventually.ts";
import { IsrProposals } from "./isr-proposals.ts";
import { followers, isrInput, leaderId, replicaLagMsMax, stimulusOf } from "./isr-wire.ts";
import { highWatermarkOf, logEndOffsetOf, settleTo, type TopicView, topicView } from "./node-views.ts";
import type { PlayedController } from "./played-controller.ts";
import type { PlayedFollower } from "./played-followers.ts";
import { type ProduceInFlight, produceAlone, producePipelined } from "./produce-requests.ts";
import type { PlannedPath, WireStep } from "./wire-steps.ts";

type Snapshot = SnapshotFrom<typeof isrMachine>;
/** An effect the machine asked for, as `transition` returns it. */
type Effect = { type: string; params?: unknown };

/** The leader's epoch throughout: node 1 leads every topic from its creation to its removal. */
const leaderEpoch = 0;

/** What the node must show of the partition once it rests after a step. */
interface LeaderView {
  metadata: TopicView;
  highWatermark: number | null;
  logEndOffset: number | null;
}

export class IsrRunner {
  /** The node's AlterPartition requests at the controller, checked and answered as the steps say. */
  private readonly proposals: IsrProposals;
  /** Connections of many produces at once, closed with the path. */
  private pipelines: Array<() => void> = [];

  constructor(
    /** The leader: its port, and its log lines for the one wait nothing on the wire tells (refuseAsStale). */
    private readonly node: Pick<BrokerProcess, "port" | "logLines">,
    private readonly controller: PlayedController,
    private readonly followers: ReadonlyMap<number, PlayedFollower>,
    private readonly coverage: Coverage,
  ) {
    this.proposals = new IsrProposals(controller, node);
  }

  async run(path: PlannedPath<typeof isrMachine>, topic: string): Promise<void> {
    const produces = new Map<number, ProduceInFlight>();
    let actual = initialTransition(machine, isrInput)[0];
    await this.createTopic(topic, actual);
    // The machine's clock stands still between its ticks while the node's runs: a step that lands
    // more than the lag time after the machine's clock last moved may see the node act on its own.
    let clockMovedAtMs = Date.now();
    try {
      for (const [index, { step }] of path.steps.entries()) {
        try {
          actual = await this.take(topic, actual, step, produces);
          if (step.events[0]?.type === "clock.ticked") clockMovedAtMs = Date.now();
        } catch (error) {
          const sinceClockMs = Date.now() - clockMovedAtMs;
          throw new Error(
            `${topic}, step ${index + 1}/${path.steps.length}: ${describeStep(step)} from ` +
              `${JSON.stringify(actual.value)} ${describeContext(actual)}\n${(error as Error).message}\n` +
              `(the node's clock ran ${sinceClockMs} ms since the machine's last moved; ` +
              `replica.lag.time.max.ms is ${replicaLagMsMax} ms)`,
          );
        }
      }
      if (actual.status === "active") await this.removeTopic(topic);
    } finally {
      for (const close of this.pipelines.splice(0)) close();
    }
  }

  /** One wire step: its stimulus, the machine's events alongside, then what the node must show. */
  private async take(
    topic: string,
    before: Snapshot,
    step: WireStep<Event>,
    produces: Map<number, ProduceInFlight>,
  ): Promise<Snapshot> {
    const effects: Effect[] = [];
    const taken: Array<{ from: Snapshot; event: Event; to: Snapshot }> = [];
    let after = before;
    for (const event of step.events) {
      const [next, actions] = transition(machine, after, event);
      taken.push({ from: after, event, to: next });
      effects.push(...actions);
      after = next;
    }
    const event = step.events[0]!;
    const learned = this.metadataLearned(topic);
    switch (stimulusOf(step)) {
      case "followerFetch":
        await this.followerFetch(topic, before, event as Extract<Event, { type: "replica.fetched" }>);
        break;
      case "wait":
        // A shrink the tick proposes is awaited at the controller below. Without one there is
        // nothing to see: let the node's own checks (every half lag time) pass the lag all the same.
        if (!effects.some((effect) => effect.type === "sendAlterPartition")) {
          await sleep(1.5 * replicaLagMsMax + 100);
        }
        break;
      case "produce":
        await this.produce(topic, event as Extract<Event, { type: "produce.requested" }>, effects, produces);
        break;
      case "waitingListFill":
        await this.fillWaitingList(topic, step.events, after, produces);
        break;
      case "topicRemoval":
        await this.removeTopic(topic);
        break;
      case "brokerChange":
        this.changeEligibility(before, event as Extract<Event, { type: "replicas.eligibilityChanged" }>);
        break;
      case "configChange": {
        const { minInsyncReplicas } = event as Extract<Event, { type: "topic.configChanged" }>;
        this.controller.setTopicConfig(topic, "min.insync.replicas", String(minInsyncReplicas));
        break;
      }
      case "commit":
        this.proposals.commit(topic, before);
        break;
      case "refusalNotApplied":
        this.proposals.refuseAsNotApplied(before);
        break;
      case "refusalStale":
        await this.proposals.refuseAsStale(topic, before);
        break;
      case "refusalUnexpected":
        this.proposals.refuseUnexpectedly();
        break;
    }
    await this.awaitMetadataLearned(topic, learned, step.events);
    await this.proposals.expectSent(topic, effects);
    await this.expectProduceAnswers(produces, effects, after);
    await this.settle(topic, after);
    // Covered once the node has shown it took them.
    for (const { from, event: each, to } of taken)
      this.coverage.record(from, { steps: [{ event: each, state: to }] });
    return after;
  }

  // ---- Stimuli --------------------------------------------------------------------------------

  private async followerFetch(
    topic: string,
    before: Snapshot,
    event: Extract<Event, { type: "replica.fetched" }>,
  ): Promise<void> {
    const answer = await this.follower(event.replicaId).fetch(topic, {
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
  }

  private async produce(
    topic: string,
    event: Extract<Event, { type: "produce.requested" }>,
    effects: Effect[],
    produces: Map<number, ProduceInFlight>,
  ): Promise<void> {
    const inFlight = produceAlone(this.node.port, topic, event.acks);
    produces.set(event.requestId, inFlight);
    if (!effects.some((effect) => effect.type === "appendBatch")) return;
    if (event.acks === -1) {
      // Answered once the high watermark passes it; the next stimulus waits for its append.
      await settleTo("the produce appended", event.lastOffset + 1, () =>
        logEndOffsetOf(this.node.port, topic, leaderEpoch),
      );
    } else {
      // acks=1 is answered once the append is durable, which is the machine's leader.appended.
      expect(
        await within(inFlight.answer, "the acks=1 produce's answer"),
        "the acks=1 produce's answer",
      ).toBe(ErrorCode.NONE);
    }
  }

  /**
   * All the produces the waiting list holds, pipelined on a few connections
   * so they wait at once; once the node has appended every one, the last on
   * a connection of its own, which the full list refuses before the append.
   */
  private async fillWaitingList(
    topic: string,
    events: readonly Event[],
    after: Snapshot,
    produces: Map<number, ProduceInFlight>,
  ): Promise<void> {
    const requested = events.filter(
      (event): event is Extract<Event, { type: "produce.requested" }> => event.type === "produce.requested",
    );
    const waiting = requested.slice(0, -1);
    const last = requested.at(-1)!;
    const pipelined = await producePipelined(
      this.node.port,
      topic,
      waiting.length,
      defaultBrokerConfig.inFlightRequestsPerConnectionMax,
    );
    this.pipelines.push(pipelined.close);
    // Which request the node takes first is its own: the machine's request ids stand for them in any order.
    for (const [index, event] of waiting.entries()) produces.set(event.requestId, pipelined.produces[index]!);
    await settleTo("every waiting produce appended", after.context.leaderEndOffset, () =>
      logEndOffsetOf(this.node.port, topic, leaderEpoch),
    );
    produces.set(last.requestId, produceAlone(this.node.port, topic, last.acks));
  }

  /** The controller fences or unfences the one follower whose eligibility the event changes. */
  private changeEligibility(
    before: Snapshot,
    event: Extract<Event, { type: "replicas.eligibilityChanged" }>,
  ): void {
    const was = before.context.ineligibleReplicas;
    for (const follower of followers) {
      const ineligible = event.ineligibleReplicas.includes(follower);
      if (ineligible !== was.includes(follower)) this.controller.setLive(follower, !ineligible);
    }
  }

  /** The log lines in which the leader of `topic` took a broker or config change. */
  private metadataLearned(topic: string): Set<Record<string, unknown>> {
    return new Set(
      this.node.logLines.filter(
        (line) =>
          (line.msg === "replica eligibility changed" || line.msg === "min.insync.replicas changed") &&
          line.partition === `${topic}-0`,
      ),
    );
  }

  /**
   * Nothing on the wire says the leader has taken a broker or config change
   * (Metadata shows a fencing once the image has it, a moment before the
   * leader hears of it): its log lines do. Waits for one per such event.
   */
  private async awaitMetadataLearned(
    topic: string,
    before: ReadonlySet<Record<string, unknown>>,
    events: readonly Event[],
  ): Promise<void> {
    const expected = events.filter(
      (each) => each.type === "replicas.eligibilityChanged" || each.type === "topic.configChanged",
    ).length;
    if (expected === 0) return;
    // Lines, not counts: the node keeps only its latest lines.
    await settleTo("the leader's log lines for the metadata it took", true, async () => {
      const taken = [...this.metadataLearned(topic)].filter((line) => !before.has(line));
      return taken.length >= expected;
    });
  }

  /** The controller removes the topic; a change still held is then refused, as for a topic it no longer has. */
  private async removeTopic(topic: string): Promise<void> {
    this.controller.removeTopic(topic);
    await settleTo(
      `${topic} removed`,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      async () => (await topicView(this.node.port, topic)).topicErrorCode,
    );
    this.proposals.refuseForRemovedTopic();
  }

  /** Creates the topic while follower 3 is fenced and 2 live, so the leader starts with ISR [1, 2]. */
  private async createTopic(topic: string, initial: Snapshot): Promise<void> {
    for (const follower of followers) {
      this.controller.setLive(follower, initial.context.isr.includes(follower));
    }
    this.controller.createTopic(
      topic,
      { replicas: initial.context.replicas, isr: initial.context.isr, leader: leaderId },
      new Map([["min.insync.replicas", String(initial.context.minInsyncReplicas)]]),
    );
    await this.settle(topic, initial);
  }

  // ---- Checks ---------------------------------------------------------------------------------

  /** Each produce the machine answered in this step has that answer; every one it still holds has none. */
  private async expectProduceAnswers(
    produces: ReadonlyMap<number, ProduceInFlight>,
    effects: Effect[],
    after: Snapshot,
  ): Promise<void> {
    for (const [requestId, errorCode] of produceAnswers(effects)) {
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

  /**
   * Waits until the node shows the machine's ISR, high watermark and log
   * end, and the controller's brokers; then the controller must hold exactly
   * the AlterPartition of the machine's pending change, and nothing it was
   * sent may have been a problem.
   */
  private async settle(topic: string, snapshot: Snapshot): Promise<void> {
    const liveBrokers = this.controller.liveBrokers();
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
                offlineReplicas: snapshot.context.replicas.filter(
                  (replica) => !liveBrokers.includes(replica),
                ),
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
      const metadata = await topicView(this.node.port, topic);
      if (metadata.partition === null) return { metadata, highWatermark: null, logEndOffset: null };
      return {
        metadata,
        highWatermark: await highWatermarkOf(this.node.port, topic, leaderEpoch),
        logEndOffset: await logEndOffsetOf(this.node.port, topic, leaderEpoch),
      };
    });
    this.proposals.expectHeld(snapshot);
    this.controller.assertHealthy();
  }

  private follower(replicaId: number): PlayedFollower {
    const follower = this.followers.get(replicaId);
    if (follower === undefined) throw new Error(`no played follower ${replicaId}`);
    return follower;
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

/** A step for a message: its events, or for one of thousands their count and the first. */
function describeStep(step: WireStep<Event>): string {
  const events = step.events;
  if (events.length > 3) return `${events.length} events from ${JSON.stringify(events[0])}`;
  return events.map((event) => JSON.stringify(event)).join(" then ");
}

/** The machine's context for a message, with a long waiting list counted rather than listed. */
function describeContext(snapshot: Snapshot): string {
  const { waitingProduces, ...context } = snapshot.context;
  const waiting = waitingProduces.length > 10 ? `${waitingProduces.length} produces` : waitingProduces;
  return JSON.stringify({ ...context, waitingProduces: waiting });
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
