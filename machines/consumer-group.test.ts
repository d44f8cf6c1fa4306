import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { initialTransition, type SnapshotFrom, transition } from "xstate";
import {
  GroupErrorCode as Code,
  consumerGroupMachine,
  type Event,
  type Input,
  type JoinAnswer,
  type JoinProtocol,
  type JoinRequest,
  type MemberIdentity,
  nextDeadlineMs,
  type StoredGroup,
  type StoredMember,
  type SyncAnswer,
  type SyncRequest,
  selectProtocol,
} from "./consumer-group.ts";

type Snapshot = SnapshotFrom<typeof consumerGroupMachine>;

const limits = {
  groupMinSessionTimeoutMs: 100,
  groupMaxSessionTimeoutMs: 1_000,
  groupMaxSize: 3,
  groupInitialRebalanceDelayMs: 50,
  groupNewMemberJoinTimeoutMs: 300,
  pendingMembersMax: 2,
};

const range: JoinProtocol[] = [{ name: "range", metadata: "r" }];
const rangeChanged: JoinProtocol[] = [{ name: "range", metadata: "r+t2" }];

function input(overrides: Partial<Input> = {}): Input {
  return { groupId: "orders", nowMs: 0, storedGroup: null, ...limits, ...overrides };
}

function start(overrides: Partial<Input> = {}): Snapshot {
  return initialTransition(consumerGroupMachine, input(overrides))[0];
}

function stored(memberId: string, groupInstanceId: string | null = null, assignment = ""): StoredMember {
  return {
    memberId,
    groupInstanceId,
    clientId: memberId[0]!,
    clientHost: "/10.0.0.1",
    rebalanceTimeoutMs: 400,
    sessionTimeoutMs: 200,
    subscription: "r",
    assignment,
  };
}

/** Generation 3, leader a1, dynamic a1 and b1 and static s1 (instance "s"), restored at time 0: sessions end at 200. */
function storedGroup(overrides: Partial<StoredGroup> = {}): StoredGroup {
  return {
    generationId: 3,
    protocolType: "consumer",
    protocolName: "range",
    leaderId: "a1",
    members: [stored("a1", null, "A"), stored("b1", null, "B"), stored("s1", "s", "S")],
    ...overrides,
  };
}

function stable(overrides: Partial<Input> = {}): Snapshot {
  return start({ storedGroup: storedGroup(), ...overrides });
}

interface Effect {
  type: string;
  params: unknown;
}

/** Runs events through the pure transition function, collecting the effects the runtime would perform. */
function run(snapshot: Snapshot, ...events: Event[]): { snapshot: Snapshot; effects: Effect[] } {
  const effects: Effect[] = [];
  let current = snapshot;
  for (const event of events) {
    const [next, actions] = transition(consumerGroupMachine, current, event);
    effects.push(...actions.map((action) => ({ type: action.type, params: action.params })));
    current = next;
  }
  return { snapshot: current, effects };
}

function joinAnswers(effects: Effect[]): JoinAnswer[] {
  return effects
    .filter((effect) => effect.type === "answerJoin")
    .map((effect) => effect.params as JoinAnswer);
}

function syncAnswers(effects: Effect[]): SyncAnswer[] {
  return effects
    .filter((effect) => effect.type === "answerSync")
    .map((effect) => effect.params as SyncAnswer);
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}

const join = (fields: Partial<JoinRequest> & { requestId: number }): Event => ({
  type: "group.joinRequested",
  memberId: "",
  groupInstanceId: null,
  protocolType: "consumer",
  protocols: range,
  sessionTimeoutMs: 200,
  rebalanceTimeoutMs: 400,
  apiVersion: 5,
  newMemberId: `new-${fields.requestId}`,
  clientId: "c",
  clientHost: "/10.0.0.2",
  nowMs: 0,
  ...fields,
});

const sync = (fields: Partial<SyncRequest> & { requestId: number; memberId: string }): Event => ({
  type: "group.syncRequested",
  groupInstanceId: null,
  generationId: 3,
  protocolType: "consumer",
  protocolName: "range",
  assignments: [],
  nowMs: 0,
  ...fields,
});

const heartbeat = (
  requestId: number,
  memberId: string,
  generationId = 3,
  nowMs = 0,
  groupInstanceId: string | null = null,
): Event => ({
  type: "group.heartbeatRequested",
  requestId,
  memberId,
  groupInstanceId,
  generationId,
  nowMs,
});

const leave = (requestId: number, members: MemberIdentity[], nowMs = 0): Event => ({
  type: "group.leaveRequested",
  requestId,
  members,
  nowMs,
});

const commit = (
  requestId: number,
  memberId: string,
  generationId: number,
  groupInstanceId: string | null = null,
): Event => ({
  type: "offsets.commitRequested",
  requestId,
  memberId,
  generationId,
  groupInstanceId,
  nowMs: 0,
});

const tick = (nowMs: number): Event => ({ type: "clock.ticked", nowMs });
const persisted = (generationId: number): Event => ({ type: "group.persisted", generationId, nowMs: 0 });

/** Room for one more member: in a full group Kafka answers any id it does not know GROUP_MAX_SIZE_REACHED. */
const roomy = { groupMaxSize: 4 };

/** The stable group after its leader rejoined: preparing a rebalance, a1 waiting in join 101. */
function preparing(overrides: Partial<Input> = {}): Snapshot {
  const { snapshot } = run(stable(overrides), join({ requestId: 101, memberId: "a1" }));
  expect(snapshot.value).toBe("PreparingRebalance");
  return snapshot;
}

/** Every member rejoined: generation 4 is waiting for the leader's assignment, since time 0. */
function completing(overrides: Partial<Input> = {}): Snapshot {
  const { snapshot } = run(
    preparing(overrides),
    join({ requestId: 102, memberId: "b1" }),
    join({ requestId: 103, memberId: "s1", groupInstanceId: "s" }),
  );
  expect(snapshot.value).toBe("CompletingRebalance");
  return snapshot;
}

