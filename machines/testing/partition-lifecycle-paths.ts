/**
 * The one generator of partition lifecycle paths, shared by the machine's own
 * path test (machines/partition-lifecycle.paths.test.ts) and the conformance
 * suite that drives the same paths against a real controller
 * (conformance/paths/partition-lifecycle.test.ts).
 *
 * One partition with replicas [1, 2, 3] on brokers 1-3. Epochs grow without
 * bound, so states are told apart without them; that loses nothing because
 * the only events that read epochs (AlterPartition) are generated relative to
 * the current ones, and `rebaseAlterPartition` moves them onto the epochs a
 * replay really has.
 */
import type { SnapshotFrom } from "xstate";
import type {
  PartitionLifecycleContext,
  PartitionLifecycleEvent,
  partitionLifecycleMachine,
} from "../partition-lifecycle.ts";

export type Snapshot = SnapshotFrom<typeof partitionLifecycleMachine>;
export type AlterPartitionEvent = Extract<PartitionLifecycleEvent, { type: "isr.changeRequested" }>;

export const lifecycleInput = { topicId: "c0ffee00c0ffee00c0ffee00c0ffee00", partitionId: 0 };

export const brokers = [1, 2, 3];
/** A broker id that is no replica of the partition. */
export const outsider = 4;

export function isLive(context: PartitionLifecycleContext, brokerId: number): boolean {
  return !context.fencedBrokers.includes(brokerId) && !context.shuttingDownBrokers.includes(brokerId);
}

/**
 * AlterPartition requests relative to the current epochs: the accepted ISR
 * changes, and for each rule one request that breaks only that rule while
 * asking for an ISR change that would otherwise be accepted.
 */
export function alterPartitionRequests(context: PartitionLifecycleContext): AlterPartitionEvent[] {
  const { leaderEpoch, partitionEpoch, isr, replicas } = context;
  // A request always comes from a real broker: without a leader, from the first replica.
  const leader = context.leader === -1 ? (replicas[0] ?? 1) : context.leader;
  const request = (
    brokerId: number,
    leaderEpochSent: number,
    partitionEpochSent: number,
    newIsr: number[],
  ): AlterPartitionEvent => ({
    type: "isr.changeRequested",
    brokerId,
    leaderEpoch: leaderEpochSent,
    partitionEpoch: partitionEpochSent,
    newIsr,
  });
  const follower = replicas.find((replica) => replica !== leader) ?? outsider;
  const joining = replicas.find((replica) => isLive(context, replica) && !isr.includes(replica));
  const leaving = isr.find((member) => member !== leader);
  const ineligible = replicas.find((replica) => !isLive(context, replica) && !isr.includes(replica));
  const withoutLeader = isr.filter((member) => member !== leader);
  const accepted = [
    ...(joining === undefined ? [] : [[...isr, joining]]),
    ...(leaving === undefined ? [] : [isr.filter((member) => member !== leaving)]),
  ];
  const change = accepted[0] ?? isr;
  return [
    ...accepted.map((newIsr) => request(leader, leaderEpoch, partitionEpoch, newIsr)),
    request(leader, leaderEpoch, partitionEpoch, isr),
    request(leader, leaderEpoch + 1, partitionEpoch, change),
    request(leader, leaderEpoch - 1, partitionEpoch, change),
    request(follower, leaderEpoch, partitionEpoch, change),
    request(leader, leaderEpoch, partitionEpoch - 1, change),
    request(leader, leaderEpoch, partitionEpoch, [...isr, outsider]),
    request(leader, leaderEpoch, partitionEpoch, [...isr, leader]),
    request(leader, leaderEpoch, partitionEpoch, withoutLeader.length > 0 ? withoutLeader : [follower]),
    ...(ineligible === undefined ? [] : [request(leader, leaderEpoch, partitionEpoch, [...isr, ineligible])]),
  ];
}

export interface LifecycleEventOptions {
  /**
   * Also create the partition with unclean.leader.election.enable set, as
   * CreateTopics can; otherwise only topic.configChanged sets it (the machine
   * test reaches unclean elections through that alone).
   */
  creationsWithUncleanElection: boolean;
}

/** Every event the generator offers in a state: creations, liveness, AlterPartition, elections, deletion. */
export function lifecycleEvents(
  options: LifecycleEventOptions = { creationsWithUncleanElection: false },
): (snapshot: Snapshot) => PartitionLifecycleEvent[] {
  const uncleanSettings = options.creationsWithUncleanElection ? [false, true] : [false];
  return (snapshot) => {
    const context = snapshot.context;
    return [
      ...uncleanSettings.flatMap((uncleanLeaderElectionEnabled): PartitionLifecycleEvent[] => [
        {
          type: "partition.created",
          replicas: [1, 2, 3],
          liveBrokers: [1, 2, 3],
          uncleanLeaderElectionEnabled,
        },
        { type: "partition.created", replicas: [1, 2, 3], liveBrokers: [], uncleanLeaderElectionEnabled },
      ]),
      {
        type: "partition.created",
        replicas: [1, 1, 2],
        liveBrokers: [1, 2],
        uncleanLeaderElectionEnabled: false,
      },
      { type: "partition.creationCommitted" },
      ...brokers.flatMap((brokerId): PartitionLifecycleEvent[] => [
        { type: "broker.fenced", brokerId },
        { type: "broker.shutdownStarted", brokerId },
        { type: "broker.unfenced", brokerId },
      ]),
      { type: "topic.configChanged", uncleanLeaderElectionEnabled: !context.uncleanLeaderElectionEnabled },
      ...alterPartitionRequests(context),
      { type: "leader.preferredElectionRequested" },
      { type: "leader.uncleanElectionRequested" },
      { type: "topic.deletionRequested" },
      { type: "topic.deletionCompleted" },
    ];
  };
}

/** The state without its epochs. */
export function withoutEpochs(snapshot: Snapshot): string {
  const { leaderEpoch: _leaderEpoch, partitionEpoch: _partitionEpoch, ...rest } = snapshot.context;
  return JSON.stringify([snapshot.value, rest]);
}

/** The lifecycle only: state, whether anyone leads, ISR size. Coarse, so that simple paths stay few. */
export function lifecycleOnly(snapshot: Snapshot): string {
  return JSON.stringify([snapshot.value, snapshot.context.leader === -1, snapshot.context.isr.length]);
}

/**
 * An AlterPartition generated for `representative` (the state the graph
 * stored for this key), moved to the same epoch offsets from `actual`.
 */
export function rebaseAlterPartition(
  event: PartitionLifecycleEvent,
  representative: Snapshot,
  actual: Snapshot,
): PartitionLifecycleEvent {
  if (event.type !== "isr.changeRequested") return event;
  return {
    ...event,
    leaderEpoch: actual.context.leaderEpoch + event.leaderEpoch - representative.context.leaderEpoch,
    partitionEpoch:
      actual.context.partitionEpoch + event.partitionEpoch - representative.context.partitionEpoch,
  };
}
