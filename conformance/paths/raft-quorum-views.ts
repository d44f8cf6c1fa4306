/**
 * What the model's snapshot and the node's traced snapshot are compared on.
 * The model counts time in abstract ticks (fetch timeout 100, check quorum
 * 150) and the node in real milliseconds, so clock values themselves never
 * match: the state is compared without them, and time only through what it
 * decides (the time view): whether the leader was heard within the fetch
 * timeout, and each replica's fetch within the fetch timeout and within the
 * check-quorum window. When the time views differ, real time did not follow
 * the model (a timing window was missed), which is not a disagreement.
 */
import { type Context, hasQuorumContact, heardFromLeaderWithin } from "../../machines/raft-quorum.ts";

export interface StateView {
  role: string;
  voters: number[];
  epoch: number;
  votedFor: number | null;
  leaderId: number | null;
  log: { lastEpoch: number; endOffset: number };
  highWatermark: number;
  epochStartOffset: number | null;
  grants: number[];
  replicaProgress: Array<{ id: number; endOffset: number }>;
  /** Whether a follower has heard from its leader at all in this epoch. */
  leaderContacted: boolean;
  pendingVoterChange: Context["pendingVoterChange"];
}

export function stateView(role: string, context: Context): StateView {
  return {
    role,
    voters: context.voters,
    epoch: context.epoch,
    votedFor: context.votedFor,
    leaderId: context.leaderId,
    log: context.log,
    highWatermark: context.highWatermark,
    epochStartOffset: context.epochStartOffset,
    grants: context.grants,
    replicaProgress: context.replicaProgress.map((replica) => ({
      id: replica.id,
      endOffset: replica.endOffset,
    })),
    leaderContacted: context.lastLeaderContactMs !== null,
    pendingVoterChange: context.pendingVoterChange,
  };
}

export interface TimeView {
  leaderHeardRecently: boolean;
  /** A leader's check quorum; null for any other role. */
  quorumContact: boolean | null;
  /** Per replica the leader tracks: fetched within the fetch timeout, and within the check-quorum window. */
  replicas: Array<{ id: number; withinFetchTimeout: boolean; withinCheckQuorum: boolean }>;
}

export function timeView(context: Context): TimeView {
  const age = (atMs: number) => context.nowMs - atMs;
  return {
    leaderHeardRecently: heardFromLeaderWithin(context),
    quorumContact: context.leaderId === context.nodeId ? hasQuorumContact(context, context.nowMs) : null,
    replicas: context.replicaProgress.map((replica) => ({
      id: replica.id,
      withinFetchTimeout: age(replica.lastFetchMs) < context.config.fetchTimeoutMs,
      withinCheckQuorum: age(replica.lastFetchMs) < context.config.checkQuorumTimeoutMs,
    })),
  };
}

/** Whether everything that is old in the model's time view is old in the node's too. */
export function agedAsMuch(model: TimeView, node: TimeView): boolean {
  if (!model.leaderHeardRecently && node.leaderHeardRecently) return false;
  if (model.quorumContact === false && node.quorumContact !== false) return false;
  return model.replicas.every((expected) => {
    const actual = node.replicas.find((replica) => replica.id === expected.id);
    if (actual === undefined) return false;
    return (
      (expected.withinFetchTimeout || !actual.withinFetchTimeout) &&
      (expected.withinCheckQuorum || !actual.withinCheckQuorum)
    );
  });
}

/** JSON with object keys sorted, so that views compare by content and not by the order fields were set in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_, field: unknown) =>
    field !== null && typeof field === "object" && !Array.isArray(field)
      ? Object.fromEntries(Object.entries(field).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : field,
  );
}

export function sameView<T>(left: T, right: T): boolean {
  return canonical(left) === canonical(right);
}

/** The fields in which two views differ, for a finding's message. */
export function viewDifference<T extends object>(expected: T, actual: T): string {
  const parts: string[] = [];
  for (const key of Object.keys(expected) as Array<keyof T>) {
    const want = canonical(expected[key]);
    const got = canonical(actual[key]);
    if (want !== got) parts.push(`${String(key)}: expected ${want}, got ${got}`);
  }
  return parts.join("; ");
}
