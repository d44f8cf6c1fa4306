/**
 * Broken variants of the ISR machine (each one rule replaced through
 * `isrMachine.provide(...)`) and of the replication runtime, run in the
 * Replication model at small bounds.
 */
import { assign } from "xstate";
import {
  effectiveMinInsyncReplicas,
  isrAtLeastMinInsync,
  isrMachine,
  nextHighWatermark,
  outOfSyncIsrFollowers,
} from "../../machines/isr.ts";
import type { Model } from "../checker/model.ts";
import { createReplicationModel } from "../models/replication.ts";
import type { Mutant } from "./mutant.ts";

export const replicationMutants: Mutant[] = [
  {
    name: "the high watermark advances on the leader's append alone",
    breaks: "isr action updateHighWatermark set to the leader's end offset",
    caughtBy: "HighWatermarkValid",
    create: () =>
      createReplicationModel({
        isrMachine: isrMachine.provide({
          actions: {
            updateHighWatermark: assign(({ context }) => ({
              highWatermark: Math.max(context.highWatermark, context.leaderEndOffset),
            })),
          },
        }),
        maxProduce: 1,
        maxTicks: 0,
        maxCrashes: 0,
      }) as Model<unknown>,
    bounds: { depth: 4, maxStates: 10_000 },
  },
  {
    name: "an ISR shrink takes effect before it commits",
    breaks: "isr action proposeIsrShrink also replaces the ISR with the proposed one",
    caughtBy: "HighWatermarkValid",
    create: () =>
      createReplicationModel({
        isrMachine: isrMachine.provide({
          actions: {
            proposeIsrShrink: assign(({ context }) => {
              const removed = outOfSyncIsrFollowers(context, context.nowMs);
              const isr = context.isr.filter((replicaId) => !removed.includes(replicaId));
              return { pendingIsrChange: { kind: "shrink" as const, isr }, isr };
            }),
          },
        }),
        maxProduce: 1,
        maxTicks: 1,
        maxCrashes: 0,
      }) as Model<unknown>,
    bounds: { depth: 10, maxStates: 100_000 },
  },
  {
    name: "no ISR known, so use a quorum of one",
    breaks:
      "isr guard isrAtLeastMinInsync and action updateHighWatermark take an ISR below min.insync.replicas " +
      "as unknown and let the leader alone be the quorum",
    caughtBy: "HighWatermarkValid",
    create: () =>
      createReplicationModel({
        isrMachine: isrMachine.provide({
          guards: {
            isrAtLeastMinInsync: ({ context }) => isrAtLeastMinInsync(context) || context.isr.length <= 1,
          },
          actions: {
            updateHighWatermark: assign(({ context }) => ({
              highWatermark:
                context.isr.length < effectiveMinInsyncReplicas(context)
                  ? Math.max(context.highWatermark, context.leaderEndOffset)
                  : nextHighWatermark(context),
            })),
          },
        }),
        maxProduce: 2,
        maxTicks: 1,
        maxCrashes: 0,
      }) as Model<unknown>,
    bounds: { depth: 12, maxStates: 200_000 },
  },
  {
    name: "follower truncation not fenced by epoch",
    breaks:
      "replication runtime: a follower of a new leader epoch truncates to its high watermark " +
      "(as Kafka before KIP-101) instead of to where its log diverges by epoch",
    caughtBy: "NoAckedRecordLost",
    create: () =>
      createReplicationModel({
        faults: { truncateToHighWatermarkOnNewEpoch: true },
        maxProduce: 1,
        maxTicks: 0,
        maxCrashes: 1,
      }) as Model<unknown>,
    bounds: { depth: 16, maxStates: 400_000 },
  },
];
