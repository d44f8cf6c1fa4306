/**
 * One controller decision as the partition lifecycle machines see it: the
 * events it delivers to partitions, the records and answers their machines
 * give back, and their next snapshots, staged until the decision is done. A
 * partition stepped twice in one decision sees its own staged snapshot, so a
 * decision reads as the machines' sequence of steps, as Kafka's controller
 * applies its own records to its in-memory state before the next one.
 */
import {
  type AlterPartitionAnswer,
  answer,
  type ErrorAnswer,
  type PartitionLifecycleEvent,
  partitionLifecycleMachine,
  removeTopicRecord,
} from "../../machines/partition-lifecycle.ts";
import type { MetadataImage, TopicImage } from "../metadata/image.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import type { CommandError } from "../metadata/topic-commands.ts";
import {
  initialLifecycle,
  type LifecycleSnapshot,
  type LifecycleStep,
  metadataRecordOf,
} from "./lifecycle-snapshots.ts";

/** Where a decision reads partitions from and leaves what it decided: the runtime's snapshots. */
export interface LifecycleStore {
  /** The partition's snapshot in step with `image` (made from it when missing or out of step). */
  current(image: MetadataImage, topicId: string, partitionId: number): LifecycleSnapshot;
  uncleanLeaderElectionEnabled(configs: ReadonlyMap<string, string>): boolean;
  /** One step of one partition's machine (stepLifecycle, observed by the transition trace). */
  step(snapshot: LifecycleSnapshot, event: PartitionLifecycleEvent): LifecycleStep;
}

/** A leader the machines moved, logged once the record that moves it has committed. */
export interface LeaderChange {
  topic: string;
  partition: number;
  previousLeader: number;
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  isr: number[];
  cause: string;
}

export interface StagedLifecycle {
  topicId: string;
  partitionId: number;
  snapshot: LifecycleSnapshot;
}

/** An AlterPartition for one partition, as the handler read it off the wire. */
export interface IsrChangeRequest {
  brokerId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
  /** ISR members named with a broker epoch that is not their registered one (AlterPartition v3, KIP-903). */
  staleMembers: number[];
  /** leader_recovery_state 1: the leader says it is recovering from an unclean election. */
  leaderRecovering: boolean;
}

const key = (topicId: string, partitionId: number) => `${topicId}:${partitionId}`;

export class LifecycleDecision {
  readonly staged = new Map<string, StagedLifecycle>();
  readonly leaderChanges: LeaderChange[] = [];

  constructor(
    readonly image: MetadataImage,
    private readonly store: LifecycleStore,
  ) {}

  /**
   * CreateTopics / CreatePartitions: partition.created for each assignment,
   * from `firstPartition` on. Any refusal refuses them all, as Kafka refuses
   * the whole topic; with validateOnly the answer is the same and nothing is staged.
   */
  createPartitions(
    topic: { topicId: string; configs: ReadonlyMap<string, string> },
    assignments: readonly number[][],
    firstPartition: number,
    options: { validateOnly: boolean },
  ): { records: MetadataRecord[] } | CommandError {
    const liveBrokers = this.image.usableBrokers().map((broker) => broker.brokerId);
    const uncleanLeaderElectionEnabled = this.store.uncleanLeaderElectionEnabled(topic.configs);
    const created: StagedLifecycle[] = [];
    const records: MetadataRecord[] = [];
    for (const [index, replicas] of assignments.entries()) {
      const partitionId = firstPartition + index;
      const step = this.store.step(this.snapshotOf(topic.topicId, partitionId), {
        type: "partition.created",
        replicas: [...replicas],
        liveBrokers,
        uncleanLeaderElectionEnabled,
      });
      const refusal = step.creationRefusals[0];
      if (refusal !== undefined) return { errorCode: refusal.errorCode, errorMessage: refusal.errorMessage };
      records.push(...step.records.map(metadataRecordOf));
      created.push({ topicId: topic.topicId, partitionId, snapshot: step.next });
    }
    if (!options.validateOnly) for (const lifecycle of created) this.stage(lifecycle);
    return { records };
  }

  /** AlterPartition for one partition: the machine's answer, and the record when it accepts. */
  alterPartition(
    topic: TopicImage,
    partitionId: number,
    request: IsrChangeRequest,
  ): { answer: AlterPartitionAnswer; records: MetadataRecord[] } {
    const snapshot = this.snapshotOf(topic.topicId, partitionId);
    const event: PartitionLifecycleEvent = {
      type: "isr.changeRequested",
      brokerId: request.brokerId,
      leaderEpoch: request.leaderEpoch,
      partitionEpoch: request.partitionEpoch,
      newIsr: [...request.newIsr],
    };
    const context = snapshot.context;
    const staleReplicas = request.staleMembers.filter((member) => context.replicas.includes(member));
    if (staleReplicas.length > 0) {
      // A member named with an old broker epoch is an incarnation that no longer exists: for this
      // request it is as ineligible as a fenced one, so the machine refuses it in its own order.
      const fencedBrokers = [...new Set([...context.fencedBrokers, ...staleReplicas])].sort((a, b) => a - b);
      const view = partitionLifecycleMachine.resolveState({
        value: snapshot.value,
        context: { ...context, fencedBrokers },
      });
      const refused = this.store.step(view, event);
      if (refused.records.length > 0) {
        throw new Error(
          `the lifecycle machine accepted an ISR with ineligible members ${request.staleMembers}`,
        );
      }
      return { answer: this.onlyAnswer(refused.alterPartitionAnswers), records: [] };
    }
    const step = this.store.step(snapshot, event);
    const machineAnswer = this.onlyAnswer(step.alterPartitionAnswers);
    if (machineAnswer.errorName === "NONE" && request.leaderRecovering) {
      // Kafka refuses a recovering leader for a partition that is not recovering; this controller's
      // elections never leave one recovering (no leader recovery state), so every such request is refused.
      const { leader, leaderEpoch, partitionEpoch, isr } = context;
      const refusal = { brokerId: request.brokerId, ...answer("INVALID_REQUEST") };
      return { answer: { ...refusal, leader, leaderEpoch, partitionEpoch, isr }, records: [] };
    }
    this.stage({ topicId: topic.topicId, partitionId, snapshot: step.next });
    this.noteLeaderChanges(topic.name, snapshot, step.next, `AlterPartition from ${request.brokerId}`);
    return { answer: machineAnswer, records: step.records.map(metadataRecordOf) };
  }

