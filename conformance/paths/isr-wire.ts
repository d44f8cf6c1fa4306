/**
 * The ISR machine's generated events as stimuli a test can give a real
 * partition leader over the wire: node 1 leads partition 0 of a topic with
 * replicas [1, 2, 3], and the test plays followers 2 and 3 (fake-broker.ts).
 *
 * The leader starts as the node makes it when the topic is created while
 * broker 3 is fenced: leader epoch 0, ISR [1, 2], an empty log, follower 3
 * never fetched. (The machine test's input, a leader elected after a failover
 * with a log the high watermark has not reached, cannot be made here: node 1
 * is the controller and always live, so it leads from epoch 0 at offset 0.)
 *
 * Stimuli: replica.fetched is that follower's Fetch with its replica id at the
 * offset; produce.requested is a one-record Produce with its acks, and the
 * append it causes is the leader.appended after it; clock.ticked is real
 * waiting past --replica-lag-time-max-ms; leader.resigned is DeleteTopics.
 * The leader's AlterPartition goes to the controller, node 1 itself, which
 * answers at once, so a proposal's answer is part of the step that caused
 * it: isr.committed, or isr.rejected with INELIGIBLE_REPLICA when the
 * follower joining is fenced (the test stops its metadata fetches first).
 */
import { type SnapshotFrom, transition } from "xstate";
import {
  type Event,
  type Input,
  IsrErrorCode,
  isrMachine,
  outOfSyncIsrFollowers,
} from "../../machines/isr.ts";
import { boundedEvents } from "../../machines/testing/isr-paths.ts";
import type { WireStep } from "./wire-steps.ts";

type Snapshot = SnapshotFrom<typeof isrMachine>;
export type IsrWireStep = WireStep<Event>;

/**
 * --replica-lag-time-max-ms of the node. The machine's clock stands still
 * between its ticks while the node's runs, so every step between two ticks
 * (a fence among them, which waits out the controller's reconnect grace) must
 * land within it, even on a loaded machine: not small.
 */
export const replicaLagMsMax = 5_000;
/** The node's bound on waiting acks=all produces per partition (impl/broker/replica-manager.ts). */
const waitingProducesPerPartitionMax = 10_000;

export const leaderId = 1;
export const followers = [2, 3];

export const isrInput: Input = {
  leaderId,
  leaderEpoch: 0,
  partitionEpoch: 0,
  replicas: [1, 2, 3],
  isr: [1, 2],
  leaderEndOffset: 0,
  leaderEpochStartOffset: 0,
  highWatermark: 0,
  minInsyncReplicas: 2,
  replicaLagMsMax,
  nowMs: 0,
  waitingProducesMax: waitingProducesPerPartitionMax,
};

/** The shared generator: offsets 0-2, and one tick well past replica.lag.time.max.ms. */
export const generateIsrEvents = boundedEvents({
  offsetMax: 2,
  times: [0, 2 * replicaLagMsMax],
  produces: true,
});

/** Estimated seconds: a tick waits past the lag time, a fence out the controller's reconnect grace. */
const tickSeconds = (1.5 * replicaLagMsMax) / 1000;
const fenceSeconds = 1;
const unfenceSeconds = 0.5;
const requestSeconds = 0.05;

function generated<Type extends Event["type"]>(
  snapshot: Snapshot,
  type: Type,
  matches: (event: Extract<Event, { type: Type }>) => boolean = () => true,
): Extract<Event, { type: Type }> {
  const event = generateIsrEvents(snapshot).find(
    (candidate): candidate is Extract<Event, { type: Type }> =>
      candidate.type === type && matches(candidate as Extract<Event, { type: Type }>),
  );
  if (event === undefined)
    throw new Error(`the generator offers no such ${type} in ${JSON.stringify(snapshot.value)}`);
  return event;
}

