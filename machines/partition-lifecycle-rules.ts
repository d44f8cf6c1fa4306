/**
 * The controller's partition rules as pure functions over plain data: who may
 * lead, which replica an election picks, what a valid ISR is, the KRaft
 * records that carry each decision, and the events and answers the partition
 * lifecycle machine exchanges. Its guards and actions call these; the spec and
 * the runtime may call them too.
 *
 * The rules follow Kafka's controller (PartitionChangeBuilder and
 * ReplicationControlManager), without eligible leader replicas (ELR),
 * reassignment, directories or leader recovery state.
 */

/** `leader` in a record or a partition: the partition has no leader. */
export const noLeader = -1;
/** `leader` in a PartitionChangeRecord: the leader (and its epoch) stays as it is. */
export const leaderUnchanged = -2;

/** Kafka's error codes for the answers this machine gives (shared/kafka-protocol/errors.tsv). */
export const errorCodes = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_REPLICA_ASSIGNMENT: 39,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  FENCED_LEADER_EPOCH: 74,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  ELECTION_NOT_NEEDED: 84,
  INVALID_UPDATE_VERSION: 95,
  INELIGIBLE_REPLICA: 107,
} as const;
export type ErrorName = keyof typeof errorCodes;

/**
 * PartitionRecord (type 3) as `impl/metadata/records.ts` encodes it. The fields
 * this controller never sets (reassignment, directories) are present and empty
 * because the grammar has no default for them.
 */
export interface PartitionRecord {
  type: "PartitionRecord";
  version: 0;
  value: {
    partitionId: number;
    topicId: string;
    replicas: number[];
    isr: number[];
    removingReplicas: number[];
    addingReplicas: number[];
    leader: number;
    leaderEpoch: number;
    partitionEpoch: number;
    directories: string[];
  };
}

/** PartitionChangeRecord (type 5): `isr` null and `leader` -2 mean unchanged. */
export interface PartitionChangeRecord {
  type: "PartitionChangeRecord";
  version: 0;
  value: { partitionId: number; topicId: string; isr: number[] | null; leader: number };
}

/** RemoveTopicRecord (type 9): removes the topic and every partition of it. */
export interface RemoveTopicRecord {
  type: "RemoveTopicRecord";
  version: 0;
  value: { topicId: string };
}

export type PartitionMetadataRecord = PartitionRecord | PartitionChangeRecord | RemoveTopicRecord;

/** What the controller knows of one partition: its registration and its replicas' liveness. */
export interface PartitionState {
  topicId: string;
  partitionId: number;
  /** Assignment order; the first replica is the preferred leader. */
  replicas: number[];
  isr: number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  /** Replicas that are fenced (or not registered), ascending. */
  fencedBrokers: number[];
  /** Replicas in controlled shutdown, ascending; never also fenced. */
  shuttingDownBrokers: number[];
  uncleanLeaderElectionEnabled: boolean;
}

export type Election = "clean" | "unclean" | "preferred" | "noLeader";

/** What the controller tells a partition's machine. */
export type PartitionLifecycleEvent =
  | {
      type: "partition.created";
      replicas: number[];
      liveBrokers: number[];
      uncleanLeaderElectionEnabled: boolean;
    }
  | { type: "partition.creationCommitted" }
  | { type: "broker.fenced"; brokerId: number }
  | { type: "broker.shutdownStarted"; brokerId: number }
  | { type: "broker.unfenced"; brokerId: number }
  | { type: "topic.configChanged"; uncleanLeaderElectionEnabled: boolean }
  | {
      type: "isr.changeRequested";
      brokerId: number;
      leaderEpoch: number;
      partitionEpoch: number;
      newIsr: number[];
    }
  | { type: "leader.preferredElectionRequested" }
  | { type: "leader.uncleanElectionRequested" }
  | { type: "topic.deletionRequested" }
  | { type: "topic.deletionCompleted" };

export function sameMembers(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((member, index) => member === right[index]);
}

function withMember(members: readonly number[], member: number): number[] {
  return members.includes(member) ? [...members] : [...members, member].sort((a, b) => a - b);
}

function withoutMember(members: readonly number[], member: number): number[] {
  return members.filter((candidate) => candidate !== member);
}