describe("JoinGroup", () => {
  it("a v4+ dynamic member without an id gets MEMBER_ID_REQUIRED and is pending until it joins with that id", () => {
    const asked = run(start(), join({ requestId: 1, newMemberId: "a1" }));
    expect(asked.effects).toEqual([
      {
        type: "answerJoin",
        params: {
          requestId: 1,
          errorCode: Code.MEMBER_ID_REQUIRED,
          memberId: "a1",
          generationId: -1,
          protocolType: null,
          protocolName: null,
          leaderId: "",
          skipAssignment: false,
          members: [],
        },
      },
    ]);
    expect(asked.snapshot.value).toBe("Empty");
    expect(asked.snapshot.context.pendingMembers).toEqual([{ memberId: "a1", deadlineMs: 200 }]);
    const joined = run(asked.snapshot, join({ requestId: 2, memberId: "a1", nowMs: 10 }));
    expect(joined.snapshot.value).toBe("PreparingRebalance");
    expect(joined.effects).toEqual([]);
    expect(joined.snapshot.context).toMatchObject({
      pendingMembers: [],
      leaderId: "a1",
      protocolType: "consumer",
      initialRebalance: { deadlineMs: 60, delayMs: 50, remainingMs: 350, newMemberAdded: false },
    });
    expect(joined.snapshot.context.members[0]).toMatchObject({
      memberId: "a1",
      joinRequestId: 2,
      isNew: true,
    });
  });

  it.each([
    { apiVersion: 3, state: "PreparingRebalance", errorCodes: [] },
    { apiVersion: 4, state: "Empty", errorCodes: [Code.MEMBER_ID_REQUIRED] },
  ])(
    "JoinGroup v4 requires a known member id; v$apiVersion ends $state",
    ({ apiVersion, state, errorCodes }) => {
      const { snapshot, effects } = run(start(), join({ requestId: 1, apiVersion }));
      expect(snapshot.value).toBe(state);
      expect(joinAnswers(effects).map((answer) => answer.errorCode)).toEqual(errorCodes);
    },
  );

  it("a static member joins directly, without MEMBER_ID_REQUIRED", () => {
    const { snapshot, effects } = run(
      start(),
      join({ requestId: 1, groupInstanceId: "s", newMemberId: "s-1" }),
    );
    expect(effects).toEqual([]);
    expect(snapshot.value).toBe("PreparingRebalance");
    expect(snapshot.context.members.map((member) => [member.memberId, member.groupInstanceId])).toEqual([
      ["s-1", "s"],
    ]);
  });

  it("a pending member that does not join again within its session timeout is forgotten", () => {
    const asked = run(start(), join({ requestId: 1, newMemberId: "a1" }), tick(199));
    expect(asked.snapshot.context.pendingMembers).toHaveLength(1);
    const expired = run(asked.snapshot, tick(200), join({ requestId: 2, memberId: "a1", nowMs: 200 }));
    expect(expired.snapshot.context.pendingMembers).toEqual([]);
    expect(expired.snapshot.value).toBe("Empty");
    expect(only(joinAnswers(expired.effects)).errorCode).toBe(Code.UNKNOWN_MEMBER_ID);
  });

  it("pending members are capped at pendingMembersMax; the next first join gets a retriable error", () => {
    const { snapshot, effects } = run(
      start(),
      join({ requestId: 1 }),
      join({ requestId: 2 }),
      join({ requestId: 3 }),
    );
    expect(joinAnswers(effects).map((answer) => answer.errorCode)).toEqual([
      Code.MEMBER_ID_REQUIRED,
      Code.MEMBER_ID_REQUIRED,
      Code.COORDINATOR_LOAD_IN_PROGRESS,
    ]);
    expect(snapshot.context.pendingMembers).toHaveLength(2);
  });

  it.each([
    { sessionTimeoutMs: 99, errorCode: Code.INVALID_SESSION_TIMEOUT },
    { sessionTimeoutMs: 100, errorCode: Code.MEMBER_ID_REQUIRED },
    { sessionTimeoutMs: 1_000, errorCode: Code.MEMBER_ID_REQUIRED },
    { sessionTimeoutMs: 1_001, errorCode: Code.INVALID_SESSION_TIMEOUT },
  ])(
    "a session timeout outside [groupMinSessionTimeoutMs, groupMaxSessionTimeoutMs] is INVALID_SESSION_TIMEOUT ($sessionTimeoutMs ms)",
    ({ sessionTimeoutMs, errorCode }) => {
      const { effects } = run(start(), join({ requestId: 1, sessionTimeoutMs }));
      expect(only(joinAnswers(effects)).errorCode).toBe(errorCode);
    },
  );

  it.each([
    {
      name: "empty group, empty protocol type",
      group: "empty",
      protocolType: "",
      protocols: range,
      errorCode: 23,
    },
    {
      name: "empty group, no protocols",
      group: "empty",
      protocolType: "consumer",
      protocols: [],
      errorCode: 23,
    },
    {
      name: "another protocol type",
      group: "stable",
      protocolType: "connect",
      protocols: range,
      errorCode: 23,
    },
    {
      name: "no protocol every member supports",
      group: "stable",
      protocolType: "consumer",
      protocols: [{ name: "sticky", metadata: "" }],
      errorCode: 23,
    },
    {
      name: "one protocol in common is enough",
      group: "stable",
      protocolType: "consumer",
      protocols: [{ name: "sticky", metadata: "" }, ...range],
      errorCode: null,
    },
  ])(
    "a join with no protocol the group can use is INCONSISTENT_GROUP_PROTOCOL: $name",
    ({ group, protocolType, protocols, errorCode }) => {
      const initial = group === "empty" ? start() : stable({ groupMaxSize: 4 });
      const { snapshot, effects } = run(
        initial,
        join({ requestId: 1, apiVersion: 3, protocolType, protocols }),
      );
      if (errorCode === null) {
        expect(joinAnswers(effects)).toEqual([]);
        expect(snapshot.value).toBe("PreparingRebalance");
      } else {
        expect(only(joinAnswers(effects))).toMatchObject({ errorCode, memberId: "" });
        expect(snapshot.context).toEqual(initial.context);
      }
    },
  );

  it.each([
    { state: "Empty", group: () => start() },
    { state: "PreparingRebalance", group: () => preparing(roomy) },
    { state: "CompletingRebalance", group: () => completing(roomy) },
    { state: "Stable", group: () => stable(roomy) },
  ])("a join naming an unknown member id is UNKNOWN_MEMBER_ID ($state)", ({ group }) => {
    const initial = group();
    const { snapshot, effects } = run(initial, join({ requestId: 9, memberId: "gone" }));
    expect(only(joinAnswers(effects))).toMatchObject({
      errorCode: Code.UNKNOWN_MEMBER_ID,
      memberId: "gone",
    });
    expect([snapshot.value, snapshot.context]).toEqual([initial.value, initial.context]);
  });

  it("a static member naming a member id its instance no longer has is FENCED_INSTANCE_ID", () => {
    const initial = stable(roomy);
    const { snapshot, effects } = run(initial, join({ requestId: 9, memberId: "s0", groupInstanceId: "s" }));
    expect(only(joinAnswers(effects))).toMatchObject({ errorCode: Code.FENCED_INSTANCE_ID, memberId: "s0" });
    expect(snapshot.context).toEqual(initial.context);
  });

  it("a static member starting again in a stable group replaces its old id in place, answered once the new id is stored", () => {
    const restart = join({ requestId: 9, groupInstanceId: "s", newMemberId: "s2", apiVersion: 9, nowMs: 20 });
    const replaced = run(stable(roomy), restart);
    expect(replaced.snapshot.value).toBe("Stable");
    expect(replaced.effects).toEqual([
      {
        type: "persistGroup",
        params: expect.objectContaining({
          groupId: "orders",
          generationId: 3,
          leaderId: "a1",
          members: [
            expect.objectContaining({ memberId: "a1", assignment: "A" }),
            expect.objectContaining({ memberId: "b1", assignment: "B" }),
            expect.objectContaining({ memberId: "s2", groupInstanceId: "s", assignment: "S" }),
          ],
        }),
      },
    ]);
    // The old id is fenced at once.
    const fenced = run(replaced.snapshot, heartbeat(10, "s1", 3, 20, "s"));
    expect(fenced.effects).toEqual([
      { type: "answerHeartbeat", params: { requestId: 10, errorCode: Code.FENCED_INSTANCE_ID } },
    ]);
    const answered = run(replaced.snapshot, persisted(3));
    expect(only(joinAnswers(answered.effects))).toEqual({
      requestId: 9,
      errorCode: Code.NONE,
      memberId: "s2",
      generationId: 3,
      protocolType: "consumer",
      protocolName: "range",
      leaderId: "a1",
      skipAssignment: false,
      members: [],
    });
    expect(answered.snapshot.context.persistingStaticJoin).toBeNull();
    expect(answered.snapshot.context.members.every((member) => member.joinRequestId === null)).toBe(true);
  });

  it.each([
    { apiVersion: 9, leaderId: "s2", skipAssignment: true, members: 3 },
    { apiVersion: 5, leaderId: "s1", skipAssignment: false, members: 0 },
  ])(
    "a static leader replaced in place learns it leads and skips the assignment from v9; v$apiVersion is told leader $leaderId",
    ({ apiVersion, leaderId, skipAssignment, members }) => {
      const restart = join({ requestId: 9, groupInstanceId: "s", newMemberId: "s2", apiVersion });
      const group = stable({ ...roomy, storedGroup: storedGroup({ leaderId: "s1" }) });
      const { snapshot, effects } = run(group, restart, persisted(3));
      expect(snapshot.context.leaderId).toBe("s2");
      const answer = only(joinAnswers(effects));
      expect(answer).toMatchObject({ memberId: "s2", leaderId, skipAssignment });
      expect(answer.members).toHaveLength(members);
    },
  );

  it("a static member starting again with protocols that change the group's choice rebalances instead", () => {
    const group = stable({ storedGroup: storedGroup({ leaderId: "s1", members: [stored("s1", "s", "S")] }) });
    const roundRobinFirst: JoinProtocol[] = [{ name: "roundrobin", metadata: "" }, ...range];
    const { snapshot, effects } = run(
      group,
      join({ requestId: 9, groupInstanceId: "s", newMemberId: "s2", protocols: roundRobinFirst }),
    );
    // Its only member waits in a join: the rebalance completes at once, with the new choice.
    expect(snapshot.value).toBe("CompletingRebalance");
    expect(snapshot.context).toMatchObject({ generationId: 4, protocolName: "roundrobin", leaderId: "s2" });
    expect(effects.map((effect) => effect.type)).toEqual(["answerJoin"]);
  });

  it("a failed write of a static member's new id brings the old id back and answers the join with the error", () => {
    const restart = join({ requestId: 9, groupInstanceId: "s", newMemberId: "s2", sessionTimeoutMs: 300 });
    const failed = run(stable(roomy), restart, {
      type: "group.persistFailed",
      generationId: 3,
      errorCode: Code.NOT_LEADER_OR_FOLLOWER,
      nowMs: 0,
    });
    expect(failed.snapshot.value).toBe("Stable");
    expect(only(joinAnswers(failed.effects))).toMatchObject({
      requestId: 9,
      errorCode: Code.NOT_COORDINATOR,
      memberId: "",
      generationId: 3,
      leaderId: "a1",
    });
    expect(failed.snapshot.context.members.map((member) => member.memberId)).toEqual(["a1", "b1", "s1"]);
    expect(failed.snapshot.context.members[2]).toMatchObject({ sessionTimeoutMs: 200, joinRequestId: null });
    const alive = run(failed.snapshot, heartbeat(10, "s1", 3, 0, "s"));
    expect(alive.effects).toEqual([
      { type: "answerHeartbeat", params: { requestId: 10, errorCode: Code.NONE } },
    ]);
  });

  it("a static member starting again during a rebalance replaces the old id, whose waiting join is fenced", () => {
    const { snapshot, effects } = run(
      preparing(),
      join({ requestId: 103, memberId: "s1", groupInstanceId: "s" }),
      join({ requestId: 9, groupInstanceId: "s", newMemberId: "s2" }),
    );
    expect(only(joinAnswers(effects))).toMatchObject({
      requestId: 103,
      errorCode: Code.FENCED_INSTANCE_ID,
      memberId: "s1",
    });
    expect(snapshot.value).toBe("PreparingRebalance");
    expect(snapshot.context.members.find((member) => member.groupInstanceId === "s")).toMatchObject({
      memberId: "s2",
      joinRequestId: 9,
      assignment: "S",
    });
  });

  it("a static member starting again while the group completes fences the old id's sync and rebalances", () => {
    const { snapshot, effects } = run(
      completing(roomy),
      sync({ requestId: 20, memberId: "s1", groupInstanceId: "s", generationId: 4 }),
      sync({ requestId: 21, memberId: "b1", generationId: 4 }),
      join({ requestId: 9, groupInstanceId: "s", newMemberId: "s2" }),
    );
    expect(syncAnswers(effects).map((answer) => [answer.requestId, answer.errorCode])).toEqual([
      [20, Code.FENCED_INSTANCE_ID],
      [21, Code.REBALANCE_IN_PROGRESS],
    ]);
    expect(snapshot.value).toBe("PreparingRebalance");
  });

  it.each([
    {
      name: "a new member in a stable group at groupMaxSize",
      group: () => stable(),
      event: join({ requestId: 9, apiVersion: 3 }),
    },
    {
      name: "a static member starting again in a full group (Kafka counts it as new)",
      group: () => stable(),
      event: join({ requestId: 9, groupInstanceId: "s", newMemberId: "s2" }),
    },
    {
      name: "a new member while groupMaxSize members wait in a join",
      // Restored above the limit: it rebalances at once; two of its three members have rejoined.
      group: () =>
        run(
          stable({ groupMaxSize: 2 }),
          join({ requestId: 1, memberId: "a1" }),
          join({ requestId: 2, memberId: "b1" }),
        ).snapshot,
      event: join({ requestId: 9, apiVersion: 3 }),
    },
  ])("GROUP_MAX_SIZE_REACHED: $name", ({ group, event }) => {
    const initial = group();
    const { snapshot, effects } = run(initial, event);
    expect(only(joinAnswers(effects))).toMatchObject({
      errorCode: Code.GROUP_MAX_SIZE_REACHED,
      memberId: "",
    });
    expect(snapshot.context.members).toEqual(initial.context.members);
  });

  it("a group restored above groupMaxSize rebalances, and members beyond the limit are dropped when they rejoin", () => {
    const restored = stable({ groupMaxSize: 2 });
    expect(restored.value).toBe("PreparingRebalance");
    expect(restored.context.rebalanceDeadlineMs).toBe(400);
    const { snapshot, effects } = run(
      restored,
      join({ requestId: 1, memberId: "a1" }),
      join({ requestId: 2, memberId: "b1" }),
      join({ requestId: 3, memberId: "s1", groupInstanceId: "s" }),
    );
    // s1 is dropped, and everyone left has joined: the phase completes.
    expect(joinAnswers(effects).map((answer) => [answer.requestId, answer.errorCode])).toEqual([
      [3, Code.GROUP_MAX_SIZE_REACHED],
      [1, Code.NONE],
      [2, Code.NONE],
    ]);
    expect(snapshot.value).toBe("CompletingRebalance");
    expect(snapshot.context.members.map((member) => member.memberId)).toEqual(["a1", "b1"]);
  });

  it.each([
    {
      name: "a follower, unchanged: the current generation at once",
      memberId: "b1",
      protocols: range,
      state: "Stable",
    },
    {
      name: "the leader, unchanged: a rebalance",
      memberId: "a1",
      protocols: range,
      state: "PreparingRebalance",
    },
    {
      name: "a follower with other metadata: a rebalance",
      memberId: "b1",
      protocols: rangeChanged,
      state: "PreparingRebalance",
    },
  ])("a member rejoining a stable group: $name", ({ memberId, protocols, state }) => {
    const { snapshot, effects } = run(stable(), join({ requestId: 9, memberId, protocols }));
    expect(snapshot.value).toBe(state);
    if (state === "Stable") {
      expect(only(joinAnswers(effects))).toEqual({
        requestId: 9,
        errorCode: Code.NONE,
        memberId,
        generationId: 3,
        protocolType: "consumer",
        protocolName: "range",
        leaderId: "a1",
        skipAssignment: false,
        members: [],
      });
    } else {
      expect(effects).toEqual([]);
      expect(snapshot.context.rebalanceDeadlineMs).toBe(400);
    }
  });

  it.each([
    { memberId: "a1", members: 3 },
    { memberId: "b1", members: 0 },
  ])(
    "a member rejoining a completing group unchanged gets the generation again ($memberId, $members members listed)",
    ({ memberId, members }) => {
      const { snapshot, effects } = run(completing(), join({ requestId: 9, memberId }));
      expect(snapshot.value).toBe("CompletingRebalance");
      const answer = only(joinAnswers(effects));
      expect(answer).toMatchObject({ errorCode: Code.NONE, generationId: 4, leaderId: "a1" });
      expect(answer.members).toHaveLength(members);
    },
  );

  it("the join phase waits for every member and completes when the last one joins; the leader gets everyone's metadata", () => {
    const waiting = run(preparing(), join({ requestId: 102, memberId: "b1", nowMs: 5 }));
    expect(waiting.snapshot.value).toBe("PreparingRebalance");
    expect(waiting.effects).toEqual([]);
    const done = run(
      waiting.snapshot,
      join({ requestId: 103, memberId: "s1", groupInstanceId: "s", nowMs: 7 }),
    );
    expect(done.snapshot.value).toBe("CompletingRebalance");
    expect(done.snapshot.context).toMatchObject({
      generationId: 4,
      protocolName: "range",
      leaderId: "a1",
      pendingSyncMemberIds: ["a1", "b1", "s1"],
      syncDeadlineMs: 407,
    });
    const answers = joinAnswers(done.effects);
    expect(answers.map((answer) => [answer.requestId, answer.memberId, answer.generationId])).toEqual([
      [101, "a1", 4],
      [102, "b1", 4],
      [103, "s1", 4],
    ]);
    expect(answers[0]!.members).toEqual([
      { memberId: "a1", groupInstanceId: null, metadata: "r" },
      { memberId: "b1", groupInstanceId: null, metadata: "r" },
      { memberId: "s1", groupInstanceId: "s", metadata: "r" },
    ]);
    expect(answers[1]!.members).toEqual([]);
    expect(done.snapshot.context.members.map((member) => member.sessionDeadlineMs)).toEqual([207, 207, 207]);
  });

  it("at the rebalance timeout, dynamic members that did not rejoin are removed; static ones stay", () => {
    const { snapshot, effects } = run(
      preparing(),
      heartbeat(1, "b1", 3, 150),
      heartbeat(2, "s1", 3, 150, "s"),
      heartbeat(3, "b1", 3, 300),
      heartbeat(4, "s1", 3, 300, "s"),
      tick(400),
    );
    expect(snapshot.value).toBe("CompletingRebalance");
    expect(snapshot.context.members.map((member) => member.memberId)).toEqual(["a1", "s1"]);
    expect(joinAnswers(effects).map((answer) => answer.requestId)).toEqual([101]);
    expect(snapshot.context.pendingSyncMemberIds).toEqual(["a1", "s1"]);
  });

  it("with no member rejoined and only static members left, the phase waits another rebalance timeout", () => {
    const group = stable({
      storedGroup: storedGroup({ leaderId: "s1", members: [stored("s1", "s"), stored("t1", "t")] }),
    });
    const { snapshot } = run(
      group,
      join({ requestId: 1, memberId: "s1", groupInstanceId: "s", protocols: rangeChanged }),
      leave(2, [{ memberId: "s1", groupInstanceId: "s" }]),
      heartbeat(3, "t1", 3, 150, "t"),
      heartbeat(4, "t1", 3, 300, "t"),
      tick(400),
    );
    expect(snapshot.value).toBe("PreparingRebalance");
    expect(snapshot.context).toMatchObject({ generationId: 3, leaderId: "t1", rebalanceDeadlineMs: 800 });
  });

  it("the initial rebalance waits groupInitialRebalanceDelayMs, extended while members keep joining, up to the rebalance timeout", () => {
    const joinAt = (requestId: number, nowMs: number) =>
      join({ requestId, apiVersion: 3, rebalanceTimeoutMs: 200, nowMs });
    let group = run(start({ groupMaxSize: 10 }), joinAt(1, 0)).snapshot;
    expect(group.context.initialRebalance).toEqual({
      deadlineMs: 50,
      delayMs: 50,
      remainingMs: 150,
      newMemberAdded: false,
    });
    const deadlines: Array<[number, number]> = [];
    for (const [requestId, joinMs, tickMs] of [
      [2, 10, 50],
      [3, 60, 100],
      [4, 120, 150],
      [5, 160, 200],
    ] as const) {
      group = run(group, joinAt(requestId, joinMs), tick(tickMs)).snapshot;
      deadlines.push([
        group.context.initialRebalance?.deadlineMs ?? -1,
        group.context.initialRebalance?.remainingMs ?? -1,
      ]);
    }
    // Extended at 50, 100 and 150; at 200 the rebalance timeout is used up and the phase completes.
    expect(deadlines).toEqual([
      [100, 100],
      [150, 50],
      [200, 0],
      [-1, -1],
    ]);
    expect(group.value).toBe("CompletingRebalance");
    expect(group.context.members).toHaveLength(5);
  });

  it("the initial rebalance completes after one delay when nobody else joins, and not before, although everyone has joined", () => {
    const joined = run(start(), join({ requestId: 1, apiVersion: 3 }), tick(49));
    expect(joined.snapshot.value).toBe("PreparingRebalance");
    const { snapshot, effects } = run(joined.snapshot, tick(50));
    expect(snapshot.value).toBe("CompletingRebalance");
    expect(only(joinAnswers(effects))).toMatchObject({ requestId: 1, generationId: 1, leaderId: "new-1" });
  });

  it.each([
    { name: "kept when it rejoined", rejoin: ["s1", "b1"], leaderId: "s1" },
    { name: "the first member that rejoined when it did not", rejoin: ["b1", "a1"], leaderId: "a1" },
  ])("the leader of the next generation: $name", ({ rejoin, leaderId }) => {
    // s1 leads and is static: when it does not rejoin it stays a member, but no longer leads.
    const group = stable({ storedGroup: storedGroup({ leaderId: "s1" }) });
    const joins = rejoin.map((memberId, index) =>
      join({
        requestId: index + 1,
        memberId,
        groupInstanceId: memberId === "s1" ? "s" : null,
        protocols: rangeChanged,
      }),
    );
    const keepAlive = ["a1", "b1", "s1"]
      .filter((memberId) => !rejoin.includes(memberId))
      .flatMap((memberId) =>
        [150, 300].map((nowMs) => heartbeat(9, memberId, 3, nowMs, memberId === "s1" ? "s" : null)),
      );
    const { snapshot } = run(group, ...joins, ...keepAlive, tick(400));
    expect(snapshot.value).toBe("CompletingRebalance");
    expect(snapshot.context.leaderId).toBe(leaderId);
  });

  it("a second join from the same member replaces the first, which is answered REBALANCE_IN_PROGRESS", () => {
    const { snapshot, effects } = run(preparing(), join({ requestId: 111, memberId: "a1" }));
    expect(effects).toEqual([
      {
        type: "answerJoin",
        params: expect.objectContaining({
          requestId: 101,
          errorCode: Code.REBALANCE_IN_PROGRESS,
          memberId: "a1",
        }),
      },
    ]);
    expect(snapshot.context.members[0]!.joinRequestId).toBe(111);
  });
});