/** The steps one generated event becomes over the wire (none when it has no stimulus of its own). */
function stepsOf(snapshot: Snapshot, event: Event): IsrWireStep[] {
  const [next, actions] = transition(isrMachine, snapshot, event);
  const pending = next.status === "active" ? next.context.pendingIsrChange : null;
  switch (event.type) {
    case "replica.fetched":
      if (pending === null) return [{ type: "wire.step", events: [event] }];
      // The expansion goes to the controller at once: committed if the follower is live, refused if fenced.
      return [
        { type: "wire.step", events: [event, generated(next, "isr.committed")] },
        {
          type: "wire.step",
          events: [
            event,
            generated(
              next,
              "isr.rejected",
              (refusal) => refusal.errorCode === IsrErrorCode.INELIGIBLE_REPLICA,
            ),
          ],
        },
      ];
    case "clock.ticked":
      // A shrink leaves only live members, so the controller always commits it.
      return [
        { type: "wire.step", events: pending === null ? [event] : [event, generated(next, "isr.committed")] },
      ];
    case "produce.requested": {
      const appended = actions.some((action) => action.type === "appendBatch");
      return [
        { type: "wire.step", events: appended ? [event, generated(next, "leader.appended")] : [event] },
      ];
    }
    case "leader.resigned":
      return [{ type: "wire.step", events: [event] }];
    default:
      // leader.appended only follows a produce; isr.committed and isr.rejected only answer a proposal.
      return [];
  }
}

/**
 * The wire steps from a state the leader rests in (no AlterPartition in
 * flight). A step may not leave an ISR follower out of sync at the machine's
 * clock: the generator's clock ticks once, but the node's keeps ticking and
 * would remove it at once.
 */
export function isrWireSteps(snapshot: Snapshot): IsrWireStep[] {
  if (snapshot.status !== "active") return [];
  return generateIsrEvents(snapshot)
    .flatMap((event) => stepsOf(snapshot, event))
    .filter((step) => {
      const after = step.events.reduce(
        (state: Snapshot, event) => transition(isrMachine, state, event)[0],
        snapshot,
      );
      return (
        after.status !== "active" || outOfSyncIsrFollowers(after.context, after.context.nowMs).length === 0
      );
    });
}

/** The follower a step's proposal adds, and whether the controller must find it live (commit) or fenced (refusal). */
export function joiningFollowerOf(step: IsrWireStep): { replicaId: number; live: boolean } | null {
  const [first, answer] = step.events;
  if (first?.type !== "replica.fetched" || answer === undefined) return null;
  return { replicaId: first.replicaId, live: answer.type === "isr.committed" };
}

export function isrStepCost(step: IsrWireStep): number {
  const first = step.events[0]!;
  if (first.type === "clock.ticked") return tickSeconds;
  const joining = joiningFollowerOf(step);
  if (joining !== null) {
    // Follower 3 starts fenced and follower 2 live: the usual liveness change each answer needs.
    if (joining.live) return requestSeconds + (joining.replicaId === 3 ? unfenceSeconds : 0);
    return requestSeconds + fenceSeconds;
  }
  return requestSeconds;
}

/**
 * Why a transition of the machine cannot be taken over the wire against this
 * node, or null when it can. The suite asserts that exactly the transitions
 * with a reason here are the ones it did not take.
 */
export function whyUnreachableOverTheWire(transitionKey: string): string | null {
  if (transitionKey === "isr.Leading --produce.requested#1") {
    return (
      "the waiting list holds 10,000 acks=all produces per partition, a constant no flag lowers; " +
      "the bounded model's offsets stop at 2, and 10,001 concurrent produces are no path"
    );
  }
  if (transitionKey === "isr.Leading.PendingShrink --isr.rejected#0") {
    return (
      "a shrink keeps only ISR members: the leader, always live, and followers the controller would have " +
      "taken out of the ISR when it fenced them; the leader names no member epochs (KIP-903) that could be " +
      "stale, and the controller never answers OPERATION_NOT_ATTEMPTED"
    );
  }
  if (/^isr\.Leading\.Pending(Expand|Shrink) --isr\.rejected#1$/.test(transitionKey)) {
    return (
      "needs the controller to find the leader's own proposal stale (FENCED_LEADER_EPOCH, " +
      "INVALID_UPDATE_VERSION, UNKNOWN_TOPIC_ID, ...): node 1 never loses its leadership, and only a change " +
      "ordered between the proposal and its decision could make it stale, while the proposal reaches the " +
      "controller, in the same process, at once: no stimulus can be placed there, only raced"
    );
  }
  if (/^isr\.Leading\.Pending(Expand|Shrink) --isr\.rejected#2$/.test(transitionKey)) {
    return (
      "needs an error the runtime passes on to the machine: it retries NOT_CONTROLLER and REQUEST_TIMED_OUT " +
      "itself (partition-leader.ts), and the controller in the same process answers no other unexpected one"
    );
  }
  return null;
}