/** A replica may lead only while it is neither fenced nor shutting down. */
export function isLiveReplica(partition: PartitionState, brokerId: number): boolean {
  return (
    partition.replicas.includes(brokerId) &&
    !partition.fencedBrokers.includes(brokerId) &&
    !partition.shuttingDownBrokers.includes(brokerId)
  );
}

export function liveReplicaPredicate(partition: PartitionState): (brokerId: number) => boolean {
  return (brokerId) => isLiveReplica(partition, brokerId);
}

/** Clean election: the first replica in assignment order that is in the ISR and may lead, or -1. */
export function chooseCleanLeader(
  replicas: readonly number[],
  isr: readonly number[],
  isEligible: (brokerId: number) => boolean,
): number {
  return replicas.find((replica) => isr.includes(replica) && isEligible(replica)) ?? noLeader;
}

/** Unclean election: the first replica in assignment order that may lead, in the ISR or not, or -1. */
export function chooseUncleanLeader(
  replicas: readonly number[],
  isEligible: (brokerId: number) => boolean,
): number {
  return replicas.find((replica) => isEligible(replica)) ?? noLeader;
}

/** Preferred-leader election: the first replica, if it is in the ISR and may lead, or -1. */
export function choosePreferredLeader(
  replicas: readonly number[],
  isr: readonly number[],
  isEligible: (brokerId: number) => boolean,
): number {
  const preferred = replicas[0];
  return preferred !== undefined && isr.includes(preferred) && isEligible(preferred) ? preferred : noLeader;
}

/**
 * The ISR once a broker is fenced or starts shutting down. Kafka (without ELR)
 * keeps the last member rather than leave the ISR empty, so that the replica
 * holding every committed record is still known and a clean election can pick
 * it when it returns.
 */
export function isrWithout(isr: readonly number[], brokerId: number): number[] {
  const remaining = withoutMember(isr, brokerId);
  return remaining.length === 0 ? [...isr] : remaining;
}

/** Kafka's Replicas.validateIsr: distinct, non-negative members of the replicas. */
export function isValidIsr(replicas: readonly number[], isr: readonly number[]): boolean {
  return new Set(isr).size === isr.length && isr.every((member) => member >= 0 && replicas.includes(member));
}

/** An assignment the controller can create: at least one replica, distinct non-negative broker ids. */
export function isValidAssignment(replicas: readonly number[]): boolean {
  return replicas.length > 0 && isValidIsr(replicas, replicas);
}

/** Liveness after a broker is fenced: not also shutting down, as a fenced broker's shutdown is over. */
export function withBrokerFenced(partition: PartitionState, brokerId: number): PartitionState {
  if (!partition.replicas.includes(brokerId)) return partition;
  return {
    ...partition,
    fencedBrokers: withMember(partition.fencedBrokers, brokerId),
    shuttingDownBrokers: withoutMember(partition.shuttingDownBrokers, brokerId),
  };
}

/** Liveness after a broker starts a controlled shutdown; a fenced broker stays fenced. */
export function withBrokerShuttingDown(partition: PartitionState, brokerId: number): PartitionState {
  if (!partition.replicas.includes(brokerId) || partition.fencedBrokers.includes(brokerId)) return partition;
  return { ...partition, shuttingDownBrokers: withMember(partition.shuttingDownBrokers, brokerId) };
}

/** Liveness after a broker is unfenced: it registered again and caught up, so its shutdown is over too. */
export function withBrokerUnfenced(partition: PartitionState, brokerId: number): PartitionState {
  return {
    ...partition,
    fencedBrokers: withoutMember(partition.fencedBrokers, brokerId),
    shuttingDownBrokers: withoutMember(partition.shuttingDownBrokers, brokerId),
  };
}

/** The leader and ISR an election produces from `partition`, whose ISR is the election's target ISR. */
export function electLeader(
  partition: PartitionState,
  election: Election,
): { leader: number; isr: number[] } {
  const isEligible = liveReplicaPredicate(partition);
  switch (election) {
    case "clean":
      return { leader: chooseCleanLeader(partition.replicas, partition.isr, isEligible), isr: partition.isr };
    case "preferred":
      return {
        leader: choosePreferredLeader(partition.replicas, partition.isr, isEligible),
        isr: partition.isr,
      };
    case "unclean": {
      // Kafka's unclean election still prefers a live ISR replica, which keeps the ISR as it is.
      const clean = chooseCleanLeader(partition.replicas, partition.isr, isEligible);
      if (clean !== noLeader) return { leader: clean, isr: partition.isr };
      // Otherwise the new leader may lack committed records, so it is the only replica known to be in sync.
      const leader = chooseUncleanLeader(partition.replicas, isEligible);
      return { leader, isr: leader === noLeader ? partition.isr : [leader] };
    }
    case "noLeader":
      return { leader: noLeader, isr: partition.isr };
  }
}