describe("protocol selection", () => {
  const rangeFirst = [
    { name: "range", metadata: "" },
    { name: "roundrobin", metadata: "" },
  ];
  const roundRobinFirst = [
    { name: "roundrobin", metadata: "" },
    { name: "range", metadata: "" },
  ];
  it.each([
    {
      name: "the most votes win",
      preferences: [rangeFirst, roundRobinFirst, roundRobinFirst],
      leader: 0,
      chosen: "roundrobin",
    },
    {
      name: "a tie goes to the leader's preference",
      preferences: [rangeFirst, roundRobinFirst],
      leader: 0,
      chosen: "range",
    },
    {
      name: "a tie goes to the leader's preference (other leader)",
      preferences: [rangeFirst, roundRobinFirst],
      leader: 1,
      chosen: "roundrobin",
    },
    {
      name: "only protocols every member supports are candidates",
      preferences: [[{ name: "sticky", metadata: "" }, ...rangeFirst], rangeFirst],
      leader: 0,
      chosen: "range",
    },
  ])("selectProtocol: $name", ({ preferences, leader, chosen }) => {
    const context = stable().context;
    const members = preferences.map((protocols, index) => ({
      ...context.members[0]!,
      memberId: `m${index}`,
      protocols,
    }));
    expect(selectProtocol({ ...context, members, leaderId: `m${leader}` })).toBe(chosen);
  });
});

