import { describe, expect, it } from "vitest";
import { createActor, initialTransition, type SnapshotFrom, transition } from "xstate";
import {
  chooseCleanLeader,
  choosePreferredLeader,
  chooseUncleanLeader,
  type ErrorName,
  errorCodes,
  isrWithout,
  isValidIsr,
  partitionLifecycleMachine as machine,
  type PartitionLifecycleContext,
  type PartitionLifecycleEvent,
  type PartitionMetadataRecord,
  restoredStateOf,
} from "./partition-lifecycle.ts";

type Snapshot = SnapshotFrom<typeof machine>;
type AlterPartitionRequest = Extract<PartitionLifecycleEvent, { type: "isr.changeRequested" }>;
type StateName = "NonExistent" | "New" | "Online" | "Offline" | "Deleting";

const topicId = "c0ffee00c0ffee00c0ffee00c0ffee00";

/** A partition in `value` with replicas [1,2,3], all live and in sync, led by 1 at epochs 5 and 9 unless overridden. */
function partition(
  value: StateName,
  overrides: Partial<PartitionLifecycleContext> = {},
  from: typeof machine = machine,
): Snapshot {
  return from.resolveState({
    value,
    context: {
      topicId,
      partitionId: 0,
      replicas: [1, 2, 3],
      isr: [1, 2, 3],
      leader: 1,
      leaderEpoch: 5,
      partitionEpoch: 9,
      fencedBrokers: [],
      shuttingDownBrokers: [],
      uncleanLeaderElectionEnabled: false,
      ...overrides,
    },
  });
}

function step(snapshot: Snapshot, event: PartitionLifecycleEvent) {
  const [next, actions] = transition(machine, snapshot, event);
  const of = (type: string) =>
    actions.filter((action) => action.type === type).map((action) => action.params);
  return {
    next,
    records: of("appendMetadataRecord").map(
      (params) => (params as { record: PartitionMetadataRecord }).record,
    ),
    alterPartitionAnswers: of("answerAlterPartition") as Array<Record<string, unknown>>,
    electionAnswers: of("answerLeaderElection") as Array<Record<string, unknown>>,
    creationRefusals: of("refusePartitionCreation") as Array<Record<string, unknown>>,
  };
}

function change(isr: number[] | null, leader: number): PartitionMetadataRecord {
  return { type: "PartitionChangeRecord", version: 0, value: { partitionId: 0, topicId, isr, leader } };
}

const fenced = (brokerId: number) => ({ type: "broker.fenced", brokerId }) as const;
const shuttingDown = (brokerId: number) => ({ type: "broker.shutdownStarted", brokerId }) as const;
const unfenced = (brokerId: number) => ({ type: "broker.unfenced", brokerId }) as const;
const alterPartition = (request: {
  brokerId?: number;
  leaderEpoch?: number;
  partitionEpoch?: number;
  newIsr: number[];
}) => ({ type: "isr.changeRequested", brokerId: 1, leaderEpoch: 5, partitionEpoch: 9, ...request }) as const;

describe("leader choice helpers", () => {
  const live =
    (...brokers: number[]) =>
    (brokerId: number) =>
      brokers.includes(brokerId);
  it.each([
    { replicas: [1, 2, 3], isr: [1, 2, 3], liveBrokers: [1, 2, 3], clean: 1, unclean: 1, preferred: 1 },
    { replicas: [3, 1, 2], isr: [1, 2], liveBrokers: [1, 2, 3], clean: 1, unclean: 3, preferred: -1 },
    { replicas: [1, 2, 3], isr: [1, 3], liveBrokers: [2, 3], clean: 3, unclean: 2, preferred: -1 },
    { replicas: [1, 2, 3], isr: [1], liveBrokers: [2, 3], clean: -1, unclean: 2, preferred: -1 },
    { replicas: [1, 2, 3], isr: [1, 2, 3], liveBrokers: [], clean: -1, unclean: -1, preferred: -1 },
  ])(
    "replicas $replicas, ISR $isr, live $liveBrokers: clean $clean, unclean $unclean, preferred $preferred",
    (row) => {
      expect(chooseCleanLeader(row.replicas, row.isr, live(...row.liveBrokers))).toBe(row.clean);
      expect(chooseUncleanLeader(row.replicas, live(...row.liveBrokers))).toBe(row.unclean);
      expect(choosePreferredLeader(row.replicas, row.isr, live(...row.liveBrokers))).toBe(row.preferred);
    },
  );

  it("keeps the last ISR member rather than empty the ISR", () => {
    expect(isrWithout([1, 2, 3], 2)).toEqual([1, 3]);
    expect(isrWithout([2], 2)).toEqual([2]);
    expect(isrWithout([1, 3], 2)).toEqual([1, 3]);
  });

  it("accepts as ISR only distinct members of the replicas", () => {
    expect(isValidIsr([1, 2, 3], [3, 1])).toBe(true);
    expect(isValidIsr([1, 2, 3], [1, 1])).toBe(false);
    expect(isValidIsr([1, 2, 3], [1, 4])).toBe(false);
  });
});

