/**
 * Runs one queued effect, for real. Persist and append are awaited and their
 * failure is fatal (the queue stops, so nothing after a failed persist is
 * sent). Sends are handed to the transport and not awaited: their answers come
 * back later as events through the node's mailbox, as the quorum model
 * delivers them: vote.answered, and leader.announced when an answer names a
 * leader (Kafka's answers carry the leader the answering node knows;
 * RaftCore.leaderHint drops a hint naming the leader this node just gave up
 * on, which its followers may not have noticed yet).
 */
import type { Event } from "../../../machines/raft-quorum.ts";
import type { RaftCore } from "./core.ts";
import type { RaftEffect } from "./effects.ts";
import { assertRaft } from "./errors.ts";
import type { LeaderFetches } from "./leader-fetch.ts";
import type { QuorumStateStore } from "./options.ts";
import type { PendingAppends } from "./pending-appends.ts";
import { encodeLeaderChange, encodeVoters, type NewRaftEntry } from "./raft-log.ts";
import type { LeaderEpochResponse } from "./raft-transport.ts";

export interface EffectRunnerDeps {
  core: RaftCore;
  quorumState: QuorumStateStore;
  leaderFetches: LeaderFetches;
  pendingAppends: PendingAppends;
  onCommitted: ((highWatermark: number) => void | Promise<void>) | undefined;
}

export async function runEffect(deps: EffectRunnerDeps, effect: RaftEffect): Promise<void> {
  const { core } = deps;
  switch (effect.type) {
    case "persistQuorumState":
      await deps.quorumState.write({
        epoch: effect.epoch,
        votedFor: effect.votedFor,
        leaderId: effect.leaderId,
      });
      return;
    case "appendLeaderChangeRecord":
      await appendAt(deps, effect.offset, effect.epoch, {
        kind: "leaderChange",
        payload: encodeLeaderChange({ leaderId: effect.leaderId, voters: effect.voters }),
      });
      return;
    case "appendVotersRecord":
      await appendAt(deps, effect.offset, effect.epoch, {
        kind: "voters",
        payload: encodeVoters(effect.voters),
      });
      core.logger.info(
        { epoch: effect.epoch, offset: effect.offset, voters: effect.voters },
        "raft voters entry appended",
      );
      return;
    case "sendVoteRequests":
      for (const to of effect.voters) {
        const request = {
          candidateId: core.nodeId,
          epoch: effect.epoch,
          lastEpoch: effect.lastEpoch,
          endOffset: effect.endOffset,
          preVote: effect.preVote,
        };
        core.transport.vote(to, request).then(
          (answer) =>
            deliver(core, () => [
              {
                type: "vote.answered",
                voterId: to,
                epoch: answer.epoch,
                granted: answer.granted,
                preVote: effect.preVote,
              },
              core.leaderHint(to, answer.leaderId, answer.epoch),
            ]),
          (error) => core.logger.debug({ to, err: error }, "raft vote request failed"),
        );
      }
      return;
    case "sendVoteAnswer":
      effect.reply?.resolve({
        voterId: core.nodeId,
        epoch: effect.epoch,
        granted: effect.granted,
        leaderId: effect.leaderId,
      });
      return;
    case "sendBeginQuorumEpoch":
    case "sendEndQuorumEpoch":
      for (const to of effect.voters) {
        const request = { leaderId: effect.leaderId, epoch: effect.epoch };
        const sent =
          effect.type === "sendBeginQuorumEpoch"
            ? core.transport.beginQuorumEpoch(to, request)
            : core.transport.endQuorumEpoch(to, request);
        sent.then(
          (answer) => deliverLeaderHint(core, to, answer),
          (error) => core.logger.debug({ to, err: error }, `raft ${effect.type} failed`),
        );
      }
      return;
    case "answerMembershipRequest":
      core.logger.info(
        { kind: effect.kind, nodeId: effect.nodeId, error: effect.error, epoch: core.context().epoch },
        "raft voter change answered",
      );
      effect.reply?.resolve(effect.error);
      return;
    case "applyCommittedRecords":
      await deps.onCommitted?.(effect.highWatermark);
      deps.pendingAppends.committed(effect.highWatermark);
      deps.leaderFetches.releaseAll();
      return;
    case "reply":
      await effect.run();
      return;
    case "leadershipEnded": {
      const context = core.context();
      deps.pendingAppends.leadershipEnded(effect.epoch, context.leaderId, context.epoch);
      deps.leaderFetches.releaseAll();
      return;
    }
  }
}

/** The leader's own entries go exactly where the machine said: anything else is a broken invariant. */
async function appendAt(deps: EffectRunnerDeps, offset: number, epoch: number, entry: NewRaftEntry) {
  const log = deps.core.log;
  assertRaft(
    log.endOffset() === offset,
    "the leader appends at the offset its machine names",
    () => `${entry.kind} entry for offset ${offset} but the log ends at ${log.endOffset()}`,
  );
  const written = await log.appendAsLeader([entry], epoch);
  assertRaft(
    written.length === 1 && written[0]!.offset === offset && written[0]!.epoch === epoch,
    "the log appends where it is told",
    () => `${entry.kind} entry for ${offset} in epoch ${epoch} written as ${JSON.stringify(written[0])}`,
  );
  deps.leaderFetches.appended(log.endOffset());
}

/** An answer naming the leader of a newer epoch: the machine decides whether to follow it. */
function deliverLeaderHint(core: RaftCore, from: number, answer: LeaderEpochResponse): void {
  if (core.isStopped || answer.epoch <= core.context().epoch) return;
  deliver(core, () => [core.leaderHint(from, answer.leaderId, answer.epoch)]);
}

/** Steps the events an answer brought, in the node's mailbox; each is decided there, against the state then. */
function deliver(core: RaftCore, events: () => ReadonlyArray<Event | null>): void {
  if (core.isStopped) return;
  core
    .exclusive(() => {
      for (const event of events()) if (event !== null) core.step(event);
    })
    .catch(() => undefined); // stopped meanwhile: the answer no longer matters
}
