/**
 * The quorum machine with the runtime's effects provided. Every effect action
 * only records a descriptor in the step's batch (the node queues the batch
 * once the step is over); the timer actions set the node's own timers, which
 * are not I/O and deliver their events back through the node's mailbox.
 */
import type { Context, MembershipError } from "../../../machines/raft-quorum.ts";
import { type RaftQuorumMachine, raftQuorumMachine } from "../../../machines/raft-quorum.ts";
import type { Deferred } from "./deferred.ts";
import type { RaftEffect } from "./effects.ts";
import type { VoteResponse } from "./raft-transport.ts";

export interface ActionHost {
  /** Adds an effect to the batch of the step being taken. */
  collect(effect: RaftEffect): void;
  /** The inbound Vote request this answer settles, if one is being handled. */
  voteReply(
    answer: { to: number; epoch: number; granted: boolean; preVote: boolean },
    context: Context,
  ): Deferred<VoteResponse> | null;
  /** The inbound AddRaftVoter or RemoveRaftVoter request this answer settles. */
  membershipReply(
    kind: "add" | "remove",
    nodeId: number,
    error: MembershipError,
  ): Deferred<MembershipError> | null;
  resetElectionTimer(context: Context): void;
  shortenElectionTimer(): void;
}

/** `machine` is the quorum machine, or a variant of it (`raftQuorumMachine.provide({ guards })`) under test. */
export function runtimeMachine(host: ActionHost, machine: RaftQuorumMachine = raftQuorumMachine) {
  return machine.provide({
    actions: {
      persistQuorumState: (_, params) => host.collect({ type: "persistQuorumState", ...params }),
      appendLeaderChangeRecord: (_, params) => host.collect({ type: "appendLeaderChangeRecord", ...params }),
      appendVotersRecord: (_, params) => host.collect({ type: "appendVotersRecord", ...params }),
      sendVoteRequests: (_, params) => host.collect({ type: "sendVoteRequests", ...params }),
      sendVoteAnswer: ({ context }, params) =>
        host.collect({
          type: "sendVoteAnswer",
          ...params,
          leaderId: context.leaderId,
          reply: host.voteReply(params, context),
        }),
      sendBeginQuorumEpoch: (_, params) => host.collect({ type: "sendBeginQuorumEpoch", ...params }),
      sendEndQuorumEpoch: (_, params) => host.collect({ type: "sendEndQuorumEpoch", ...params }),
      answerMembershipRequest: (_, params) =>
        host.collect({
          type: "answerMembershipRequest",
          ...params,
          reply: host.membershipReply(params.kind, params.nodeId, params.error),
        }),
      applyCommittedRecords: (_, params) => host.collect({ type: "applyCommittedRecords", ...params }),
      resetElectionTimer: ({ context }) => host.resetElectionTimer(context),
      shortenElectionTimer: () => host.shortenElectionTimer(),
    },
  });
}