describe("partition lifecycle rules", () => {
  it("creates the partition with the live replicas as ISR and the first of them leading", () => {
    const [initial] = initialTransition(machine, { topicId, partitionId: 0 });
    const { next, records } = step(initial, {
      type: "partition.created",
      replicas: [3, 1, 2],
      liveBrokers: [1, 2],
      uncleanLeaderElectionEnabled: false,
    });
    expect(next.value).toBe("New");
    expect(records).toEqual([
      {
        type: "PartitionRecord",
        version: 0,
        value: {
          partitionId: 0,
          topicId,
          replicas: [3, 1, 2],
          isr: [1, 2],
          removingReplicas: [],
          addingReplicas: [],
          leader: 1,
          leaderEpoch: 0,
          partitionEpoch: 0,
          directories: [],
        },
      },
    ]);
    expect(next.context).toMatchObject({ isr: [1, 2], leader: 1, fencedBrokers: [3], leaderEpoch: 0 });
    expect(step(next, { type: "partition.creationCommitted" }).next.value).toBe("Online");
  });

  it.each([
    { replicas: [1, 2, 3], liveBrokers: [], reason: "no live replica" },
    { replicas: [1, 1, 2], liveBrokers: [1, 2], reason: "a duplicate" },
    { replicas: [], liveBrokers: [1], reason: "no replica" },
  ])("refuses an assignment with $reason", ({ replicas, liveBrokers }) => {
    const [initial] = initialTransition(machine, { topicId, partitionId: 0 });
    const result = step(initial, {
      type: "partition.created",
      replicas,
      liveBrokers,
      uncleanLeaderElectionEnabled: true,
    });
    expect(result.next.value).toBe("NonExistent");
    expect(result.records).toEqual([]);
    expect(result.creationRefusals).toMatchObject([{ errorCode: errorCodes.INVALID_REPLICA_ASSIGNMENT }]);
  });

  it.each([
    { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, lost: 1, newLeader: 2, newIsr: [2, 3] },
    { replicas: [3, 1, 2], isr: [1, 2, 3], leader: 3, lost: 3, newLeader: 1, newIsr: [1, 2] },
    { replicas: [1, 2, 3], isr: [1, 3], leader: 1, lost: 1, newLeader: 3, newIsr: [3] },
  ])(
    "clean election prefers the earliest live ISR replica in assignment order ($replicas, ISR $isr)",
    (row) => {
      const before = partition("Online", { replicas: row.replicas, isr: row.isr, leader: row.leader });
      const { next, records } = step(before, fenced(row.lost));
      expect(records).toEqual([change(row.newIsr, row.newLeader)]);
      expect(next.value).toBe("Online");
      expect(next.context).toMatchObject({
        leader: row.newLeader,
        isr: row.newIsr,
        leaderEpoch: 6,
        partitionEpoch: 10,
      });
    },
  );

  it.each([
    { name: "fenced", event: fenced(1), state: { fencedBrokers: [2] } },
    { name: "shutting-down", event: shuttingDown(1), state: { shuttingDownBrokers: [2] } },
  ])("never elects a $name broker, even one left in the ISR", ({ event, state }) => {
    const { next, records } = step(partition("Online", { ...state }), event);
    expect(records).toEqual([change([2, 3], 3)]);
    expect(next.context.leader).toBe(3);
  });

  it("never elects a shutting-down broker, and a shutting-down leader hands over", () => {
    const { next, records } = step(partition("Online"), shuttingDown(1));
    expect(records).toEqual([change([2, 3], 2)]);
    expect(next.context).toMatchObject({ leader: 2, shuttingDownBrokers: [1] });
    const afterSecond = step(next, shuttingDown(2));
    expect(afterSecond.records).toEqual([change([3], 3)]);
    const afterThird = step(afterSecond.next, shuttingDown(3));
    expect(afterThird.next.value).toBe("Offline");
    expect(afterThird.records).toEqual([change(null, -1)]);
  });

  it.each([
    { uncleanLeaderElectionEnabled: false, value: "Offline", record: change(null, -1), leader: -1, isr: [1] },
    { uncleanLeaderElectionEnabled: true, value: "Online", record: change([2], 2), leader: 2, isr: [2] },
  ])("unclean election only when the topic allows it (allowed: $uncleanLeaderElectionEnabled)", (row) => {
    const before = partition("Online", {
      isr: [1],
      fencedBrokers: [3],
      uncleanLeaderElectionEnabled: row.uncleanLeaderElectionEnabled,
    });
    const { next, records } = step(before, fenced(1));
    expect(next.value).toBe(row.value);
    expect(records).toEqual([row.record]);
    expect(next.context).toMatchObject({
      leader: row.leader,
      isr: row.isr,
      leaderEpoch: 6,
      partitionEpoch: 10,
    });
  });

  it("elects uncleanly once the topic allows it, not before", () => {
    const offline = partition("Offline", { isr: [1], leader: -1, fencedBrokers: [1, 3] });
    expect(step(offline, unfenced(3)).next.value).toBe("Offline");
    const { next, records } = step(offline, {
      type: "topic.configChanged",
      uncleanLeaderElectionEnabled: true,
    });
    expect(records).toEqual([change([2], 2)]);
    expect(next.value).toBe("Online");
  });

  it("goes offline with leader -1 when no ISR replica is eligible, keeping the last ISR member", () => {
    const { next, records } = step(partition("Online", { isr: [1], fencedBrokers: [2, 3] }), fenced(1));
    expect(next.value).toBe("Offline");
    expect(records).toEqual([change(null, -1)]);
    expect(next.context).toMatchObject({ leader: -1, isr: [1], fencedBrokers: [1, 2, 3], leaderEpoch: 6 });
  });

  it("comes back online when an ISR replica returns, and only then", () => {
    const offline = partition("Offline", { isr: [1], leader: -1, fencedBrokers: [1, 2, 3] });
    const outsider = step(offline, unfenced(2));
    expect(outsider.next.value).toBe("Offline");
    expect(outsider.records).toEqual([]);
    const { next, records } = step(outsider.next, unfenced(1));
    expect(next.value).toBe("Online");
    expect(records).toEqual([change(null, 1)]);
    expect(next.context).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 6, partitionEpoch: 10 });
  });

  it("removes a fenced follower from the ISR and keeps the leader and its epoch", () => {
    const { next, records } = step(partition("Online"), fenced(2));
    expect(records).toEqual([change([1, 3], -2)]);
    expect(next.context).toMatchObject({ leader: 1, isr: [1, 3], leaderEpoch: 5, partitionEpoch: 10 });
    const outsideIsr = step(next, fenced(2));
    expect(outsideIsr.records).toEqual([]);
  });

  it("bumps leader epoch on every leader change and partition epoch on every change", () => {
    const events: PartitionLifecycleEvent[] = [
      fenced(3), // ISR shrink
      alterPartition({ newIsr: [1, 2], partitionEpoch: 10 }), // ISR unchanged: no record
      fenced(1), // leader change
      unfenced(1),
      alterPartition({ brokerId: 2, leaderEpoch: 6, partitionEpoch: 11, newIsr: [2, 1] }), // ISR change
      fenced(2), // leader change
      fenced(1), // no leader
      unfenced(1), // leader again
    ];
    const epochs: Array<[number, number]> = [];
    let snapshot = partition("Online");
    for (const event of events) {
      snapshot = step(snapshot, event).next;
      epochs.push([snapshot.context.leaderEpoch, snapshot.context.partitionEpoch]);
    }
    expect(epochs).toEqual([
      [5, 10],
      [5, 10],
      [6, 11],
      [6, 11],
      [6, 12],
      [7, 13],
      [8, 14],
      [9, 15],
    ]);
  });

  it.each<{ name: string; request: Partial<AlterPartitionRequest>; error: ErrorName }>([
    { name: "newer epochs than the controller's", request: { leaderEpoch: 6 }, error: "NOT_CONTROLLER" },
    { name: "a stale leader epoch", request: { leaderEpoch: 4 }, error: "FENCED_LEADER_EPOCH" },
    { name: "a broker that does not lead", request: { brokerId: 2 }, error: "INVALID_REQUEST" },
    { name: "a stale partition epoch", request: { partitionEpoch: 8 }, error: "INVALID_UPDATE_VERSION" },
    { name: "an ISR outside the replicas", request: { newIsr: [1, 4] }, error: "INVALID_REQUEST" },
    { name: "an ISR naming a broker twice", request: { newIsr: [1, 2, 2] }, error: "INVALID_REQUEST" },
    { name: "an ISR without the leader", request: { newIsr: [2, 3] }, error: "INVALID_REQUEST" },
    { name: "an ISR with a fenced broker", request: { newIsr: [1, 2, 3] }, error: "INELIGIBLE_REPLICA" },
  ])("refuses AlterPartition with $name", ({ request, error }) => {
    const before = partition("Online", { isr: [1, 2], fencedBrokers: [3] });
    const { next, records, alterPartitionAnswers } = step(
      before,
      alterPartition({ newIsr: [1], ...request }),
    );
    expect(records).toEqual([]);
    expect(next.context).toEqual(before.context);
    expect(alterPartitionAnswers).toEqual([
      {
        brokerId: request.brokerId ?? 1,
        errorCode: errorCodes[error],
        errorName: error,
        leader: 1,
        leaderEpoch: 5,
        partitionEpoch: 9,
        isr: [1, 2],
      },
    ]);
  });

  it("refuses an ISR with a shutting-down broker", () => {
    const before = partition("Online", { isr: [1, 2], shuttingDownBrokers: [3] });
    const { alterPartitionAnswers } = step(before, alterPartition({ newIsr: [1, 2, 3] }));
    expect(alterPartitionAnswers).toMatchObject([{ errorName: "INELIGIBLE_REPLICA" }]);
  });

  it("accepts AlterPartition from the leader at the current epochs and bumps only the partition epoch", () => {
    const { next, records, alterPartitionAnswers } = step(
      partition("Online", { isr: [1] }),
      alterPartition({ newIsr: [1, 3] }),
    );
    expect(records).toEqual([change([1, 3], -2)]);
    expect(next.context).toMatchObject({ isr: [1, 3], leader: 1, leaderEpoch: 5, partitionEpoch: 10 });
    expect(alterPartitionAnswers).toEqual([
      {
        brokerId: 1,
        errorCode: 0,
        errorName: "NONE",
        leader: 1,
        leaderEpoch: 5,
        partitionEpoch: 10,
        isr: [1, 3],
      },
    ]);
    const unchanged = step(next, alterPartition({ partitionEpoch: 10, newIsr: [1, 3] }));
    expect(unchanged.records).toEqual([]);
    expect(unchanged.alterPartitionAnswers).toMatchObject([{ errorName: "NONE", partitionEpoch: 10 }]);
  });

  it.each<{
    state: StateName;
    context: Partial<PartitionLifecycleContext>;
    request: Partial<AlterPartitionRequest>;
    error: ErrorName;
  }>([
    {
      state: "Offline",
      context: { leader: -1, isr: [1], fencedBrokers: [1, 2, 3] },
      request: {},
      error: "INVALID_REQUEST",
    },
    {
      state: "Offline",
      context: { leader: -1, isr: [1], fencedBrokers: [1, 2, 3] },
      request: { leaderEpoch: 4 },
      error: "FENCED_LEADER_EPOCH",
    },
    { state: "New", context: {}, request: {}, error: "UNKNOWN_TOPIC_OR_PARTITION" },
    { state: "Deleting", context: {}, request: {}, error: "UNKNOWN_TOPIC_OR_PARTITION" },
    { state: "NonExistent", context: {}, request: {}, error: "UNKNOWN_TOPIC_OR_PARTITION" },
  ])("refuses AlterPartition in $state with $error", ({ state, context, request, error }) => {
    const { records, alterPartitionAnswers } = step(
      partition(state, context),
      alterPartition({ newIsr: [1, 2], ...request }),
    );
    expect(records).toEqual([]);
    expect(alterPartitionAnswers).toMatchObject([{ errorName: error }]);
  });

  it("preferred-leader election moves leadership to the first replica", () => {
    const { next, records, electionAnswers } = step(partition("Online", { leader: 2, isr: [2, 3, 1] }), {
      type: "leader.preferredElectionRequested",
    });
    expect(records).toEqual([change(null, 1)]);
    expect(next.context).toMatchObject({ leader: 1, isr: [2, 3, 1], leaderEpoch: 6, partitionEpoch: 10 });
    expect(electionAnswers).toEqual([{ errorCode: 0, errorName: "NONE" }]);
  });

  it.each<{ name: string; context: Partial<PartitionLifecycleContext>; error: ErrorName }>([
    { name: "the first replica leads", context: {}, error: "ELECTION_NOT_NEEDED" },
    {
      name: "the first replica is fenced",
      context: { leader: 2, isr: [2, 3], fencedBrokers: [1] },
      error: "PREFERRED_LEADER_NOT_AVAILABLE",
    },
    {
      name: "the first replica is not in the ISR",
      context: { leader: 2, isr: [2, 3] },
      error: "PREFERRED_LEADER_NOT_AVAILABLE",
    },
  ])("preferred-leader election changes nothing when $name", ({ context, error }) => {
    const { records, electionAnswers } = step(partition("Online", context), {
      type: "leader.preferredElectionRequested",
    });
    expect(records).toEqual([]);
    expect(electionAnswers).toEqual([{ errorCode: errorCodes[error], errorName: error }]);
  });

  it.each<{
    name: string;
    context: Partial<PartitionLifecycleContext>;
    leader: number;
    isr: number[];
    record: PartitionMetadataRecord;
  }>([
    {
      name: "elects the first live replica outside the ISR, which alone forms the new ISR",
      context: { isr: [1], fencedBrokers: [1] },
      leader: 2,
      isr: [2],
      record: change([2], 2),
    },
    {
      name: "elects a live replica outside the ISR even when the topic allows no unclean election",
      context: { isr: [1], fencedBrokers: [1, 2] },
      leader: 3,
      isr: [3],
      record: change([3], 3),
    },
    {
      name: "prefers a live ISR replica to an earlier replica outside the ISR, keeping the ISR",
      context: { isr: [3], fencedBrokers: [1] },
      leader: 3,
      isr: [3],
      record: change(null, 3),
    },
    {
      name: "never elects a shutting-down replica",
      context: { isr: [1], fencedBrokers: [1], shuttingDownBrokers: [2] },
      leader: 3,
      isr: [3],
      record: change([3], 3),
    },
  ])("unclean election of a leaderless partition $name", ({ context, leader, isr, record }) => {
    const { next, records, electionAnswers } = step(partition("Offline", { leader: -1, ...context }), {
      type: "leader.uncleanElectionRequested",
    });
    expect(records).toEqual([record]);
    expect(next.value).toBe("Online");
    expect(next.context).toMatchObject({
      leader,
      isr,
      leaderEpoch: 6,
      partitionEpoch: 10,
      uncleanLeaderElectionEnabled: false,
    });
    expect(electionAnswers).toEqual([{ errorCode: 0, errorName: "NONE" }]);
  });

  it.each<{ state: StateName; context: Partial<PartitionLifecycleContext>; error: ErrorName }>([
    { state: "Online", context: {}, error: "ELECTION_NOT_NEEDED" },
    {
      state: "Online",
      context: { isr: [1], fencedBrokers: [2, 3], uncleanLeaderElectionEnabled: true },
      error: "ELECTION_NOT_NEEDED",
    },
    {
      state: "Offline",
      context: { leader: -1, isr: [1], fencedBrokers: [1, 2, 3] },
      error: "ELIGIBLE_LEADERS_NOT_AVAILABLE",
    },
    {
      state: "Offline",
      context: { leader: -1, isr: [1], fencedBrokers: [1, 3], shuttingDownBrokers: [2] },
      error: "ELIGIBLE_LEADERS_NOT_AVAILABLE",
    },
    { state: "New", context: {}, error: "UNKNOWN_TOPIC_OR_PARTITION" },
    {
      state: "New",
      context: { leader: -1, isr: [1], fencedBrokers: [1] },
      error: "UNKNOWN_TOPIC_OR_PARTITION",
    },
    { state: "Deleting", context: {}, error: "UNKNOWN_TOPIC_OR_PARTITION" },
    { state: "NonExistent", context: {}, error: "UNKNOWN_TOPIC_OR_PARTITION" },
  ])("unclean election in $state answers $error and changes nothing", ({ state, context, error }) => {
    const before = partition(state, context);
    const { next, records, electionAnswers } = step(before, { type: "leader.uncleanElectionRequested" });
    expect(records).toEqual([]);
    expect([next.value, next.context]).toEqual([before.value, before.context]);
    expect(electionAnswers).toEqual([{ errorCode: errorCodes[error], errorName: error }]);
  });

  it("decides liveness changes while the creation is uncommitted and settles by its leader on commit", () => {
    let snapshot = partition("New", { leaderEpoch: 0, partitionEpoch: 0, isr: [1], fencedBrokers: [2, 3] });
    const lost = step(snapshot, fenced(1));
    expect(lost.records).toEqual([change(null, -1)]);
    snapshot = lost.next;
    expect(snapshot.value).toBe("New");
    expect(step(snapshot, { type: "partition.creationCommitted" }).next.value).toBe("Offline");
    const back = step(snapshot, unfenced(1));
    expect(back.records).toEqual([change(null, 1)]);
    expect(step(back.next, { type: "partition.creationCommitted" }).next.value).toBe("Online");
  });

  it("deletes the topic with one RemoveTopicRecord and ends once it commits", () => {
    const deleting = step(partition("Offline", { leader: -1, isr: [1], fencedBrokers: [1] }), {
      type: "topic.deletionRequested",
    });
    expect(deleting.next.value).toBe("Deleting");
    expect(deleting.records).toEqual([{ type: "RemoveTopicRecord", version: 0, value: { topicId } }]);
    expect(step(deleting.next, fenced(2)).records).toEqual([]);
    const deleted = step(deleting.next, { type: "topic.deletionCompleted" }).next;
    expect(deleted.value).toBe("Deleted");
    expect(deleted.status).toBe("done");
  });

  it("resumes a partition restored on controller failover Online or Offline by its leader", () => {
    for (const leader of [2, -1]) {
      const context = {
        ...partition("Online").context,
        leader,
        isr: [2],
        fencedBrokers: leader === -1 ? [2] : [],
      };
      const restored = machine.resolveState({ value: restoredStateOf(context), context });
      expect(restored.value).toBe(leader === -1 ? "Offline" : "Online");
      expect(step(restored, fenced(2)).next.value).toBe("Offline");
    }
  });

  it("hands every record to the runtime's appendMetadataRecord", () => {
    const appended: PartitionMetadataRecord[] = [];
    const actor = createActor(
      machine.provide({ actions: { appendMetadataRecord: (_, { record }) => void appended.push(record) } }),
      { input: { topicId, partitionId: 0 } },
    ).start();
    actor.send({
      type: "partition.created",
      replicas: [1, 2, 3],
      liveBrokers: [1, 2, 3],
      uncleanLeaderElectionEnabled: false,
    });
    actor.send({ type: "partition.creationCommitted" });
    actor.send(fenced(1));
    expect(appended.map((record) => record.type)).toEqual(["PartitionRecord", "PartitionChangeRecord"]);
    expect(appended[1]).toEqual(change([2, 3], 2));
    actor.stop();
  });

  it("lets a broken rule be provided, as the model checker's mutation suite does", () => {
    const broken = machine.provide({ guards: { uncleanElectionAllowed: () => true } });
    // Guards resolve through the snapshot's machine, so the snapshot must come from the broken one.
    const [next] = transition(
      broken,
      partition("Online", { isr: [1], fencedBrokers: [3] }, broken),
      fenced(1),
    );
    expect(next.context).toMatchObject({ leader: 2, isr: [2], uncleanLeaderElectionEnabled: false });
  });
});