/** The PartitionChangeRecord that moves `before` to the given leader and ISR; fields that stay are left unset. */
export function partitionChangeRecord(
  before: PartitionState,
  after: { leader: number; isr: number[] },
): PartitionChangeRecord {
  return {
    type: "PartitionChangeRecord",
    version: 0,
    value: {
      partitionId: before.partitionId,
      topicId: before.topicId,
      isr: sameMembers(after.isr, before.isr) ? null : [...after.isr],
      leader: after.leader === before.leader ? leaderUnchanged : after.leader,
    },
  };
}

/** Kafka's changeRecordIsNoOp for the fields this controller sets: such a record is not appended. */
export function isNoOpChange(record: PartitionChangeRecord): boolean {
  return record.value.isr === null && record.value.leader === leaderUnchanged;
}

/**
 * Replays a PartitionChangeRecord as every node's metadata image does
 * (PartitionRegistration.merge): any leader field but -2 is a new leader epoch,
 * and every record is a new partition epoch.
 */
export function applyPartitionChangeRecord<State extends PartitionState>(
  partition: State,
  record: PartitionChangeRecord,
): State {
  const leaderChanges = record.value.leader !== leaderUnchanged;
  return {
    ...partition,
    isr: record.value.isr === null ? partition.isr : [...record.value.isr],
    leader: leaderChanges ? record.value.leader : partition.leader,
    leaderEpoch: leaderChanges ? partition.leaderEpoch + 1 : partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch + 1,
  };
}

/** The PartitionRecord of a new partition: the live replicas form the ISR and the first of them leads. */
export function newPartitionRecord(
  topicId: string,
  partitionId: number,
  replicas: readonly number[],
  isEligible: (brokerId: number) => boolean,
): PartitionRecord {
  const isr = replicas.filter(isEligible);
  return {
    type: "PartitionRecord",
    version: 0,
    value: {
      partitionId,
      topicId,
      replicas: [...replicas],
      isr,
      removingReplicas: [],
      addingReplicas: [],
      leader: isr[0] ?? noLeader,
      leaderEpoch: 0,
      partitionEpoch: 0,
      directories: [],
    },
  };
}

export function removeTopicRecord(topicId: string): RemoveTopicRecord {
  return { type: "RemoveTopicRecord", version: 0, value: { topicId } };
}

/** The answer to one partition of an AlterPartition request; Kafka sends the state only with NONE. */
export interface AlterPartitionAnswer {
  brokerId: number;
  errorCode: number;
  errorName: ErrorName;
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  isr: number[];
}

export interface ErrorAnswer {
  errorCode: number;
  errorName: ErrorName;
}

export function answer(errorName: ErrorName): ErrorAnswer {
  return { errorCode: errorCodes[errorName], errorName };
}

/**
 * The partition as a liveness event or config change leaves it, before any
 * election: guards judge this, and the election actions start from it. A
 * fenced or shutting-down broker also leaves the ISR, as in Kafka.
 */
export function proposedPartition(context: PartitionState, event: PartitionLifecycleEvent): PartitionState {
  switch (event.type) {
    case "broker.fenced":
      return { ...withBrokerFenced(context, event.brokerId), isr: isrWithout(context.isr, event.brokerId) };
    case "broker.shutdownStarted":
      return {
        ...withBrokerShuttingDown(context, event.brokerId),
        isr: isrWithout(context.isr, event.brokerId),
      };
    case "broker.unfenced":
      return withBrokerUnfenced(context, event.brokerId);
    case "topic.configChanged":
      return { ...context, uncleanLeaderElectionEnabled: event.uncleanLeaderElectionEnabled };
    default:
      return context;
  }
}

/** The state a partition restored from the metadata image (controller failover) resumes in. */
export function restoredStateOf(partition: PartitionState): "Online" | "Offline" {
  return partition.leader === noLeader ? "Offline" : "Online";
}
