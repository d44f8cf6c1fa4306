/**
 * The effect descriptors the machine's actions queue, as data. A machine step
 * queues its effects as one batch, ordered as etcd/raft's Ready: persist, then
 * append, then send (and answer), then apply; within a phase, in the order the
 * machine listed them. Answers to inbound requests follow their step's batch.
 */
import type { MembershipError } from "../../../machines/raft-quorum.ts";
import type { Deferred } from "./deferred.ts";
import type { VoteResponse } from "./raft-transport.ts";

export type RaftEffect =
  | { type: "persistQuorumState"; epoch: number; votedFor: number | null; leaderId: number | null }
  | { type: "appendLeaderChangeRecord"; epoch: number; offset: number; leaderId: number; voters: number[] }
  | { type: "appendVotersRecord"; epoch: number; offset: number; voters: number[] }
  | {
      type: "sendVoteRequests";
      epoch: number;
      preVote: boolean;
      lastEpoch: number;
      endOffset: number;
      voters: number[];
    }
  | {
      type: "sendVoteAnswer";
      to: number;
      epoch: number;
      granted: boolean;
      preVote: boolean;
      /** The leader this node knows in the epoch, as Kafka's vote answers name it. */
      leaderId: number | null;
      /** The inbound Vote request this answers. */
      reply: Deferred<VoteResponse> | null;
    }
  | { type: "sendBeginQuorumEpoch"; epoch: number; leaderId: number; voters: number[] }
  | { type: "sendEndQuorumEpoch"; epoch: number; leaderId: number; voters: number[] }
  | {
      type: "answerMembershipRequest";
      kind: "add" | "remove";
      nodeId: number;
      error: MembershipError;
      reply: Deferred<MembershipError> | null;
    }
  | { type: "applyCommittedRecords"; highWatermark: number }
  /** Answers an inbound request once every effect queued before it has run. */
  | { type: "reply"; label: string; run: () => void | Promise<void>; discard: (reason: Error) => void }
  /** This node stopped leading `epoch`: its waiting appends fail, its held fetches are answered. */
  | { type: "leadershipEnded"; epoch: number };

const phases: Record<RaftEffect["type"], number> = {
  persistQuorumState: 0,
  appendLeaderChangeRecord: 1,
  appendVotersRecord: 1,
  sendVoteRequests: 2,
  sendVoteAnswer: 2,
  sendBeginQuorumEpoch: 2,
  sendEndQuorumEpoch: 2,
  answerMembershipRequest: 2,
  reply: 2,
  applyCommittedRecords: 3,
  leadershipEnded: 4,
};

/** One step's effects in Ready order; stable within a phase. */
export function inReadyOrder(effects: readonly RaftEffect[]): RaftEffect[] {
  return effects
    .map((effect, index) => ({ effect, index }))
    .sort((a, b) => phases[a.effect.type] - phases[b.effect.type] || a.index - b.index)
    .map(({ effect }) => effect);
}

/** Whatever an effect owes a caller, refused because it will never run. */
export function discardEffect(effect: RaftEffect, reason: Error): void {
  if (effect.type === "reply") effect.discard(reason);
  else if (effect.type === "sendVoteAnswer" || effect.type === "answerMembershipRequest") {
    effect.reply?.reject(reason);
  }
}