  /** broker.fenced, broker.unfenced or broker.shutdownStarted to every partition the broker is a replica of. */
  brokerLivenessChanged(
    type: "broker.fenced" | "broker.unfenced" | "broker.shutdownStarted",
    brokerId: number,
  ): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    for (const topic of this.image.topicsById.values()) {
      for (const partition of topic.partitions.values()) {
        if (!partition.replicas.includes(brokerId)) continue;
        const before = this.snapshotOf(topic.topicId, partition.partitionId);
        const step = this.store.step(before, { type, brokerId });
        this.stage({ topicId: topic.topicId, partitionId: partition.partitionId, snapshot: step.next });
        this.noteLeaderChanges(topic.name, before, step.next, `${type} ${brokerId}`);
        records.push(...step.records.map(metadataRecordOf));
      }
    }
    return records;
  }

  /**
   * ElectLeaders for one partition: leader.preferredElectionRequested or
   * leader.uncleanElectionRequested, answered by the partition's machine (an
   * unclean election ignores the topic's setting, as Kafka's UNCLEAN does).
   */
  electLeader(
    topic: TopicImage,
    partitionId: number,
    election: "preferred" | "unclean",
  ): { answer: ErrorAnswer; records: MetadataRecord[] } {
    const snapshot = this.snapshotOf(topic.topicId, partitionId);
    const step = this.store.step(snapshot, {
      type:
        election === "preferred" ? "leader.preferredElectionRequested" : "leader.uncleanElectionRequested",
    });
    if (step.electionAnswers.length !== 1) {
      throw new Error(`the lifecycle machine gave ${step.electionAnswers.length} answers to one election`);
    }
    this.stage({ topicId: topic.topicId, partitionId, snapshot: step.next });
    this.noteLeaderChanges(topic.name, snapshot, step.next, `${election} election requested`);
    return { answer: step.electionAnswers[0]!, records: step.records.map(metadataRecordOf) };
  }

  /**
   * A topic's unclean.leader.election.enable changed (IncrementalAlterConfigs):
   * topic.configChanged to each of its partitions, whose machines may elect an
   * unclean leader for a leaderless partition now that it is allowed.
   */
  uncleanLeaderElectionChanged(topic: TopicImage, enabled: boolean): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    for (const partitionId of topic.partitions.keys()) {
      const before = this.snapshotOf(topic.topicId, partitionId);
      const step = this.store.step(before, {
        type: "topic.configChanged",
        uncleanLeaderElectionEnabled: enabled,
      });
      this.stage({ topicId: topic.topicId, partitionId, snapshot: step.next });
      this.noteLeaderChanges(topic.name, before, step.next, `unclean.leader.election.enable=${enabled}`);
      records.push(...step.records.map(metadataRecordOf));
    }
    return records;
  }

  /** DeleteTopics: every partition's machine removes the topic; their one shared RemoveTopicRecord is appended once. */
  deleteTopic(topic: TopicImage): MetadataRecord[] {
    const expected = removeTopicRecord(topic.topicId);
    for (const partitionId of topic.partitions.keys()) {
      const step = this.store.step(this.snapshotOf(topic.topicId, partitionId), {
        type: "topic.deletionRequested",
      });
      const unexpected = step.records.find(
        (record) => record.type !== "RemoveTopicRecord" || record.value.topicId !== topic.topicId,
      );
      if (unexpected !== undefined) {
        throw new Error(`deleting topic ${topic.name} produced ${JSON.stringify(unexpected)}`);
      }
      this.stage({ topicId: topic.topicId, partitionId, snapshot: step.next });
    }
    return [metadataRecordOf(expected)];
  }

  private snapshotOf(topicId: string, partitionId: number): LifecycleSnapshot {
    const staged = this.staged.get(key(topicId, partitionId));
    if (staged !== undefined) return staged.snapshot;
    if (!this.image.topicsById.has(topicId)) return initialLifecycle(topicId, partitionId);
    return this.store.current(this.image, topicId, partitionId);
  }

  private stage(lifecycle: StagedLifecycle): void {
    this.staged.set(key(lifecycle.topicId, lifecycle.partitionId), lifecycle);
  }

  private onlyAnswer(answers: AlterPartitionAnswer[]): AlterPartitionAnswer {
    if (answers.length !== 1) {
      throw new Error(`the lifecycle machine gave ${answers.length} answers to one AlterPartition`);
    }
    return answers[0]!;
  }

  private noteLeaderChanges(
    topic: string,
    before: LifecycleSnapshot,
    after: LifecycleSnapshot,
    cause: string,
  ): void {
    if (after.context.leaderEpoch === before.context.leaderEpoch) return;
    this.leaderChanges.push({
      topic,
      partition: after.context.partitionId,
      previousLeader: before.context.leader,
      leader: after.context.leader,
      leaderEpoch: after.context.leaderEpoch,
      partitionEpoch: after.context.partitionEpoch,
      isr: after.context.isr,
      cause,
    });
  }
}
