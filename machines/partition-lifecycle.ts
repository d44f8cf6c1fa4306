/**
 * Partition lifecycle: one instance per partition, run by the controller. It
 * decides the partition's leader, ISR and epochs as Kafka's KRaft controller
 * does, and every decision leaves as an `appendMetadataRecord` action carrying
 * the PartitionRecord, PartitionChangeRecord or RemoveTopicRecord to append to
 * `__chronik_metadata`. The context is the controller's view after replaying
 * its own records, so a node that replays the log holds the same partition.
 *
 * New means the PartitionRecord is appended but not committed: no broker has
 * applied it, so requests about the partition get UNKNOWN_TOPIC_OR_PARTITION,
 * while broker liveness changes are decided at once, as Kafka's controller
 * decides on its uncommitted in-memory state.
 */
import { and, assign, enqueueActions, not, setup } from "xstate";
import {
  type AlterPartitionAnswer,
  answer,
  applyPartitionChangeRecord,
  chooseCleanLeader,
  choosePreferredLeader,
  chooseUncleanLeader,
  type Election,
  type ErrorAnswer,
  type ErrorName,
  electLeader,
  isLiveReplica,
  isNoOpChange,
  isValidAssignment,
  isValidIsr,
  liveReplicaPredicate,
  newPartitionRecord,
  noLeader,
  type PartitionLifecycleEvent,
  type PartitionMetadataRecord,
  type PartitionState,
  partitionChangeRecord,
  proposedPartition,
  removeTopicRecord,
  sameMembers,
} from "./partition-lifecycle-rules.ts";

export * from "./partition-lifecycle-rules.ts";

export type PartitionLifecycleContext = PartitionState;

export interface PartitionLifecycleInput {
  topicId: string;
  partitionId: number;
}

export const eventDescriptions: Record<PartitionLifecycleEvent["type"], string> = {
  "partition.created": "CreateTopics or CreatePartitions assigned the partition's replicas",
  "partition.creationCommitted": "the partition's PartitionRecord committed in the metadata log",
  "broker.fenced": "a broker missed its heartbeats, or its controlled shutdown ended, and may not lead",
  "broker.shutdownStarted": "a broker began a controlled shutdown and gives up leadership",
  "broker.unfenced": "a broker registered, caught up with the metadata log and may lead again",
  "topic.configChanged": "the topic's unclean.leader.election.enable changed",
  "isr.changeRequested": "the partition leader sent AlterPartition with a new ISR",
  "leader.preferredElectionRequested":
    "ElectLeaders (or the leader rebalancer) asked for the preferred leader",
  "leader.uncleanElectionRequested": "ElectLeaders asked for an unclean election of a leaderless partition",
  "topic.deletionRequested": "DeleteTopics asked to delete the partition's topic",
  "topic.deletionCompleted": "the topic's RemoveTopicRecord committed in the metadata log",
};

/** The effects a decision may enqueue, by name, so that `machine.provide()` replaces them. */
type Effect =
  | { type: "appendMetadataRecord"; params: { record: PartitionMetadataRecord } }
  | { type: "answerAlterPartition"; params: AlterPartitionAnswer }
  | { type: "refusePartitionCreation"; params: ErrorAnswer & { errorMessage: string } };

/** enqueueActions, told which effects exist: setup() cannot infer its sibling actions' names. */
function decision<Params extends Record<string, unknown> | undefined = undefined>(
  collect: Parameters<
    typeof enqueueActions<
      PartitionLifecycleContext,
      PartitionLifecycleEvent,
      Params,
      PartitionLifecycleEvent,
      never,
      Effect,
      never
    >
  >[0],
) {
  return enqueueActions(collect);
}

type AlterPartitionRequest = Extract<PartitionLifecycleEvent, { type: "isr.changeRequested" }>;

function isAlterPartition(event: PartitionLifecycleEvent): event is AlterPartitionRequest {
  return event.type === "isr.changeRequested";
}

