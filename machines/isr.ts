/**
 * The ISR machine: one per partition, run by the partition's leader. It tracks
 * each follower from its fetches, proposes adding one only while the
 * metadata shows its broker eligible, keeps at most one AlterPartition in flight,
 * moves the high watermark over the maximal ISR and decides when an acks=all
 * produce is refused, completed or answered NOT_ENOUGH_REPLICAS_AFTER_APPEND.
 * The ISR itself changes only when the controller's change is committed.
 */
import { and, assign, enqueueActions, not, setup } from "xstate";
import {
  ACKS_ALL,
  alterPartitionErrorsThatAwaitMetadata,
  alterPartitionErrorsThatRevert,
  alterPartitionRequest,
  type Context,
  findFollower,
  type Input,
  IsrErrorCode,
  ineligibleFollowers,
  initialContext,
  inReplicaOrder,
  isBrokerIsrEligible,
  isEligibleForIsr,
  isrAtLeastMinInsync,
  nextHighWatermark,
  outOfSyncIsrFollowers,
  progressAfterFetch,
} from "./isr-rules.ts";

export * from "./isr-rules.ts";

export type Event =
  | { type: "replica.fetched"; replicaId: number; fetchOffset: number; nowMs: number }
  | { type: "clock.ticked"; nowMs: number }
  | { type: "leader.appended"; endOffset: number }
  | { type: "produce.requested"; requestId: number; acks: number; lastOffset: number }
  | { type: "isr.committed"; leaderEpoch: number; partitionEpoch: number; isr: number[] }
  | { type: "isr.rejected"; errorCode: number }
  | { type: "replicas.eligibilityChanged"; ineligibleReplicas: number[] }
  | { type: "topic.configChanged"; minInsyncReplicas: number }
  | { type: "leader.resigned" };

export const eventDescriptions: Record<Event["type"], string> = {
  "replica.fetched": "A follower fetched from fetchOffset at nowMs; its end offset is now fetchOffset",
  "clock.ticked": "Time passed; nowMs is the leader's clock",
  "leader.appended": "The leader's log grew to endOffset",
  "produce.requested": "A produce asks to append a batch ending at lastOffset with the given acks",
  "isr.committed":
    "A change to this partition committed in the metadata log (AlterPartition answer or controller)",
  "isr.rejected": "The controller refused the AlterPartition in flight with errorCode",
  "replicas.eligibilityChanged":
    "Applied metadata changed a broker: these replicas are now the unregistered, fenced or shutting down ones",
  "topic.configChanged": "The topic's min.insync.replicas is now minInsyncReplicas",
  "leader.resigned": "This node no longer leads the partition",
};

const alterPartition = {
  type: "sendAlterPartition",
  params: ({ context }: { context: Context }) => alterPartitionRequest(context),
} as const;

const settle = "settleHighWatermark" as const;

