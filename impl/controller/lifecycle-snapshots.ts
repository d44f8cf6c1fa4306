/**
 * The partition lifecycle machine as the controller runs it: snapshots made
 * from the applied image, one pure step at a time, with the effects the step
 * asks for collected by name (appendMetadataRecord, answerAlterPartition,
 * answerLeaderElection, refusePartitionCreation) rather than run. Collecting instead of running is
 * what lets a decision be tried (validateOnly, a request refused half-way)
 * and dropped without undoing anything.
 */
import { initialTransition, type SnapshotFrom, transition } from "xstate";
import {
  type AlterPartitionAnswer,
  type ErrorAnswer,
  type PartitionLifecycleContext,
  type PartitionLifecycleEvent,
  type PartitionMetadataRecord,
  partitionLifecycleMachine,
  restoredStateOf,
} from "../../machines/partition-lifecycle.ts";
import type { MetadataImage, PartitionImage, TopicImage } from "../metadata/image.ts";
import type { MetadataRecord } from "../metadata/records.ts";

export type LifecycleSnapshot = SnapshotFrom<typeof partitionLifecycleMachine>;

/** What one event did to one partition's machine. */
export interface LifecycleStep {
  next: LifecycleSnapshot;
  records: PartitionMetadataRecord[];
  alterPartitionAnswers: AlterPartitionAnswer[];
  creationRefusals: Array<ErrorAnswer & { errorMessage: string }>;
  /** The machine's answers to an election ElectLeaders asked for (preferred or unclean). */
  electionAnswers: ErrorAnswer[];
}

export function stepLifecycle(snapshot: LifecycleSnapshot, event: PartitionLifecycleEvent): LifecycleStep {
  const [next, actions] = transition(partitionLifecycleMachine, snapshot, event);
  const step: LifecycleStep = {
    next,
    records: [],
    alterPartitionAnswers: [],
    creationRefusals: [],
    electionAnswers: [],
  };
  for (const action of actions) {
    switch (action.type) {
      case "appendMetadataRecord":
        step.records.push((action.params as { record: PartitionMetadataRecord }).record);
        break;
      case "answerAlterPartition":
        step.alterPartitionAnswers.push(action.params as AlterPartitionAnswer);
        break;
      case "refusePartitionCreation":
        step.creationRefusals.push(action.params as ErrorAnswer & { errorMessage: string });
        break;
      case "answerLeaderElection":
        step.electionAnswers.push(action.params as ErrorAnswer);
        break;
    }
  }
  return step;
}

/** A partition no record has created yet. */
export function initialLifecycle(topicId: string, partitionId: number): LifecycleSnapshot {
  return initialTransition(partitionLifecycleMachine, { topicId, partitionId })[0];
}

/** Replicas the controller may not elect: fenced, or not registered at all (ascending, as the machine keeps them). */
export function fencedReplicas(image: MetadataImage, replicas: readonly number[]): number[] {
  return replicas.filter((replica) => image.brokers.get(replica)?.fenced !== false).sort((a, b) => a - b);
}

/** Replicas live but in controlled shutdown: they may neither lead nor join an ISR (ascending). */
export function shuttingDownReplicas(image: MetadataImage, replicas: readonly number[]): number[] {
  return replicas
    .filter((replica) => {
      const broker = image.brokers.get(replica);
      return broker !== undefined && !broker.fenced && broker.inControlledShutdown;
    })
    .sort((a, b) => a - b);
}

/** The partition as the applied image has it, in the state the machine resumes it in after a controller failover. */
export function lifecycleFromImage(
  image: MetadataImage,
  topic: TopicImage,
  partition: PartitionImage,
  uncleanLeaderElectionEnabled: boolean,
): LifecycleSnapshot {
  const context: PartitionLifecycleContext = {
    topicId: topic.topicId,
    partitionId: partition.partitionId,
    replicas: [...partition.replicas],
    isr: [...partition.isr],
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch,
    fencedBrokers: fencedReplicas(image, partition.replicas),
    shuttingDownBrokers: shuttingDownReplicas(image, partition.replicas),
    uncleanLeaderElectionEnabled,
  };
  return partitionLifecycleMachine.resolveState({ value: restoredStateOf(context), context });
}

const sameList = (left: readonly number[], right: readonly number[]) =>
  left.length === right.length && left.every((value, index) => value === right[index]);

/** Whether the machine's partition is the image's: every decision it made is committed and applied. */
export function agreesWithImage(context: PartitionLifecycleContext, partition: PartitionImage): boolean {
  return (
    context.leader === partition.leader &&
    context.leaderEpoch === partition.leaderEpoch &&
    context.partitionEpoch === partition.partitionEpoch &&
    sameList(context.replicas, partition.replicas) &&
    sameList(context.isr, partition.isr)
  );
}

/**
 * The snapshot with the image's view of brokers and of the topic's config,
 * which records the machine does not write change (a RegisterBrokerRecord
 * registers a node fenced; a ConfigRecord sets unclean.leader.election.enable),
 * as Kafka's controller replays them into the state its partitions read.
 */
export function withImageBookkeeping(
  snapshot: LifecycleSnapshot,
  image: MetadataImage,
  uncleanLeaderElectionEnabled: boolean,
): LifecycleSnapshot {
  const context = snapshot.context;
  const fencedBrokers = fencedReplicas(image, context.replicas);
  const shuttingDownBrokers = shuttingDownReplicas(image, context.replicas);
  if (
    sameList(fencedBrokers, context.fencedBrokers) &&
    sameList(shuttingDownBrokers, context.shuttingDownBrokers) &&
    uncleanLeaderElectionEnabled === context.uncleanLeaderElectionEnabled
  ) {
    return snapshot;
  }
  return partitionLifecycleMachine.resolveState({
    value: snapshot.value,
    context: { ...context, fencedBrokers, shuttingDownBrokers, uncleanLeaderElectionEnabled },
  });
}

/** The machine's record in the codec's shape: the fields it never sets at their KRaft defaults. */
export function metadataRecordOf(record: PartitionMetadataRecord): MetadataRecord {
  switch (record.type) {
    case "PartitionRecord":
      return {
        type: "PartitionRecord",
        version: record.version,
        value: { ...record.value, leaderRecoveryState: 0, eligibleLeaderReplicas: null, lastKnownElr: null },
      };
    case "PartitionChangeRecord":
      return {
        type: "PartitionChangeRecord",
        version: record.version,
        value: {
          ...record.value,
          replicas: null,
          removingReplicas: null,
          addingReplicas: null,
          leaderRecoveryState: -1,
          eligibleLeaderReplicas: null,
          lastKnownElr: null,
          directories: null,
        },
      };
    case "RemoveTopicRecord":
      return { type: "RemoveTopicRecord", version: record.version, value: { ...record.value } };
  }
}
