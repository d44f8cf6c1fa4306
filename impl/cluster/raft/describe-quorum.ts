/**
 * DescribeQuorum's answer from the leader's machine and what its fetches told
 * it: every voter and every observer that fetched in this leadership, with
 * its log end and the times of its last fetch and of its last fetch at the
 * leader's log end. -1 is Kafka's "unknown" (a voter that has not fetched yet).
 */
import type { Context } from "../../../machines/raft-quorum.ts";
import type { RaftRole } from "./core.ts";
import type { ReplicaTimes } from "./leader-fetch.ts";

export interface ReplicaDescription {
  replicaId: number;
  logEndOffset: number;
  lastFetchTimestampMs: number;
  lastCaughtUpTimestampMs: number;
}

export interface QuorumDescription {
  /** NOT_LEADER_OR_FOLLOWER from any node but the leader, as Kafka answers; then only epoch and leader. */
  errorName: "NONE" | "NOT_LEADER_OR_FOLLOWER";
  leaderId: number | null;
  epoch: number;
  highWatermark: number;
  voters: ReplicaDescription[];
  observers: ReplicaDescription[];
}

export function describeQuorum(
  role: RaftRole,
  context: Context,
  nowMs: number,
  timesOf: (replicaId: number) => ReplicaTimes | undefined,
): QuorumDescription {
  const base = { leaderId: context.leaderId, epoch: context.epoch, highWatermark: context.highWatermark };
  if (role !== "leader") return { errorName: "NOT_LEADER_OR_FOLLOWER", ...base, voters: [], observers: [] };
  const describe = (replicaId: number): ReplicaDescription => {
    if (replicaId === context.nodeId) {
      return {
        replicaId,
        logEndOffset: context.log.endOffset,
        lastFetchTimestampMs: nowMs,
        lastCaughtUpTimestampMs: nowMs,
      };
    }
    const times = timesOf(replicaId);
    const progress = context.replicaProgress.find((replica) => replica.id === replicaId);
    if (times === undefined || progress === undefined) {
      return { replicaId, logEndOffset: -1, lastFetchTimestampMs: -1, lastCaughtUpTimestampMs: -1 };
    }
    return {
      replicaId,
      logEndOffset: progress.endOffset,
      lastFetchTimestampMs: times.lastFetchMs,
      lastCaughtUpTimestampMs: times.lastCaughtUpMs ?? -1,
    };
  };
  const observers = context.replicaProgress
    .map((replica) => replica.id)
    .filter((id) => !context.voters.includes(id) && id !== context.nodeId);
  return {
    errorName: "NONE",
    ...base,
    voters: context.voters.map(describe),
    observers: observers.map(describe),
  };
}