export const partitionLifecycleMachine = setup({
  types: {
    context: {} as PartitionLifecycleContext,
    events: {} as PartitionLifecycleEvent,
    input: {} as PartitionLifecycleInput,
  },
  guards: {
    assignmentValid: ({ event }) => event.type === "partition.created" && isValidAssignment(event.replicas),
    assignmentHasLiveReplica: ({ event }) =>
      event.type === "partition.created" &&
      event.replicas.some((replica) => event.liveBrokers.includes(replica)),
    partitionHasLeader: ({ context }) => context.leader !== noLeader,
    leaderRemainsEligible: ({ context, event }) => {
      const proposal = proposedPartition(context, event);
      return proposal.isr.includes(proposal.leader) && isLiveReplica(proposal, proposal.leader);
    },
    isrLosesBroker: ({ context, event }) => !sameMembers(proposedPartition(context, event).isr, context.isr),
    hasEligibleIsrLeader: ({ context, event }) => {
      const proposal = proposedPartition(context, event);
      return chooseCleanLeader(proposal.replicas, proposal.isr, liveReplicaPredicate(proposal)) !== noLeader;
    },
    uncleanElectionAllowed: ({ context, event }) =>
      proposedPartition(context, event).uncleanLeaderElectionEnabled,
    hasEligibleUncleanLeader: ({ context, event }) => {
      const proposal = proposedPartition(context, event);
      return chooseUncleanLeader(proposal.replicas, liveReplicaPredicate(proposal)) !== noLeader;
    },
    preferredReplicaIsLeader: ({ context }) => context.replicas[0] === context.leader,
    preferredReplicaEligible: ({ context }) =>
      choosePreferredLeader(context.replicas, context.isr, liveReplicaPredicate(context)) !== noLeader,
    // A request from a newer epoch than ours means another controller wrote it: we are stale.
    alterPartitionEpochsAhead: ({ context, event }) =>
      isAlterPartition(event) &&
      (event.leaderEpoch > context.leaderEpoch || event.partitionEpoch > context.partitionEpoch),
    alterPartitionLeaderEpochCurrent: ({ context, event }) =>
      isAlterPartition(event) && event.leaderEpoch === context.leaderEpoch,
    alterPartitionFromLeader: ({ context, event }) =>
      isAlterPartition(event) && event.brokerId === context.leader,
    alterPartitionPartitionEpochCurrent: ({ context, event }) =>
      isAlterPartition(event) && event.partitionEpoch === context.partitionEpoch,
    newIsrWithinReplicas: ({ context, event }) =>
      isAlterPartition(event) && isValidIsr(context.replicas, event.newIsr),
    newIsrContainsLeader: ({ context, event }) =>
      isAlterPartition(event) && event.newIsr.includes(context.leader),
    newIsrAllEligible: ({ context, event }) =>
      isAlterPartition(event) && event.newIsr.every((member) => isLiveReplica(context, member)),
    newIsrUnchanged: ({ context, event }) =>
      isAlterPartition(event) && sameMembers(event.newIsr, context.isr),
  },
  actions: {
    // Effects: placeholders the runtime provides.
    appendMetadataRecord: (_, _params: { record: PartitionMetadataRecord }) => {},
    answerAlterPartition: (_, _params: AlterPartitionAnswer) => {},
    answerLeaderElection: (_, _params: ErrorAnswer) => {},
    refusePartitionCreation: (_, _params: ErrorAnswer & { errorMessage: string }) => {},

    // Bookkeeping of what the controller knows about brokers and the topic's config.
    recordBrokerLiveness: assign(({ context, event }) => {
      const { fencedBrokers, shuttingDownBrokers } = proposedPartition(context, event);
      return { fencedBrokers, shuttingDownBrokers };
    }),
    recordUncleanLeaderElectionSetting: assign(({ context, event }) => ({
      uncleanLeaderElectionEnabled: proposedPartition(context, event).uncleanLeaderElectionEnabled,
    })),

    // Each decision appends its record, then replays it into the context, as Kafka's controller does.
    createPartition: decision(({ context, event, enqueue }) => {
      if (event.type !== "partition.created") return;
      const live = (brokerId: number) => event.liveBrokers.includes(brokerId);
      const record = newPartitionRecord(context.topicId, context.partitionId, event.replicas, live);
      enqueue({ type: "appendMetadataRecord", params: { record } });
      enqueue.assign({
        replicas: record.value.replicas,
        isr: record.value.isr,
        leader: record.value.leader,
        leaderEpoch: record.value.leaderEpoch,
        partitionEpoch: record.value.partitionEpoch,
        fencedBrokers: event.replicas.filter((replica) => !live(replica)).sort((a, b) => a - b),
        shuttingDownBrokers: [],
        uncleanLeaderElectionEnabled: event.uncleanLeaderElectionEnabled,
      });
    }),
    electLeader: decision(({ context, event, enqueue }, params: { election: Election }) => {
      const record = partitionChangeRecord(
        context,
        electLeader(proposedPartition(context, event), params.election),
      );
      if (isNoOpChange(record)) return;
      enqueue({ type: "appendMetadataRecord", params: { record } });
      enqueue.assign(applyPartitionChangeRecord(context, record));
    }),
    shrinkIsr: decision(({ context, event, enqueue }) => {
      const record = partitionChangeRecord(context, {
        leader: context.leader,
        isr: proposedPartition(context, event).isr,
      });
      if (isNoOpChange(record)) return;
      enqueue({ type: "appendMetadataRecord", params: { record } });
      enqueue.assign(applyPartitionChangeRecord(context, record));
    }),
    changeIsr: decision(({ context, event, enqueue }) => {
      if (!isAlterPartition(event)) return;
      const record = partitionChangeRecord(context, { leader: context.leader, isr: event.newIsr });
      const next = isNoOpChange(record) ? context : applyPartitionChangeRecord(context, record);
      if (next !== context) {
        enqueue({ type: "appendMetadataRecord", params: { record } });
        enqueue.assign(next);
      }
      enqueue({
        type: "answerAlterPartition",
        params: {
          brokerId: event.brokerId,
          ...answer("NONE"),
          leader: next.leader,
          leaderEpoch: next.leaderEpoch,
          partitionEpoch: next.partitionEpoch,
          isr: next.isr,
        },
      });
    }),
    replyToAlterPartition: decision(({ context, event, enqueue }, params: { error: ErrorName }) => {
      if (!isAlterPartition(event)) return;
      enqueue({
        type: "answerAlterPartition",
        params: {
          brokerId: event.brokerId,
          ...answer(params.error),
          leader: context.leader,
          leaderEpoch: context.leaderEpoch,
          partitionEpoch: context.partitionEpoch,
          isr: context.isr,
        },
      });
    }),
    removeTopic: decision(({ context, enqueue }) => {
      enqueue({ type: "appendMetadataRecord", params: { record: removeTopicRecord(context.topicId) } });
    }),
    refuseAssignment: decision(
      ({ context, event, enqueue }, params: { reason: "invalid" | "noLiveReplica" }) => {
        if (event.type !== "partition.created") return;
        enqueue({
          type: "refusePartitionCreation",
          params: {
            ...answer("INVALID_REPLICA_ASSIGNMENT"),
            errorMessage:
              params.reason === "invalid"
                ? `Replicas [${event.replicas.join(",")}] of partition ${context.partitionId} must be distinct broker ids.`
                : `All brokers assigned to partition ${context.partitionId} are fenced or in controlled shutdown.`,
          },
        });
      },
    ),
  },
}).createMachine({
  id: "partitionLifecycle",
  description: "One partition on the controller: its leader, ISR and epochs, decided as KRaft records",
  context: ({ input }) => ({
    topicId: input.topicId,
    partitionId: input.partitionId,
    replicas: [],
    isr: [],
    leader: noLeader,
    leaderEpoch: -1,
    partitionEpoch: -1,
    fencedBrokers: [],
    shuttingDownBrokers: [],
    uncleanLeaderElectionEnabled: false,
  }),
  initial: "NonExistent",
  states: {
    NonExistent: {
      description: "No PartitionRecord yet; the partition is unknown to every broker",
      on: {
        "partition.created": [
          {
            guard: not("assignmentValid"),
            actions: { type: "refuseAssignment", params: { reason: "invalid" } },
            description: "refuse an empty assignment or one naming a broker twice",
          },
          {
            guard: not("assignmentHasLiveReplica"),
            actions: { type: "refuseAssignment", params: { reason: "noLiveReplica" } },
            description: "refuse an assignment with no live replica to lead",
          },
          {
            target: "New",
            actions: "createPartition",
            description: "append the PartitionRecord: live replicas form the ISR, the first of them leads",
          },
        ],
        "isr.changeRequested": {
          actions: { type: "replyToAlterPartition", params: { error: "UNKNOWN_TOPIC_OR_PARTITION" } },
          description: "refuse AlterPartition for a partition that does not exist",
        },
        "leader.preferredElectionRequested": {
          actions: { type: "answerLeaderElection", params: answer("UNKNOWN_TOPIC_OR_PARTITION") },
          description: "refuse an election for a partition that does not exist",
        },
        "leader.uncleanElectionRequested": {
          actions: { type: "answerLeaderElection", params: answer("UNKNOWN_TOPIC_OR_PARTITION") },
          description: "refuse an election for a partition that does not exist",
        },
      },
    },
    New: {
      description: "PartitionRecord appended, not yet committed; liveness changes still move the leader",
      on: {
        "partition.creationCommitted": [
          { guard: "partitionHasLeader", target: "Online", description: "committed with a leader" },
          { target: "Offline", description: "committed after every eligible replica was lost" },
        ],
        "broker.fenced": [
          {
            guard: not("partitionHasLeader"),
            actions: "recordBrokerLiveness",
            description: "already leaderless: only note the fence",
          },
          ...brokerLost(),
        ],
        "broker.shutdownStarted": [
          {
            guard: not("partitionHasLeader"),
            actions: "recordBrokerLiveness",
            description: "already leaderless: only note the shutdown",
          },
          ...brokerLost(),
        ],
        "broker.unfenced": [
          {
            guard: "partitionHasLeader",
            actions: "recordBrokerLiveness",
            description: "led already: the broker rejoins the ISR through AlterPartition",
          },
          ...brokerReturned(),
        ],
        "topic.configChanged": [
          {
            guard: and([not("partitionHasLeader"), "uncleanElectionAllowed", "hasEligibleUncleanLeader"]),
            actions: [
              "recordUncleanLeaderElectionSetting",
              { type: "electLeader", params: { election: "unclean" } },
            ],
            description: "unclean election just allowed: elect a live replica outside the ISR",
          },
          { actions: "recordUncleanLeaderElectionSetting", description: "note the setting" },
        ],
        "isr.changeRequested": {
          actions: { type: "replyToAlterPartition", params: { error: "UNKNOWN_TOPIC_OR_PARTITION" } },
          description: "no broker has applied the uncommitted partition, so none may alter it",
        },
        "leader.preferredElectionRequested": {
          actions: { type: "answerLeaderElection", params: answer("UNKNOWN_TOPIC_OR_PARTITION") },
          description: "the partition is not visible until its creation commits",
        },
        "leader.uncleanElectionRequested": {
          actions: { type: "answerLeaderElection", params: answer("UNKNOWN_TOPIC_OR_PARTITION") },
          description: "the partition is not visible until its creation commits",
        },
        "topic.deletionRequested": deleteTopic(),
      },
    },
    Online: {
      description: "A live ISR replica leads the partition",
      on: {
        "broker.fenced": brokerLost({ leaderlessTarget: "Offline" }),
        "broker.shutdownStarted": brokerLost({ leaderlessTarget: "Offline" }),
        "broker.unfenced": {
          actions: "recordBrokerLiveness",
          description: "the broker rejoins the ISR through AlterPartition, not here",
        },
        "topic.configChanged": {
          actions: "recordUncleanLeaderElectionSetting",
          description: "note the setting",
        },
        "isr.changeRequested": [
          {
            guard: "alterPartitionEpochsAhead",
            actions: { type: "replyToAlterPartition", params: { error: "NOT_CONTROLLER" } },
            description: "refuse a request from epochs newer than ours: this controller is stale",
          },
          {
            guard: not("alterPartitionLeaderEpochCurrent"),
            actions: { type: "replyToAlterPartition", params: { error: "FENCED_LEADER_EPOCH" } },
            description: "refuse a request from an older leader epoch",
          },
          {
            guard: not("alterPartitionFromLeader"),
            actions: { type: "replyToAlterPartition", params: { error: "INVALID_REQUEST" } },
            description: "refuse a request from a broker that is not the leader",
          },
          {
            guard: not("alterPartitionPartitionEpochCurrent"),
            actions: { type: "replyToAlterPartition", params: { error: "INVALID_UPDATE_VERSION" } },
            description: "refuse a request from an older partition epoch",
          },
          {
            guard: not("newIsrWithinReplicas"),
            actions: { type: "replyToAlterPartition", params: { error: "INVALID_REQUEST" } },
            description: "refuse an ISR with a duplicate or a broker outside the replicas",
          },
          {
            guard: not("newIsrContainsLeader"),
            actions: { type: "replyToAlterPartition", params: { error: "INVALID_REQUEST" } },
            description: "refuse an ISR without the leader",
          },
          {
            guard: not("newIsrAllEligible"),
            actions: { type: "replyToAlterPartition", params: { error: "INELIGIBLE_REPLICA" } },
            description: "refuse an ISR with a fenced or shutting-down broker",
          },
          {
            guard: "newIsrUnchanged",
            actions: { type: "replyToAlterPartition", params: { error: "NONE" } },
            description: "accept an ISR equal to the current one without a record",
          },
          { actions: "changeIsr", description: "accept: append the new ISR, bumping the partition epoch" },
        ],
        "leader.preferredElectionRequested": [
          {
            guard: "preferredReplicaIsLeader",
            actions: { type: "answerLeaderElection", params: answer("ELECTION_NOT_NEEDED") },
            description: "the first replica leads already",
          },
          {
            guard: "preferredReplicaEligible",
            actions: [
              { type: "electLeader", params: { election: "preferred" } },
              { type: "answerLeaderElection", params: answer("NONE") },
            ],
            description: "move leadership back to the first replica, live and in the ISR",
          },
          {
            actions: { type: "answerLeaderElection", params: answer("PREFERRED_LEADER_NOT_AVAILABLE") },
            description: "the first replica is not live or not in the ISR",
          },
        ],
        "leader.uncleanElectionRequested": {
          actions: { type: "answerLeaderElection", params: answer("ELECTION_NOT_NEEDED") },
          description: "a replica leads already: an unclean election is only for a leaderless partition",
        },
        "topic.deletionRequested": deleteTopic(),
      },
    },
    Offline: {
      description:
        "No eligible replica: leader -1 until an ISR replica (or, if allowed or asked for, any replica) is live",
      on: {
        "broker.fenced": { actions: "recordBrokerLiveness", description: "note the fence; nothing leads" },
        "broker.shutdownStarted": { actions: "recordBrokerLiveness", description: "note the shutdown" },
        "broker.unfenced": brokerReturned({ ledTarget: "Online" }),
        "topic.configChanged": [
          {
            guard: and(["uncleanElectionAllowed", "hasEligibleUncleanLeader"]),
            target: "Online",
            actions: [
              "recordUncleanLeaderElectionSetting",
              { type: "electLeader", params: { election: "unclean" } },
            ],
            description: "unclean election just allowed: elect a live replica outside the ISR",
          },
          { actions: "recordUncleanLeaderElectionSetting", description: "note the setting" },
        ],
        "isr.changeRequested": [
          {
            guard: "alterPartitionEpochsAhead",
            actions: { type: "replyToAlterPartition", params: { error: "NOT_CONTROLLER" } },
            description: "refuse a request from epochs newer than ours: this controller is stale",
          },
          {
            guard: not("alterPartitionLeaderEpochCurrent"),
            actions: { type: "replyToAlterPartition", params: { error: "FENCED_LEADER_EPOCH" } },
            description: "refuse a request from an older leader epoch",
          },
          {
            actions: { type: "replyToAlterPartition", params: { error: "INVALID_REQUEST" } },
            description: "refuse: no broker leads, so none may alter the ISR",
          },
        ],
        "leader.preferredElectionRequested": {
          actions: { type: "answerLeaderElection", params: answer("PREFERRED_LEADER_NOT_AVAILABLE") },
          description: "no ISR replica is live, the first one included",
        },
        "leader.uncleanElectionRequested": [
          {
            guard: "hasEligibleUncleanLeader",
            target: "Online",
            actions: [
              { type: "electLeader", params: { election: "unclean" } },
              { type: "answerLeaderElection", params: answer("NONE") },
            ],
            description:
              "elect a live replica whatever the topic's setting, an ISR one first; one from outside the ISR is its only member",
          },
          {
            actions: { type: "answerLeaderElection", params: answer("ELIGIBLE_LEADERS_NOT_AVAILABLE") },
            description: "no replica is live",
          },
        ],
        "topic.deletionRequested": deleteTopic(),
      },
    },
    Deleting: {
      description: "RemoveTopicRecord appended; the partition is gone for the controller",
      on: {
        "topic.deletionCompleted": { target: "Deleted", description: "the RemoveTopicRecord committed" },
        "isr.changeRequested": {
          actions: { type: "replyToAlterPartition", params: { error: "UNKNOWN_TOPIC_OR_PARTITION" } },
          description: "refuse AlterPartition for a deleted partition",
        },
        "leader.preferredElectionRequested": {
          actions: { type: "answerLeaderElection", params: answer("UNKNOWN_TOPIC_OR_PARTITION") },
          description: "refuse an election for a deleted partition",
        },
        "leader.uncleanElectionRequested": {
          actions: { type: "answerLeaderElection", params: answer("UNKNOWN_TOPIC_OR_PARTITION") },
          description: "refuse an election for a deleted partition",
        },
      },
    },
    Deleted: {
      type: "final",
      description: "The topic's removal committed; this instance ends",
    },
  },
});