describe("SyncGroup", () => {
  it.each([
    {
      name: "an empty group",
      group: () => start(),
      request: { memberId: "a1" },
      errorCode: Code.UNKNOWN_MEMBER_ID,
    },
    {
      name: "a rebalance in progress",
      group: preparing,
      request: { memberId: "b1" },
      errorCode: Code.REBALANCE_IN_PROGRESS,
    },
    {
      name: "another generation",
      group: completing,
      request: { memberId: "b1", generationId: 3 },
      errorCode: Code.ILLEGAL_GENERATION,
    },
    {
      name: "an unknown member",
      group: () => stable(),
      request: { memberId: "gone" },
      errorCode: Code.UNKNOWN_MEMBER_ID,
    },
    {
      name: "a fenced instance",
      group: () => stable(),
      request: { memberId: "s0", groupInstanceId: "s" },
      errorCode: Code.FENCED_INSTANCE_ID,
    },
    {
      name: "another protocol type (v5)",
      group: () => stable(),
      request: { memberId: "b1", protocolType: "connect" },
      errorCode: Code.INCONSISTENT_GROUP_PROTOCOL,
    },
    {
      name: "another protocol name (v5)",
      group: () => stable(),
      request: { memberId: "b1", protocolName: "roundrobin" },
      errorCode: Code.INCONSISTENT_GROUP_PROTOCOL,
    },
    {
      name: "no protocol named (before v5)",
      group: () => stable(),
      request: { memberId: "b1", protocolType: null, protocolName: null },
      errorCode: Code.NONE,
    },
  ])("SyncGroup answers at once: $name", ({ group, request, errorCode }) => {
    const { effects } = run(group(), sync({ requestId: 9, ...request }));
    expect(only(syncAnswers(effects))).toMatchObject({ requestId: 9, errorCode });
  });

  it("the leader's assignment is written before any member sees it; waiting syncs are answered once it is stored", () => {
    const leaderSync = sync({
      requestId: 21,
      memberId: "a1",
      generationId: 4,
      assignments: [
        { memberId: "b1", assignment: "old" },
        { memberId: "a1", assignment: "A4" },
        { memberId: "b1", assignment: "B4" },
        { memberId: "gone", assignment: "X" },
      ],
    });
    const written = run(completing(), sync({ requestId: 22, memberId: "b1", generationId: 4 }), leaderSync);
    expect(written.snapshot.value).toBe("CompletingRebalance");
    expect(written.effects).toEqual([
      {
        type: "persistGroup",
        params: expect.objectContaining({
          generationId: 4,
          members: [
            expect.objectContaining({ memberId: "a1", assignment: "A4" }),
            expect.objectContaining({ memberId: "b1", assignment: "B4" }),
            expect.objectContaining({ memberId: "s1", assignment: "" }),
          ],
        }),
      },
    ]);
    const stored = run(
      written.snapshot,
      sync({ requestId: 23, memberId: "s1", groupInstanceId: "s", generationId: 4 }),
      { type: "group.persisted", generationId: 4, nowMs: 30 },
    );
    expect(stored.snapshot.value).toBe("Stable");
    expect(syncAnswers(stored.effects)).toEqual([
      { requestId: 21, errorCode: 0, protocolType: "consumer", protocolName: "range", assignment: "A4" },
      { requestId: 22, errorCode: 0, protocolType: "consumer", protocolName: "range", assignment: "B4" },
      { requestId: 23, errorCode: 0, protocolType: "consumer", protocolName: "range", assignment: "" },
    ]);
    expect(stored.snapshot.context.members.map((member) => member.sessionDeadlineMs)).toEqual([
      230, 230, 230,
    ]);
    expect(stored.snapshot.context.syncDeadlineMs).toBeNull();
  });

  it.each([
    { appendError: Code.NOT_LEADER_OR_FOLLOWER, answered: Code.NOT_COORDINATOR },
    { appendError: Code.KAFKA_STORAGE_ERROR, answered: Code.NOT_COORDINATOR },
    { appendError: Code.UNKNOWN_TOPIC_OR_PARTITION, answered: Code.COORDINATOR_NOT_AVAILABLE },
    { appendError: Code.NOT_ENOUGH_REPLICAS, answered: Code.COORDINATOR_NOT_AVAILABLE },
    { appendError: Code.REQUEST_TIMED_OUT, answered: Code.COORDINATOR_NOT_AVAILABLE },
    { appendError: Code.MESSAGE_TOO_LARGE, answered: Code.UNKNOWN_SERVER_ERROR },
    { appendError: Code.RECORD_LIST_TOO_LARGE, answered: Code.UNKNOWN_SERVER_ERROR },
    { appendError: Code.INVALID_FETCH_SIZE, answered: Code.UNKNOWN_SERVER_ERROR },
    { appendError: Code.COORDINATOR_LOAD_IN_PROGRESS, answered: Code.COORDINATOR_LOAD_IN_PROGRESS },
  ])(
    "a failed write of the assignment answers the waiting syncs with the write's error ($appendError -> $answered) and rebalances",
    ({ appendError, answered }) => {
      const { snapshot, effects } = run(
        completing(),
        sync({
          requestId: 21,
          memberId: "a1",
          generationId: 4,
          assignments: [{ memberId: "a1", assignment: "A4" }],
        }),
        sync({ requestId: 22, memberId: "b1", generationId: 4 }),
        { type: "group.persistFailed", generationId: 4, errorCode: appendError, nowMs: 0 },
      );
      expect(snapshot.value).toBe("PreparingRebalance");
      expect(syncAnswers(effects).map((answer) => [answer.requestId, answer.errorCode])).toEqual([
        [21, answered],
        [22, answered],
      ]);
      expect(snapshot.context.members.map((member) => member.assignment)).toEqual(["", "", ""]);
    },
  );

  it("an answer to another generation's write changes nothing", () => {
    const written = run(completing(), sync({ requestId: 21, memberId: "a1", generationId: 4 })).snapshot;
    const [after, actions] = transition(consumerGroupMachine, written, persisted(3));
    expect(after).toBe(written);
    expect(actions).toEqual([]);
  });

  it("a stable group answers a sync at once with the member's assignment and restarts its session", () => {
    const { snapshot, effects } = run(stable(), sync({ requestId: 9, memberId: "b1", nowMs: 50 }));
    expect(only(syncAnswers(effects))).toEqual({
      requestId: 9,
      errorCode: 0,
      protocolType: "consumer",
      protocolName: "range",
      assignment: "B",
    });
    expect(snapshot.context.members[1]!.sessionDeadlineMs).toBe(250);
  });

  it("members that have not synced within the rebalance timeout are removed and the group rebalances", () => {
    const { snapshot } = run(
      completing(),
      sync({ requestId: 21, memberId: "a1", generationId: 4 }),
      persisted(4),
      heartbeat(1, "a1", 4, 150),
      heartbeat(2, "b1", 4, 150),
      heartbeat(3, "s1", 4, 150, "s"),
      heartbeat(4, "a1", 4, 300),
      heartbeat(5, "b1", 4, 300),
      heartbeat(6, "s1", 4, 300, "s"),
      tick(400),
    );
    expect(snapshot.value).toBe("PreparingRebalance");
    expect(snapshot.context.members.map((member) => member.memberId)).toEqual(["a1"]);
    expect(snapshot.context.rebalanceDeadlineMs).toBe(800);
  });
});

