/**
 * The ISR machine's generated events as stimuli a test can give a real
 * partition leader over the wire: node 1 leads partition 0 of a topic with
 * replicas [1, 2, 3]; the test plays followers 2 and 3 (played-followers.ts)
 * and the controller (played-controller.ts), the only voter of the metadata
 * quorum, which node 1 observes as a broker.
 *
 * The leader starts as a controller makes it when it creates the topic while
 * broker 3 is fenced: leader epoch 0, ISR [1, 2], an empty log, follower 3
 * never fetched and ineligible for the ISR until the controller unfences it. (The machine test's input, a leader elected after a failover
 * with a log the high watermark has not reached, is not made here: every path
 * starts from a new topic, whose log is empty.)
 *
 * Stimuli: replica.fetched is that follower's Fetch with its replica id at the
 * offset; produce.requested is a one-record Produce with its acks, and the
 * append it causes is the leader.appended after it; clock.ticked is real
 * waiting past --replica-lag-time-max-ms; leader.resigned is the controller
 * removing the topic; replicas.eligibilityChanged is the controller fencing
 * or unfencing follower 3 (a FenceBrokerRecord or UnfenceBrokerRecord);
 * topic.configChanged is a ConfigRecord setting the topic's
 * min.insync.replicas. The leader's AlterPartition waits at the controller
 * until a step of its own answers it, so a path may do anything while a
 * change is pending:
 * - isr.committed: the controller commits the proposed ISR (a
 *   PartitionChangeRecord, after unfencing any member it had fenced: a real
 *   controller would have once the broker caught up, and the leader learns
 *   of that unfencing too) and answers with it;
 * - isr.rejected, a change not applied (INELIGIBLE_REPLICA): for an
 *   expansion, the controller has fenced the joining follower; for a shrink,
 *   a follower it keeps has just registered again (a restart: a new
 *   incarnation, fenced until it catches up), and the controller decides
 *   before it takes that follower out of the ISR. Either way the leader
 *   learns the fencing as well. (Chronik's controller does
 *   that in a decision of its own after the registration, its liveness
 *   check; that ISR change is the controller's own, which the generator has
 *   no event for, so the path goes on without it.) A shrink that keeps no
 *   follower names only the leader, and a controller that found the leader
 *   ineligible would have moved the leadership first: no step;
 * - isr.rejected, a stale proposal: the controller commits the change, but
 *   its answer is lost (the connection closes); the leader sends it again,
 *   and the controller finds the retry's partition epoch stale
 *   (INVALID_UPDATE_VERSION); the record then reaches the leader, which is
 *   the isr.committed after it. (The generator names FENCED_LEADER_EPOCH for
 *   this branch; a newer leader epoch would end this leader, so the wire
 *   takes the other error the machine treats alike.)
 * - isr.rejected, an error the machine does not expect: the controller
 *   answers UNKNOWN_SERVER_ERROR, as for a decision that failed. (The
 *   generator names REQUEST_TIMED_OUT, which the runtime resends itself
 *   without telling the machine, as it does NOT_CONTROLLER.)
 * And one stimulus of many events: 10,000 acks=all produces that all wait,
 * then one more, which the full waiting list refuses (waitingListFill).
 */
import { type SnapshotFrom, transition } from "xstate";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import {
  alterPartitionErrorsThatAwaitMetadata,
  alterPartitionErrorsThatRevert,
  type Event,
  type Input,
  inReplicaOrder,
  isrAtLeastMinInsync,
  isrMachine,
  outOfSyncIsrFollowers,
  UNKNOWN_OFFSET,
} from "../../machines/isr.ts";
import { boundedEvents } from "../../machines/testing/isr-paths.ts";
import { takeStep, type WireStep } from "./wire-steps.ts";

type Snapshot = SnapshotFrom<typeof isrMachine>;
export type IsrWireStep = WireStep<Event>;

/**
 * --replica-lag-time-max-ms of the node. The machine's clock stands still
 * between its ticks while the node's runs, so every step between two ticks
 * must land within it, even on a loaded machine.
 */
export const replicaLagMsMax = 3_000;
/** The node's bound on waiting acks=all produces per partition (impl/broker/replica-manager.ts). */
const waitingProducesPerPartitionMax = 10_000;

export const leaderId = 1;
export const followers = [2, 3];
/** The controller's node id: a controller-only node, as KRaft's dedicated controllers are. */
export const controllerId = 0;

/** The error the controller answers for a proposal whose partition epoch is older than its own. */
export const staleProposalError = ErrorCode.INVALID_UPDATE_VERSION;
/** An error no branch of the machine names, which the runtime passes on to it. */
export const unexpectedError = ErrorCode.UNKNOWN_SERVER_ERROR;

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
  ineligibleReplicas: [3],
  replicaLagMsMax,
  nowMs: 0,
  waitingProducesMax: waitingProducesPerPartitionMax,
};

/**
 * The shared generator: offsets 0-2, one tick well past
 * replica.lag.time.max.ms, follower 3 fenced and unfenced, and
 * min.insync.replicas raised above the ISR and back.
 */
