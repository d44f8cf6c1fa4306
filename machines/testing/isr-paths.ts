/**
 * The one generator of ISR machine paths, shared by the machine's own path
 * test (machines/isr.paths.test.ts) and the conformance suite that drives the
 * same events against a real partition leader (conformance/paths/isr.test.ts).
 * Each caller gives the input its leader starts from: the machine test a
 * leader just elected after a failover, the conformance suite the leader of
 * a topic it has just created.
 */
import type { SnapshotFrom } from "xstate";
import { type Event, IsrErrorCode, inReplicaOrder, type isrMachine } from "../isr.ts";

export type Snapshot = SnapshotFrom<typeof isrMachine>;

export interface Bounds {
  offsetMax: number;
  /** Clock values in order; one tick past replica.lag.time.max.ms makes a stalled follower out of sync. */
  times: number[];
  produces: boolean;
  /** The followers whose brokers may turn ineligible (fenced, shutting down) and eligible again. */
  eligibilityChanging: number[];
  /** The min.insync.replicas values a config change may set, offered when they differ from the current. */
  minInsyncReplicasValues: number[];
}

/** The request id of the generated one-record produce at `offset`: 100 + offset for acks=all, 200 + offset for acks=1. */
export function produceRequestId(acks: -1 | 1, offset: number): number {
  return (acks === -1 ? 100 : 200) + offset;
}

/** Events a leader can see next, kept finite: offsets only grow, up to offsetMax, and time takes the listed values. */
export function boundedEvents(bounds: Bounds) {
  return (snapshot: Snapshot): Event[] => {
    if (snapshot.status !== "active") return [];
    const context = snapshot.context;
    const events: Event[] = [];
    for (const follower of context.followers) {
      for (let offset = Math.max(follower.endOffset + 1, 0); offset <= context.leaderEndOffset; offset++) {
        events.push({
          type: "replica.fetched",
          replicaId: follower.replicaId,
          fetchOffset: offset,
          nowMs: context.nowMs,
        });
      }
    }
    const later = bounds.times.find((time) => time > context.nowMs);
    if (later !== undefined) events.push({ type: "clock.ticked", nowMs: later });
    if (context.leaderEndOffset < bounds.offsetMax) {
      events.push({ type: "leader.appended", endOffset: context.leaderEndOffset + 1 });
      if (bounds.produces) {
        // A one-record batch at the leader's end offset; the request id names the offset.
        const offset = context.leaderEndOffset;
        events.push({
          type: "produce.requested",
          requestId: produceRequestId(-1, offset),
          acks: -1,
          lastOffset: offset,
        });
        events.push({
          type: "produce.requested",
          requestId: produceRequestId(1, offset),
          acks: 1,
          lastOffset: offset,
        });
      }
    }
    const pending = context.pendingIsrChange;
    if (pending !== null) {
      events.push({
        type: "isr.committed",
        leaderEpoch: context.leaderEpoch,
        partitionEpoch: context.partitionEpoch + 1,
        isr: pending.isr,
      });
      for (const errorCode of [
        IsrErrorCode.INELIGIBLE_REPLICA,
        IsrErrorCode.FENCED_LEADER_EPOCH,
        IsrErrorCode.REQUEST_TIMED_OUT,
      ]) {
        events.push({ type: "isr.rejected", errorCode });
      }
    }
    for (const follower of bounds.eligibilityChanging) {
      const ineligible = context.ineligibleReplicas.includes(follower)
        ? context.ineligibleReplicas.filter((replicaId) => replicaId !== follower)
        : inReplicaOrder(context.replicas, [...context.ineligibleReplicas, follower]);
      events.push({ type: "replicas.eligibilityChanged", ineligibleReplicas: ineligible });
    }
    for (const minInsyncReplicas of bounds.minInsyncReplicasValues) {
      if (minInsyncReplicas !== context.minInsyncReplicas) {
        events.push({ type: "topic.configChanged", minInsyncReplicas });
      }
    }
    events.push({ type: "leader.resigned" });
    return events;
  };
}

/**
 * xstate/graph adds a payload-less event for every type the state accepts but
 * the events function did not offer (leader.appended once offsetMax is reached);
 * those are not events a runtime can send, so they are dropped.
 */
export function wellFormed(_snapshot: Snapshot, event: Event): boolean {
  return event.type === "leader.resigned" || Object.keys(event).length > 1;
}

/** Every resigned leader is the same end: one vertex. */
export function serializeSnapshot(snapshot: Snapshot): string {
  return snapshot.status === "done"
    ? "Resigned"
    : JSON.stringify({ value: snapshot.value, context: snapshot.context });
}

/**
 * A transition that changes nothing (a refused produce, an acks=1 append, a
 * resent AlterPartition) returns the same snapshot, so a graph of snapshots has
 * no edge for it and no path would take it. Naming the vertex after the event
 * that looped gives each such transition its own path.
 */
export function serializeWithSelfLoops(
  snapshot: Snapshot,
  event: Event | undefined,
  previous?: Snapshot,
): string {
  const key = serializeSnapshot(snapshot);
  return previous === snapshot && event !== undefined ? `${key} after ${JSON.stringify(event)}` : key;
}

/** The machine's state as one name: Committed, PendingExpand, PendingShrink or Resigned. */
export function stateName(snapshot: Snapshot): string {
  return typeof snapshot.value === "string" ? snapshot.value : String(snapshot.value.Leading);
}