export const isrMachine = setup({
  types: {
    context: {} as Context,
    events: {} as Event,
    input: {} as Input,
  },
  actions: {
    // Effects: placeholders the runtime provides.
    sendAlterPartition: (_, _params: { leaderEpoch: number; partitionEpoch: number; newIsr: number[] }) => {},
    advanceHighWatermark: (_, _params: { highWatermark: number }) => {},
    appendBatch: (_, _params: { requestId: number }) => {},
    completeProduce: (_, _params: { requestId: number }) => {},
    refuseProduce: (_, _params: { requestId: number; errorCode: number }) => {},

    recordFetch: assign(({ context, event }) => {
      if (event.type !== "replica.fetched") return {};
      return {
        nowMs: Math.max(context.nowMs, event.nowMs),
        followers: context.followers.map((follower) =>
          follower.replicaId === event.replicaId
            ? progressAfterFetch(follower, event.fetchOffset, event.nowMs, context.leaderEndOffset)
            : follower,
        ),
      };
    }),
    recordClock: assign(({ context, event }) =>
      event.type === "clock.ticked" ? { nowMs: Math.max(context.nowMs, event.nowMs) } : {},
    ),
    recordLeaderAppend: assign(({ context, event }) =>
      event.type === "leader.appended"
        ? { leaderEndOffset: Math.max(context.leaderEndOffset, event.endOffset) }
        : {},
    ),
    proposeIsrExpansion: assign(({ context, event }) =>
      event.type === "replica.fetched"
        ? {
            pendingIsrChange: {
              kind: "expand" as const,
              isr: inReplicaOrder(context.replicas, [...context.isr, event.replicaId]),
            },
          }
        : {},
    ),
    proposeIsrShrink: assign(({ context }) => {
      const removed = outOfSyncIsrFollowers(context, context.nowMs);
      return {
        pendingIsrChange: {
          kind: "shrink" as const,
          isr: context.isr.filter((replicaId) => !removed.includes(replicaId)),
        },
      };
    }),
    applyCommittedIsr: assign(({ event }) =>
      event.type === "isr.committed"
        ? { isr: [...event.isr], partitionEpoch: event.partitionEpoch, pendingIsrChange: null }
        : {},
    ),
    abandonIsrChange: assign({ pendingIsrChange: null }),
    recordEligibility: assign(({ context, event }) =>
      event.type === "replicas.eligibilityChanged"
        ? { ineligibleReplicas: ineligibleFollowers(context, event.ineligibleReplicas) }
        : {},
    ),
    recordMinInsyncReplicas: assign(({ event }) =>
      event.type === "topic.configChanged" ? { minInsyncReplicas: event.minInsyncReplicas } : {},
    ),

    /** The one place the high watermark is computed; broken variants replace this. */
    updateHighWatermark: assign(({ context }) => ({ highWatermark: nextHighWatermark(context) })),
    forgetCoveredProduces: assign(({ context }) => ({
      waitingProduces: context.waitingProduces.filter(
        (produce) => produce.lastOffset >= context.highWatermark,
      ),
    })),
    forgetWaitingProduces: assign({ waitingProduces: [] }),
    registerWaitingProduce: assign(({ context, event }) =>
      event.type === "produce.requested"
        ? {
            waitingProduces: [
              ...context.waitingProduces,
              { requestId: event.requestId, lastOffset: event.lastOffset },
            ],
          }
        : {},
    ),
  },
  guards: {
    noAlterPartitionInFlight: ({ context }) => context.pendingIsrChange === null,
    followerOutsideIsr: ({ context, event }) =>
      event.type === "replica.fetched" &&
      findFollower(context, event.replicaId) !== undefined &&
      !context.isr.includes(event.replicaId),
    followerEligibleForIsr: ({ context, event }) =>
      event.type === "replica.fetched" && isEligibleForIsr(context, event.fetchOffset),
    followerBrokerEligible: ({ context, event }) =>
      event.type === "replica.fetched" && isBrokerIsrEligible(context, event.replicaId),
    followerOutOfSync: ({ context, event }) =>
      event.type === "clock.ticked" &&
      outOfSyncIsrFollowers(context, Math.max(context.nowMs, event.nowMs)).length > 0,
    isrAtLeastMinInsync: ({ context }) => isrAtLeastMinInsync(context),
    produceAcksAll: ({ event }) => event.type === "produce.requested" && event.acks === ACKS_ALL,
    waitingProducesFull: ({ context }) => context.waitingProduces.length >= context.waitingProducesMax,
    // Strictly newer: the same change arrives twice (the AlterPartition answer and the applied
    // record), and a copy of what is already held must not clear a change proposed since.
    committedChangeIsCurrent: ({ context, event }) =>
      event.type === "isr.committed" &&
      event.leaderEpoch === context.leaderEpoch &&
      event.partitionEpoch > context.partitionEpoch,
    committedIsrBelowMinInsync: ({ context, event }) =>
      event.type === "isr.committed" && event.isr.length < context.minInsyncReplicas,
    rejectionRevertsToCommitted: ({ event }) =>
      event.type === "isr.rejected" && alterPartitionErrorsThatRevert.includes(event.errorCode),
    rejectionAwaitsMetadata: ({ event }) =>
      event.type === "isr.rejected" && alterPartitionErrorsThatAwaitMetadata.includes(event.errorCode),
  },
})
  // Actions that enqueue the named ones above: `extend` lets them refer to those by name.
  .extend<{
    publishHighWatermark: { previousHighWatermark: number };
    refuseWaitingProduces: { errorCode: number };
  }>({
    actions: {
      /** Announces a moved high watermark and completes the produces it now covers. */
      publishHighWatermark: enqueueActions(
        ({ context, enqueue }, params: { previousHighWatermark: number }) => {
          if (context.highWatermark === params.previousHighWatermark) return;
          enqueue({ type: "advanceHighWatermark", params: { highWatermark: context.highWatermark } });
          for (const produce of context.waitingProduces) {
            if (produce.lastOffset < context.highWatermark) {
              enqueue({ type: "completeProduce", params: { requestId: produce.requestId } });
            }
          }
          enqueue("forgetCoveredProduces");
        },
      ),
      refuseWaitingProduces: enqueueActions(({ context, enqueue }, params: { errorCode: number }) => {
        for (const produce of context.waitingProduces) {
          enqueue({
            type: "refuseProduce",
            params: { requestId: produce.requestId, errorCode: params.errorCode },
          });
        }
        enqueue("forgetWaitingProduces");
      }),
    },
  })
  .extend<{ settleHighWatermark: undefined }>({
    actions: {
      /** Recomputes the high watermark, remembering the old one so only a move is announced. */
      settleHighWatermark: enqueueActions(({ context, enqueue }) => {
        enqueue("updateHighWatermark");
        enqueue({ type: "publishHighWatermark", params: { previousHighWatermark: context.highWatermark } });
      }),
    },
  })
  .createMachine({
    id: "isr",
    description: "The ISR and high watermark of one partition, on its leader",
    context: ({ input }) => initialContext(input),
    initial: "Leading",
    states: {
      Leading: {
        description: "This node leads the partition at leaderEpoch",
        initial: "Committed",
        on: {
          "replica.fetched": [
            {
              guard: and([
                "noAlterPartitionInFlight",
                "followerOutsideIsr",
                "followerEligibleForIsr",
                "followerBrokerEligible",
              ]),
              target: ".PendingExpand",
              actions: ["recordFetch", "proposeIsrExpansion", alterPartition, settle],
              description: "A caught-up follower outside the ISR whose broker may join it: propose adding it",
            },
            {
              actions: ["recordFetch", settle],
              description: "Record the follower's progress; the high watermark may move",
            },
          ],
          "clock.ticked": [
            {
              guard: and(["noAlterPartitionInFlight", "followerOutOfSync"]),
              target: ".PendingShrink",
              actions: ["recordClock", "proposeIsrShrink", alterPartition],
              description: "ISR followers out of sync: propose removing them",
            },
            { actions: ["recordClock"], description: "Time passes; nothing to change" },
          ],
          "leader.appended": {
            actions: ["recordLeaderAppend", settle],
            description: "The leader's end offset grows; the high watermark may move",
          },
          "produce.requested": [
            {
              guard: and(["produceAcksAll", not("isrAtLeastMinInsync")]),
              actions: [
                {
                  type: "refuseProduce",
                  params: ({ event }) => ({
                    requestId: event.requestId,
                    errorCode: IsrErrorCode.NOT_ENOUGH_REPLICAS,
                  }),
                },
              ],
              description: "acks=all with the ISR below min.insync.replicas: refused before the append",
            },
            {
              guard: and(["produceAcksAll", "waitingProducesFull"]),
              actions: [
                {
                  type: "refuseProduce",
                  // Nothing was written, so a retriable code lets the client retry safely.
                  params: ({ event }) => ({
                    requestId: event.requestId,
                    errorCode: IsrErrorCode.REQUEST_TIMED_OUT,
                  }),
                },
              ],
              description: "acks=all with the waiting list full: refused before the append",
            },
            {
              guard: "produceAcksAll",
              actions: [
                { type: "appendBatch", params: ({ event }) => ({ requestId: event.requestId }) },
                "registerWaitingProduce",
              ],
              description: "acks=all: append, then wait for the high watermark to pass the batch",
            },
            {
              actions: [{ type: "appendBatch", params: ({ event }) => ({ requestId: event.requestId }) }],
              description: "acks=0 or 1: append; the leader answers alone",
            },
          ],
          "isr.committed": [
            {
              guard: and(["committedChangeIsCurrent", "committedIsrBelowMinInsync"]),
              target: ".Committed",
              actions: [
                "applyCommittedIsr",
                settle,
                {
                  type: "refuseWaitingProduces",
                  params: { errorCode: IsrErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND },
                },
              ],
              description:
                "The ISR is now below min.insync.replicas: waiting acks=all produces fail after append",
            },
            {
              guard: "committedChangeIsCurrent",
              target: ".Committed",
              actions: ["applyCommittedIsr", settle],
              description: "Apply the committed ISR and partition epoch",
            },
          ],
          "replicas.eligibilityChanged": {
            actions: ["recordEligibility"],
            // Kafka's leader checks eligibility only when it proposes: an expansion already in
            // flight is the controller's to accept or refuse (INELIGIBLE_REPLICA), and a follower
            // eligible again is proposed at its next fetch.
            description:
              "Remember which followers may not join the ISR; a change in flight awaits its answer",
          },
          "topic.configChanged": {
            actions: ["recordMinInsyncReplicas", settle],
            // As Kafka, whose Partition reads min.insync.replicas from the log's live config: the
            // next acks=all produce is checked against the new value, and the high watermark
            // waits for it; produces already appended keep waiting for the high watermark.
            description:
              "min.insync.replicas changes at once: later acks=all produces and the high watermark follow it",
          },
          "leader.resigned": {
            target: "Resigned",
            actions: [
              { type: "refuseWaitingProduces", params: { errorCode: IsrErrorCode.NOT_LEADER_OR_FOLLOWER } },
            ],
            description: "Leadership moved: waiting produces are answered NOT_LEADER_OR_FOLLOWER",
          },
        },
        states: {
          Committed: {
            description: "No AlterPartition in flight; the ISR is the committed one",
          },
          PendingExpand: {
            description:
              "An ISR change adding one follower awaits the controller; the high watermark already waits for it",
            on: {
              "isr.rejected": rejectionTransitions(),
            },
          },
          PendingShrink: {
            description:
              "An ISR change removing followers awaits the controller; they still count until it commits",
            on: {
              "isr.rejected": rejectionTransitions(),
            },
          },
        },
      },
      Resigned: {
        type: "final",
        description: "No longer the leader; the machine is done",
      },
    },
  });

/** The same answer to a refused AlterPartition in either pending state. */
function rejectionTransitions() {
  return [
    {
      guard: "rejectionRevertsToCommitted" as const,
      target: "Committed",
      actions: ["abandonIsrChange" as const, settle],
      description: "Refused and not applied: back to the committed ISR",
    },
    {
      guard: "rejectionAwaitsMetadata" as const,
      description: "Our epochs are stale: keep the change pending until newer metadata arrives",
    },
    {
      actions: [alterPartition],
      description: "Unexpected error: send the same AlterPartition again",
    },
  ];
}