describe("Heartbeat", () => {
  it.each([
    {
      state: "Empty",
      group: () => start(),
      memberId: "a1",
      generationId: 3,
      errorCode: Code.UNKNOWN_MEMBER_ID,
      restarts: false,
    },
    {
      state: "PreparingRebalance",
      group: preparing,
      memberId: "b1",
      generationId: 3,
      errorCode: Code.REBALANCE_IN_PROGRESS,
      restarts: true,
    },
    {
      state: "CompletingRebalance",
      group: completing,
      memberId: "b1",
      generationId: 4,
      errorCode: Code.NONE,
      restarts: true,
    },
    {
      state: "Stable",
      group: () => stable(),
      memberId: "b1",
      generationId: 3,
      errorCode: Code.NONE,
      restarts: true,
    },
    {
      state: "Stable",
      group: () => stable(),
      memberId: "b1",
      generationId: 2,
      errorCode: Code.ILLEGAL_GENERATION,
      restarts: false,
    },
  ])(
    "a heartbeat in $state from generation $generationId is answered $errorCode",
    ({ group, memberId, generationId, errorCode, restarts }) => {
      const { snapshot, effects } = run(group(), heartbeat(9, memberId, generationId, 50));
      expect(effects).toEqual([{ type: "answerHeartbeat", params: { requestId: 9, errorCode } }]);
      const member = snapshot.context.members.find((candidate) => candidate.memberId === memberId);
      if (restarts) expect(member?.sessionDeadlineMs).toBe(250);
      else expect(member?.sessionDeadlineMs ?? null).not.toBe(250);
    },
  );

  it("a member whose session ends is removed and the group rebalances", () => {
    const { snapshot } = run(stable(), heartbeat(1, "a1", 3, 100), heartbeat(2, "b1", 3, 100), tick(200));
    expect(snapshot.value).toBe("PreparingRebalance");
    expect(snapshot.context.members.map((member) => member.memberId)).toEqual(["a1", "b1"]);
    expect(snapshot.context.rebalanceDeadlineMs).toBe(600);
  });

  it("a member waiting in a join is not expired at its session's end, unless it is new", () => {
    const { snapshot, effects } = run(
      preparing(),
      join({ requestId: 7, apiVersion: 3, newMemberId: "c1" }),
      heartbeat(1, "b1", 3, 150),
      heartbeat(2, "s1", 3, 150, "s"),
      tick(300),
    );
    // a1 waits (its session ended at 200); c1 is new and its 300 ms join timeout ended.
    expect(snapshot.value).toBe("PreparingRebalance");
    expect(snapshot.context.members.map((member) => member.memberId)).toEqual(["a1", "b1", "s1"]);
    expect(only(joinAnswers(effects))).toMatchObject({
      requestId: 7,
      errorCode: Code.UNKNOWN_MEMBER_ID,
      memberId: "",
    });
  });
});

