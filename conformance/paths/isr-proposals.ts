/**
 * The partition leader's AlterPartition requests at the played controller,
 * as the ISR suite takes them. Every one the node sends must come from node
 * 1, be about partition 0 of the path's topic, and propose what the
 * machine's sendAlterPartition does; the one of the machine's pending change
 * is held until a step answers it as the wire mapping (isr-wire.ts) says:
 * committed, refused as not applied, found stale after its answer was lost,
 * refused with an error the machine does not expect, or refused because the
 * topic is gone.
 */
import { expect } from "vitest";
import type { SnapshotFrom } from "xstate";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import type { isrMachine } from "../../machines/isr.ts";
import type { BrokerProcess } from "../support/broker-process.ts";
import { leaderId, staleProposalError, unexpectedError } from "./isr-wire.ts";
import { settleTo } from "./node-views.ts";
import type { AlterPartitionRequest, AlterPartitionVerdict, PlayedController } from "./played-controller.ts";

type Snapshot = SnapshotFrom<typeof isrMachine>;
/** What the machine's sendAlterPartition carries. */
type Proposal = { leaderEpoch: number; partitionEpoch: number; newIsr: number[] };

export class IsrProposals {
  /** The AlterPartition held at the controller for the machine's pending change, if one is. */
  private held: AlterPartitionRequest | null = null;
  /** How many AlterPartition requests the node had sent when last looked at. */
  private seen = 0;

  constructor(
    private readonly controller: PlayedController,
    /** The leader's log, for the one wait nothing on the wire tells (refuseAsStale). */
    private readonly leader: Pick<BrokerProcess, "logLines">,
  ) {}

  /** Each AlterPartition the machine sends in a step reaches the controller as it proposes it, and is held. */
  async expectSent(topic: string, effects: ReadonlyArray<{ type: string; params?: unknown }>): Promise<void> {
    for (const effect of effects) {
      if (effect.type !== "sendAlterPartition") continue;
      const request = await this.next(topic);
      expect(proposalOf(request), "the AlterPartition the node sent").toEqual(effect.params as Proposal);
      expect(this.held, "an AlterPartition already held when the node sent another").toBeNull();
      this.held = request;
    }
  }

  /**
   * What the controller holds is what the machine says: the request of its
   * pending change, if it has one, and nothing else, the node having sent no
   * request the machine did not.
   */
  expectHeld(snapshot: Snapshot): void {
    const pending = snapshot.status === "active" && snapshot.context.pendingIsrChange !== null;
    expect(
      this.controller.heldAlterPartitions().map((request) => request.sequence),
      "the AlterPartition requests the controller holds",
    ).toEqual(pending ? [this.held?.sequence] : []);
    expect(this.controller.alterPartitionsReceived(), "AlterPartition requests the node sent").toBe(
      this.seen,
    );
  }

  /** The controller commits the proposed ISR, unfencing any member it had fenced, and answers with it. */
  commit(topic: string, before: Snapshot): void {
    const proposal = pendingOf(before);
    this.unfenceMembers(proposal.isr);
    const partition = this.controller.changeIsr(topic, proposal.isr);
    expect(partition.partitionEpoch, "the partition epoch the commit gives").toBe(
      before.context.partitionEpoch + 1,
    );
    this.answer({ errorCode: ErrorCode.NONE, partition });
  }

  /**
   * INELIGIBLE_REPLICA, the change not applied: the controller has fenced
   * the follower an expansion adds, or a follower a shrink keeps has just
   * registered again (a restarted broker, fenced until it catches up) and is
   * not yet out of the ISR.
   */
  refuseAsNotApplied(before: Snapshot): void {
    const pending = pendingOf(before);
    if (pending.kind === "expand") {
      const joining = pending.isr.find((member) => !before.context.isr.includes(member))!;
      this.controller.setLive(joining, false);
    } else {
      const kept = pending.isr.find((member) => member !== leaderId)!;
      if (this.controller.isLive(kept)) this.controller.registerBroker(kept);
    }
    this.answer({ errorCode: ErrorCode.INELIGIBLE_REPLICA });
  }