/**
 * A replica became ineligible (fenced or shutting down), in Kafka's order: a
 * leader that stays eligible keeps leading and only the ISR shrinks; otherwise
 * a clean election from the ISR, then an unclean one if the topic allows it,
 * then no leader.
 */
function brokerLost(targets: { leaderlessTarget?: "Offline" } = {}) {
  return [
    {
      guard: and(["leaderRemainsEligible", "isrLosesBroker"]),
      actions: ["recordBrokerLiveness", "shrinkIsr"],
      description: "a follower left: remove it from the ISR, the leader stays",
    },
    {
      guard: "leaderRemainsEligible",
      actions: "recordBrokerLiveness",
      description: "a broker outside the ISR left: nothing changes",
    },
    {
      guard: "hasEligibleIsrLeader",
      actions: ["recordBrokerLiveness", { type: "electLeader", params: { election: "clean" } }],
      description:
        "the leader left: elect the earliest live ISR replica, dropping the old leader from the ISR",
    },
    {
      guard: and(["uncleanElectionAllowed", "hasEligibleUncleanLeader"]),
      actions: ["recordBrokerLiveness", { type: "electLeader", params: { election: "unclean" } }],
      description: "the last ISR replica left: elect a live replica outside it, as the topic allows",
    },
    {
      target: targets.leaderlessTarget,
      actions: ["recordBrokerLiveness", { type: "electLeader", params: { election: "noLeader" } }],
      description: "the last eligible replica left: leader -1, the ISR keeps its last member",
    },
  ] as const;
}

/** A leaderless partition's replica was unfenced: a clean election, else an unclean one if allowed. */
function brokerReturned(targets: { ledTarget?: "Online" } = {}) {
  return [
    {
      guard: "hasEligibleIsrLeader",
      target: targets.ledTarget,
      actions: ["recordBrokerLiveness", { type: "electLeader", params: { election: "clean" } }],
      description: "an ISR replica returned: elect it",
    },
    {
      guard: and(["uncleanElectionAllowed", "hasEligibleUncleanLeader"]),
      target: targets.ledTarget,
      actions: ["recordBrokerLiveness", { type: "electLeader", params: { election: "unclean" } }],
      description: "a replica outside the ISR returned and the topic allows unclean election: elect it",
    },
    {
      actions: "recordBrokerLiveness",
      description: "no eligible replica yet: stay leaderless",
    },
  ] as const;
}

function deleteTopic() {
  return {
    target: "Deleting",
    actions: "removeTopic",
    description: "append the RemoveTopicRecord",
  } as const;
}