describe("LeaveGroup", () => {
  it("a member leaving a stable group starts a rebalance", () => {
    const { snapshot, effects } = run(stable(), leave(9, [{ memberId: "b1", groupInstanceId: null }]));
    expect(snapshot.value).toBe("PreparingRebalance");
    expect(effects).toEqual([
      {
        type: "answerLeave",
        params: {
          requestId: 9,
          errorCode: 0,
          members: [{ memberId: "b1", groupInstanceId: null, errorCode: 0 }],
        },
      },
    ]);
  });

  it("a batch (v3+) answers each member on its own: static members by instance id, pending ones, unknown ids", () => {
    const withPending = run(stable({ groupMaxSize: 4 }), join({ requestId: 1, newMemberId: "p1" })).snapshot;
    const { snapshot, effects } = run(
      withPending,
      leave(9, [
        { memberId: "", groupInstanceId: "s" },
        { memberId: "p1", groupInstanceId: null },
        { memberId: "gone", groupInstanceId: null },
        { memberId: "s1", groupInstanceId: "s" },
        { memberId: "", groupInstanceId: null },
        { memberId: "b1", groupInstanceId: "t" },
      ]),
    );
    expect(only(effects.filter((effect) => effect.type === "answerLeave")).params).toEqual({
      requestId: 9,
      errorCode: 0,
      members: [
        { memberId: "", groupInstanceId: "s", errorCode: Code.NONE },
        { memberId: "p1", groupInstanceId: null, errorCode: Code.NONE },
        { memberId: "gone", groupInstanceId: null, errorCode: Code.UNKNOWN_MEMBER_ID },
        { memberId: "s1", groupInstanceId: "s", errorCode: Code.UNKNOWN_MEMBER_ID },
        { memberId: "", groupInstanceId: null, errorCode: Code.UNKNOWN_MEMBER_ID },
        { memberId: "b1", groupInstanceId: "t", errorCode: Code.UNKNOWN_MEMBER_ID },
      ],
    });
    expect(snapshot.value).toBe("PreparingRebalance");
    expect(snapshot.context.members.map((member) => member.memberId)).toEqual(["a1", "b1"]);
    expect(snapshot.context.pendingMembers).toEqual([]);
  });

  it("a static member leaving with a member id its instance no longer has is FENCED_INSTANCE_ID", () => {
    const initial = stable();
    const { snapshot, effects } = run(initial, leave(9, [{ memberId: "s0", groupInstanceId: "s" }]));
    expect(only(effects).params).toMatchObject({ members: [{ errorCode: Code.FENCED_INSTANCE_ID }] });
    expect(snapshot.value).toBe("Stable");
  });

  it("a pending member leaving does not rebalance a stable group", () => {
    const withPending = run(stable({ groupMaxSize: 4 }), join({ requestId: 1, newMemberId: "p1" })).snapshot;
    const { snapshot } = run(withPending, leave(9, [{ memberId: "p1", groupInstanceId: null }]));
    expect(snapshot.value).toBe("Stable");
    expect(snapshot.context.pendingMembers).toEqual([]);
  });

  it("the last members leaving leave the group empty at the next generation, which is written", () => {
    const { snapshot, effects } = run(
      stable(),
      leave(9, [
        { memberId: "a1", groupInstanceId: null },
        { memberId: "b1", groupInstanceId: null },
        { memberId: "", groupInstanceId: "s" },
      ]),
    );
    expect(snapshot.value).toBe("Empty");
    expect(snapshot.context).toMatchObject({
      generationId: 4,
      protocolType: "consumer",
      protocolName: null,
      leaderId: null,
    });
    expect(effects.map((effect) => effect.type)).toEqual(["answerLeave", "persistGroup"]);
    expect(effects[1]!.params).toEqual({
      groupId: "orders",
      generationId: 4,
      protocolType: "consumer",
      protocolName: null,
      leaderId: null,
      members: [],
    });
  });

  it("a member leaving during a rebalance gets UNKNOWN_MEMBER_ID in its waiting join, and the phase completes when the rest have joined", () => {
    const { snapshot, effects } = run(
      preparing(),
      join({ requestId: 102, memberId: "b1" }),
      leave(9, [{ memberId: "a1", groupInstanceId: null }]),
      leave(10, [{ memberId: "", groupInstanceId: "s" }]),
    );
    expect(
      joinAnswers(effects).map((answer) => [answer.requestId, answer.errorCode, answer.generationId]),
    ).toEqual([
      [101, Code.UNKNOWN_MEMBER_ID, -1],
      [102, Code.NONE, 4],
    ]);
    expect(snapshot.value).toBe("CompletingRebalance");
    expect(snapshot.context.leaderId).toBe("b1");
  });

  it("a member leaving a completing group: waiting syncs get REBALANCE_IN_PROGRESS, its own UNKNOWN_MEMBER_ID", () => {
    const { snapshot, effects } = run(
      completing(),
      sync({ requestId: 21, memberId: "b1", generationId: 4 }),
      sync({ requestId: 22, memberId: "s1", groupInstanceId: "s", generationId: 4 }),
      leave(9, [{ memberId: "s1", groupInstanceId: "s" }]),
    );
    expect(syncAnswers(effects).map((answer) => [answer.requestId, answer.errorCode])).toEqual([
      [22, Code.UNKNOWN_MEMBER_ID],
      [21, Code.REBALANCE_IN_PROGRESS],
    ]);
    expect(snapshot.value).toBe("PreparingRebalance");
  });
});