  /**
   * The controller commits the change, but its answer is lost; the leader
   * sends the same proposal again, which is now stale
   * (INVALID_UPDATE_VERSION). The record reaches the leader only once it has
   * taken that refusal, so the machine sees the refusal, then the commit.
   */
  async refuseAsStale(topic: string, before: Snapshot): Promise<void> {
    const proposal = pendingOf(before);
    const lost = this.takeHeld();
    this.controller.log.holdBack();
    this.unfenceMembers(proposal.isr);
    this.controller.changeIsr(topic, proposal.isr);
    this.controller.loseAnswer(lost);
    const retry = await this.next(topic);
    expect(proposalOf(retry), "the AlterPartition sent again after the lost answer").toEqual(
      proposalOf(lost),
    );
    this.controller.answerAlterPartition(retry, { errorCode: staleProposalError });
    // Nothing on the wire says the leader has read the refusal: its log line does.
    await settleTo("the leader's log line for the refusal", true, async () =>
      this.leader.logLines.some(
        (line) =>
          line.msg === "ISR change refused" &&
          line.partition === `${topic}-0` &&
          line.errorCode === staleProposalError,
      ),
    );
    this.controller.log.deliver();
  }

  /** UNKNOWN_SERVER_ERROR, as for a decision that failed: the machine sends the same proposal again. */
  refuseUnexpectedly(): void {
    this.answer({ errorCode: unexpectedError });
  }

  /** A change still held once the topic is gone is refused, as for a topic the controller no longer has. */
  refuseForRemovedTopic(): void {
    if (this.held !== null) this.answer({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID });
  }

  /** Members the controller had fenced have caught up by the time it commits an ISR naming them. */
  private unfenceMembers(isr: readonly number[]): void {
    for (const member of isr) if (member !== leaderId) this.controller.setLive(member, true);
  }

  private takeHeld(): AlterPartitionRequest {
    const held = this.held;
    if (held === null) throw new Error("no AlterPartition is held to answer");
    this.held = null;
    return held;
  }

  private answer(verdict: AlterPartitionVerdict): void {
    this.controller.answerAlterPartition(this.takeHeld(), verdict);
  }

  /** The next AlterPartition the node sends; it must be about partition 0 of `topic`, from node 1. */
  private async next(topic: string): Promise<AlterPartitionRequest> {
    const request = await this.controller.nextAlterPartition(this.seen);
    this.seen += 1;
    const image = this.controller.log.image;
    expect(
      {
        brokerId: request.body.brokerId,
        brokerEpoch: request.body.brokerEpoch,
        topics: request.body.topics.map((asked) => ({
          topicId: asked.topicId,
          partitions: asked.partitions.map((partition) => partition.partitionIndex),
        })),
      },
      "whom the AlterPartition is from and what it is about",
    ).toEqual({
      brokerId: leaderId,
      brokerEpoch: image.brokers.get(leaderId)?.brokerEpoch,
      topics: [{ topicId: image.topicsByName.get(topic)?.topicId, partitions: [0] }],
    });
    return request;
  }
}

function pendingOf(snapshot: Snapshot) {
  const pending = snapshot.status === "active" ? snapshot.context.pendingIsrChange : null;
  if (pending === null) throw new Error("an answer to an AlterPartition with no change pending");
  return pending;
}

/** The proposal an AlterPartition carries, as the machine's sendAlterPartition names it. */
function proposalOf(request: AlterPartitionRequest): Proposal {
  const partition = request.body.topics[0]!.partitions[0]!;
  return {
    leaderEpoch: partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch,
    newIsr:
      request.apiVersion >= 3
        ? partition.newIsrWithEpochs.map((member) => member.brokerId)
        : [...partition.newIsr],
  };
}