export const generateIsrEvents = boundedEvents({
  offsetMax: 2,
  times: [0, 2 * replicaLagMsMax],
  produces: true,
  eligibilityChanging: [3],
  minInsyncReplicasValues: [2, 3],
});

/** What the test does for a wire step. */
export type IsrStimulus =
  | "followerFetch"
  | "wait"
  | "produce"
  | "waitingListFill"
  | "topicRemoval"
  | "brokerChange"
  | "configChange"
  | "commit"
  | "refusalNotApplied"
  | "refusalStale"
  | "refusalUnexpected";

/** Estimated seconds of each stimulus: a tick waits past the lag time; the fill sends 10,001 produces. */
const stimulusSeconds: Record<IsrStimulus, number> = {
  followerFetch: 0.05,
  wait: (1.5 * replicaLagMsMax) / 1000,
  produce: 0.05,
  waitingListFill: 10,
  topicRemoval: 0.1,
  brokerChange: 0.1,
  configChange: 0.1,
  commit: 0.1,
  refusalNotApplied: 0.1,
  refusalStale: 0.3,
  refusalUnexpected: 0.1,
};

/**
 * What the test does for a step: that of its first event, except that the
 * controller fencing or unfencing brokers on its way to answering an
 * AlterPartition is part of that answer.
 */
export function stimulusOf(step: IsrWireStep): IsrStimulus {
  const first = step.events.find((event) => event.type !== "replicas.eligibilityChanged") ?? step.events[0]!;
  switch (first.type) {
    case "replica.fetched":
      return "followerFetch";
    case "clock.ticked":
      return "wait";
    case "produce.requested":
      return step.events.length > 2 ? "waitingListFill" : "produce";
    case "leader.resigned":
      return "topicRemoval";
    case "replicas.eligibilityChanged":
      return "brokerChange";
    case "topic.configChanged":
      return "configChange";
    case "isr.committed":
      return "commit";
    case "isr.rejected":
      if (alterPartitionErrorsThatRevert.includes(first.errorCode)) return "refusalNotApplied";
      if (alterPartitionErrorsThatAwaitMetadata.includes(first.errorCode)) return "refusalStale";
      return "refusalUnexpected";
    case "leader.appended":
      throw new Error("leader.appended follows a produce; it is no stimulus of its own");
  }
}

export function isrStepCost(step: IsrWireStep): number {
  return stimulusSeconds[stimulusOf(step)];
}

function generated<Type extends Event["type"]>(
  snapshot: Snapshot,
  type: Type,
): Extract<Event, { type: Type }> {
  const event = generateIsrEvents(snapshot).find(
    (candidate): candidate is Extract<Event, { type: Type }> => candidate.type === type,
  );
  if (event === undefined)
    throw new Error(`the generator offers no ${type} in ${JSON.stringify(snapshot.value)}`);
  return event;
}

/** The request id of the fill's index-th produce: apart from the generator's (100 + offset, 200 + offset). */
export function fillRequestId(index: number): number {
  return 1_000_000 + index;
}

/** The steps one generated event becomes over the wire (none when it has no stimulus of its own). */
function stepsOf(snapshot: Snapshot, event: Event): IsrWireStep[] {
  const pending = snapshot.status === "active" ? snapshot.context.pendingIsrChange : null;
  switch (event.type) {
    case "replica.fetched":
    case "clock.ticked":
    case "leader.resigned":
    case "replicas.eligibilityChanged":
    case "topic.configChanged":
      return [{ type: "wire.step", events: [event] }];
    case "produce.requested": {
      const [next, actions] = transition(isrMachine, snapshot, event);
      const appended = actions.some((action) => action.type === "appendBatch");
      return [
        { type: "wire.step", events: appended ? [event, generated(next, "leader.appended")] : [event] },
      ];
    }
    case "isr.committed":
      return pending === null
        ? []
        : [{ type: "wire.step", events: [...unfencing(snapshot, pending.isr), event] }];
    case "isr.rejected": {
      if (pending === null) return [];
      if (alterPartitionErrorsThatRevert.includes(event.errorCode)) {
        // The controller fences the follower an expansion adds, or registers again one a shrink keeps.
        const fenced =
          pending.kind === "expand"
            ? pending.isr.find((member) => !snapshot.context.isr.includes(member))
            : pending.isr.find((member) => member !== leaderId);
        if (fenced === undefined) return [];
        return [{ type: "wire.step", events: [...fencing(snapshot, fenced), event] }];
      }
      if (alterPartitionErrorsThatAwaitMetadata.includes(event.errorCode)) {
        const stale: Event = { type: "isr.rejected", errorCode: staleProposalError };
        const [next] = transition(isrMachine, snapshot, stale);
        const unfenced = unfencing(next, pending.isr);
        const committed = takeStep(isrMachine, next, { type: "wire.step", events: unfenced });
        return [{ type: "wire.step", events: [stale, ...unfenced, generated(committed, "isr.committed")] }];
      }
      return [{ type: "wire.step", events: [{ type: "isr.rejected", errorCode: unexpectedError }] }];
    }
    case "leader.appended":
      // Only after a produce: the append it causes.
      return [];
  }
}