describe("OffsetCommit", () => {
  it.each([
    {
      name: "an admin commit (generation -1) to an empty group",
      group: () => start(),
      memberId: "",
      generationId: -1,
      instance: null,
      errorCode: null,
    },
    {
      name: "generation -1 with a member id to an empty group",
      group: () => start(),
      memberId: "x",
      generationId: -1,
      instance: null,
      errorCode: null,
    },
    {
      name: "a generation to an empty group",
      group: () => start(),
      memberId: "x",
      generationId: 0,
      instance: null,
      errorCode: Code.UNKNOWN_MEMBER_ID,
    },
    {
      name: "an admin commit to a group with members",
      group: () => stable(),
      memberId: "",
      generationId: -1,
      instance: null,
      errorCode: Code.UNKNOWN_MEMBER_ID,
    },
    {
      name: "a member of the current generation",
      group: () => stable(),
      memberId: "b1",
      generationId: 3,
      instance: null,
      errorCode: null,
    },
    {
      name: "a member of another generation",
      group: () => stable(),
      memberId: "b1",
      generationId: 2,
      instance: null,
      errorCode: Code.ILLEGAL_GENERATION,
    },
    {
      name: "a fenced instance",
      group: () => stable(),
      memberId: "s0",
      generationId: 3,
      instance: "s",
      errorCode: Code.FENCED_INSTANCE_ID,
    },
    {
      name: "a member during a rebalance, before rejoining",
      group: preparing,
      memberId: "b1",
      generationId: 3,
      instance: null,
      errorCode: null,
    },
    {
      name: "a member of the new generation before the assignment",
      group: completing,
      memberId: "b1",
      generationId: 4,
      instance: null,
      errorCode: Code.REBALANCE_IN_PROGRESS,
    },
    {
      name: "a member of the old generation before the assignment",
      group: completing,
      memberId: "b1",
      generationId: 3,
      instance: null,
      errorCode: Code.ILLEGAL_GENERATION,
    },
  ])("OffsetCommit: $name", ({ group, memberId, generationId, instance, errorCode }) => {
    const { effects } = run(group(), commit(9, memberId, generationId, instance));
    expect(effects).toEqual([
      errorCode === null
        ? { type: "acceptOffsetCommit", params: { requestId: 9 } }
        : { type: "refuseOffsetCommit", params: { requestId: 9, errorCode } },
    ]);
  });
});

describe("DeleteGroups and unloading", () => {
  it.each([
    { state: "PreparingRebalance", group: preparing },
    { state: "CompletingRebalance", group: completing },
    { state: "Stable", group: () => stable() },
  ])("only an empty group can be deleted: NON_EMPTY_GROUP in $state", ({ state, group }) => {
    const { snapshot, effects } = run(group(), { type: "group.deleteRequested", requestId: 9 });
    expect(snapshot.value).toBe(state);
    expect(effects).toEqual([
      { type: "answerDelete", params: { requestId: 9, errorCode: Code.NON_EMPTY_GROUP } },
    ]);
  });

  it("deleting an empty group writes its tombstone, then answers", () => {
    const { snapshot, effects } = run(start(), { type: "group.deleteRequested", requestId: 9 });
    expect(snapshot.status).toBe("done");
    expect(effects).toEqual([
      { type: "writeGroupTombstone", params: { groupId: "orders" } },
      { type: "answerDelete", params: { requestId: 9, errorCode: Code.NONE } },
    ]);
  });

  it.each([
    {
      name: "waiting joins",
      group: () => run(preparing(), join({ requestId: 102, memberId: "b1" })).snapshot,
      joins: [101, 102],
      syncs: [],
    },
    {
      name: "waiting syncs",
      group: () => run(completing(), sync({ requestId: 21, memberId: "a1", generationId: 4 })).snapshot,
      joins: [],
      syncs: [21],
    },
    {
      name: "a static member's join waiting for its write",
      group: () =>
        run(stable(roomy), join({ requestId: 9, groupInstanceId: "s", newMemberId: "s2" })).snapshot,
      joins: [9],
      syncs: [],
    },
    { name: "nothing waiting", group: () => start(), joins: [], syncs: [] },
  ])(
    "when the coordinator unloads the group, every waiting request gets NOT_COORDINATOR: $name",
    ({ group, joins, syncs }) => {
      const { snapshot, effects } = run(group(), { type: "coordinator.unloaded" });
      expect(snapshot.status).toBe("done");
      expect(joinAnswers(effects).map((answer) => [answer.requestId, answer.errorCode])).toEqual(
        joins.map((requestId) => [requestId, Code.NOT_COORDINATOR]),
      );
      expect(syncAnswers(effects).map((answer) => [answer.requestId, answer.errorCode])).toEqual(
        syncs.map((requestId) => [requestId, Code.NOT_COORDINATOR]),
      );
    },
  );
});

describe("time", () => {
  it.each([
    {
      name: "a stable group: the earliest session",
      group: () => run(stable(), heartbeat(1, "b1", 3, 100)).snapshot,
      deadline: 200,
    },
    {
      name: "the initial delay",
      group: () => run(start(), join({ requestId: 1, apiVersion: 3 })).snapshot,
      deadline: 50,
    },
    {
      name: "a pending member",
      group: () => run(start(), join({ requestId: 1, sessionTimeoutMs: 150 })).snapshot,
      deadline: 150,
    },
    {
      name: "members waiting for an answer do not count",
      group: () =>
        run(
          preparing(),
          join({ requestId: 2, memberId: "b1" }),
          join({ requestId: 3, memberId: "s1", groupInstanceId: "s" }),
          sync({ requestId: 4, memberId: "a1", generationId: 4 }),
          heartbeat(5, "b1", 4, 100),
          heartbeat(6, "s1", 4, 100, "s"),
        ).snapshot,
      deadline: 300,
    },
    { name: "nothing to wait for", group: () => start(), deadline: null },
  ])("nextDeadlineMs is the earliest deadline the group waits for: $name", ({ group, deadline }) => {
    expect(nextDeadlineMs(group().context)).toBe(deadline);
  });

  it("one late tick ends where a tick at every deadline on the way would", () => {
    const scenarios: Array<() => Snapshot> = [
      () => stable(),
      () => run(stable(), heartbeat(1, "a1", 3, 100)).snapshot,
      preparing,
      completing,
      () =>
        run(
          completing(),
          sync({ requestId: 21, memberId: "a1", generationId: 4 }),
          persisted(4),
          heartbeat(2, "b1", 4, 90),
        ).snapshot,
      () =>
        run(
          start({ groupMaxSize: 10 }),
          join({ requestId: 1, apiVersion: 3 }),
          join({ requestId: 2, apiVersion: 3, nowMs: 20 }),
          join({ requestId: 3, nowMs: 30 }),
        ).snapshot,
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: scenarios.length - 1 }),
        fc.integer({ min: 0, max: 1_500 }),
        (which, nowMs) => {
          const initial = scenarios[which]!();
          const late = run(initial, tick(nowMs));
          let stepwise = { snapshot: initial, effects: [] as Effect[] };
          for (
            let next = nextDeadlineMs(initial.context);
            next !== null && next <= nowMs;
            next = nextDeadlineMs(stepwise.snapshot.context)
          ) {
            const step = run(stepwise.snapshot, tick(next));
            stepwise = { snapshot: step.snapshot, effects: [...stepwise.effects, ...step.effects] };
            if (step.snapshot.status !== "active") break;
          }
          const end = run(stepwise.snapshot, tick(nowMs));
          expect(end.snapshot.value).toEqual(late.snapshot.value);
          expect(end.snapshot.context).toEqual(late.snapshot.context);
          expect([...stepwise.effects, ...end.effects]).toEqual(late.effects);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("restore after a coordinator failover", () => {
  it("a stored group with members restores stable, every session starting from nowMs", () => {
    const group = stable({ nowMs: 5_000 });
    expect(group.value).toBe("Stable");
    expect(group.context).toMatchObject({
      generationId: 3,
      protocolType: "consumer",
      protocolName: "range",
      leaderId: "a1",
    });
    expect(
      group.context.members.map((member) => [member.memberId, member.assignment, member.sessionDeadlineMs]),
    ).toEqual([
      ["a1", "A", 5_200],
      ["b1", "B", 5_200],
      ["s1", "S", 5_200],
    ]);
    expect(
      run(group, sync({ requestId: 9, memberId: "s1", groupInstanceId: "s", nowMs: 5_000 })).effects,
    ).toEqual([
      {
        type: "answerSync",
        params: {
          requestId: 9,
          errorCode: 0,
          protocolType: "consumer",
          protocolName: "range",
          assignment: "S",
        },
      },
    ]);
  });

  it("a stored group without members restores empty, keeping its generation and protocol type", () => {
    const group = start({
      storedGroup: storedGroup({ generationId: 8, protocolName: null, leaderId: null, members: [] }),
    });
    expect(group.value).toBe("Empty");
    expect(group.context).toMatchObject({
      generationId: 8,
      protocolType: "consumer",
      protocolName: null,
      leaderId: null,
    });
  });

  it("a stored member without a rebalance timeout (-1) uses its session timeout", () => {
    const group = start({
      storedGroup: storedGroup({ members: [{ ...stored("a1"), rebalanceTimeoutMs: -1 }] }),
    });
    expect(group.context.members[0]!.rebalanceTimeoutMs).toBe(200);
  });

  it("a stored leader that is not a member is replaced by the first member", () => {
    const group = start({ storedGroup: storedGroup({ leaderId: "gone" }) });
    expect(group.context.leaderId).toBe("a1");
  });
});