/**
 * What the leader learns when the controller unfences every member of
 * `isr` it had fenced (isr-proposals.ts does so before it commits an ISR
 * naming them): nothing, when it knows none of them ineligible.
 */
function unfencing(snapshot: Snapshot, isr: readonly number[]): Event[] {
  const ineligible = snapshot.context.ineligibleReplicas;
  const still = ineligible.filter((replicaId) => !isr.includes(replicaId));
  return still.length === ineligible.length
    ? []
    : [{ type: "replicas.eligibilityChanged", ineligibleReplicas: still }];
}

/** What the leader learns when the controller fences `replicaId`: nothing, when it knows it ineligible. */
function fencing(snapshot: Snapshot, replicaId: number): Event[] {
  const { ineligibleReplicas, replicas } = snapshot.context;
  if (ineligibleReplicas.includes(replicaId)) return [];
  return [
    {
      type: "replicas.eligibilityChanged",
      ineligibleReplicas: inReplicaOrder(replicas, [...ineligibleReplicas, replicaId]),
    },
  ];
}

/**
 * Whether the waiting-list fill is explored from this state: one with a
 * shrink pending (the controller holds it, so the node's own clock changes
 * nothing however long the fill takes), the ISR still at min.insync.replicas
 * (acks=all appends and waits), nothing waiting yet, one record in the log,
 * and no follower ever fetched (so the high watermark waits for follower 2).
 * The fill's model state holds 10,000 waiting produces; exploring it from
 * more than this one state would only cost the plan time.
 */
function offersWaitingListFill(snapshot: Snapshot): boolean {
  const context = snapshot.context;
  return (
    context.pendingIsrChange?.kind === "shrink" &&
    isrAtLeastMinInsync(context) &&
    context.waitingProduces.length === 0 &&
    context.leaderEndOffset === 1 &&
    context.followers.every((follower) => follower.lastFetchLeaderEndOffset === UNKNOWN_OFFSET)
  );
}

/**
 * As many acks=all produces as the waiting list holds, all appended, then
 * one more. Their appends reach the machine as one leader.appended, the log
 * end after the last: while follower 2 holds the high watermark, where the
 * appends fall among the produces changes nothing the machine decides, and
 * every event of this step costs the plan time.
 */
function waitingListFill(snapshot: Snapshot): IsrWireStep {
  const { leaderEndOffset, waitingProducesMax } = snapshot.context;
  const events: Event[] = [];
  for (let index = 0; index < waitingProducesMax; index++) {
    const lastOffset = leaderEndOffset + index;
    events.push({ type: "produce.requested", requestId: fillRequestId(index), acks: -1, lastOffset });
  }
  const endOffset = leaderEndOffset + waitingProducesMax;
  events.push({ type: "leader.appended", endOffset });
  events.push({
    type: "produce.requested",
    requestId: fillRequestId(waitingProducesMax),
    acks: -1,
    lastOffset: endOffset,
  });
  return { type: "wire.step", events };
}

/**
 * The wire steps from a state the leader rests in: with no change pending,
 * no AlterPartition anywhere; with one pending, that AlterPartition held at
 * the controller. A step may not leave an ISR follower out of sync at the
 * machine's clock with no change pending (the generator's clock ticks once,
 * but the node's keeps ticking and would propose removing it), nor take two
 * followers out at one tick (the node's checks find each as its own lag runs
 * out, in an order the abstract clock does not give). From a full waiting
 * list only the leader's end is explored.
 */
export function isrWireSteps(snapshot: Snapshot): IsrWireStep[] {
  if (snapshot.status !== "active") return [];
  const context = snapshot.context;
  if (context.waitingProduces.length >= context.waitingProducesMax) {
    return [{ type: "wire.step", events: [{ type: "leader.resigned" }] }];
  }
  const steps = generateIsrEvents(snapshot)
    .flatMap((event) => stepsOf(snapshot, event))
    .filter((step) => {
      const after = takeStep(isrMachine, snapshot, step);
      if (after.status !== "active") return true;
      const pending = after.context.pendingIsrChange;
      if (pending === null) return outOfSyncIsrFollowers(after.context, after.context.nowMs).length === 0;
      const proposedNow = context.pendingIsrChange === null;
      return !proposedNow || pending.kind === "expand" || context.isr.length - pending.isr.length === 1;
    });
  // The fill leaves the shrink pending, so the filter has nothing to say about it.
  return offersWaitingListFill(snapshot) ? [...steps, waitingListFill(snapshot)] : steps;
}

/**
 * Why a transition of the machine cannot be taken over the wire against this
 * node, or null when it can. The suite asserts that exactly the transitions
 * with a reason here are the ones it did not take: with the test playing the
 * controller, every transition is taken, so none has one.
 */
export function whyUnreachableOverTheWire(_transitionKey: string): string | null {
  return null;
}
