import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AnyStateNode, initialTransition, type SnapshotFrom, transition } from "xstate";
import {
  type Context,
  type Event,
  eventDescriptions,
  type FollowerProgress,
  followerStatus,
  IsrErrorCode,
  isrMachine,
  nextHighWatermark,
} from "./isr.ts";

type Snapshot = SnapshotFrom<typeof isrMachine>;
type StateName = "Committed" | "PendingExpand" | "PendingShrink";

/** Leader 1 (the first replica) of replicas 1, 2, 3 at leader epoch 5 and partition epoch 7, every log at offset 4. */
function context(overrides: Partial<Context> = {}, followers: Partial<FollowerProgress>[] = []): Context {
  const replicas = overrides.replicas ?? [1, 2, 3];
  const base: FollowerProgress[] = replicas.slice(1).map((replicaId) => ({
    replicaId,
    endOffset: 4,
    lastCaughtUpMs: 1_000,
    lastFetchMs: 1_000,
    lastFetchLeaderEndOffset: 4,
  }));
  return {
    leaderId: 1,
    leaderEpoch: 5,
    partitionEpoch: 7,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    pendingIsrChange: null,
    leaderEndOffset: 4,
    leaderEpochStartOffset: 0,
    highWatermark: 4,
    minInsyncReplicas: 2,
    ineligibleReplicas: [],
    replicaLagMsMax: 100,
    nowMs: 1_000,
    waitingProduces: [],
    waitingProducesMax: 2,
    ...overrides,
    followers: base.map((follower) => ({
      ...follower,
      ...followers.find((override) => override.replicaId === follower.replicaId),
    })),
  };
}

function snapshotIn(state: StateName, data: Context): Snapshot {
  return isrMachine.resolveState({ value: { Leading: state }, context: data });
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
    const [next, actions] = transition(isrMachine, current, event);
    effects.push(...actions.map((action) => ({ type: action.type, params: action.params })));
    current = next;
  }
  return { snapshot: current, effects };
}

const fetched = (replicaId: number, fetchOffset: number, nowMs = 1_000): Event => ({
  type: "replica.fetched",
  replicaId,
  fetchOffset,
  nowMs,
});
const produced = (requestId: number, lastOffset: number, acks = -1): Event => ({
  type: "produce.requested",
  requestId,
  acks,
  lastOffset,
});
const committed = (isr: number[], partitionEpoch = 8, leaderEpoch = 5): Event => ({
  type: "isr.committed",
  leaderEpoch,
  partitionEpoch,
  isr,
});

describe("ISR machine rules", () => {
  it.each([
    { fetchOffset: 2, expands: false },
    { fetchOffset: 3, expands: true },
  ])(
    "refuses ISR expansion below the leader epoch start offset (fetch at $fetchOffset)",
    ({ fetchOffset, expands }) => {
      // The high watermark (1) is already passed: only the epoch start (3) decides.
      const start = snapshotIn(
        "Committed",
        context({ isr: [1, 2], highWatermark: 1, leaderEpochStartOffset: 3 }, [
          { replicaId: 3, endOffset: 0 },
        ]),
      );
      const { snapshot, effects } = run(start, fetched(3, fetchOffset));
      expect(snapshot.matches({ Leading: expands ? "PendingExpand" : "Committed" })).toBe(true);
      expect(effects.filter((effect) => effect.type === "sendAlterPartition")).toEqual(
        expands
          ? [{ type: "sendAlterPartition", params: { leaderEpoch: 5, partitionEpoch: 7, newIsr: [1, 2, 3] } }]
          : [],
      );
      expect(snapshot.context.isr).toEqual([1, 2]);
    },
  );

  it.each([
    { fetchOffset: 2, expands: false },
    { fetchOffset: 3, expands: true },
  ])("refuses ISR expansion below the high watermark (fetch at $fetchOffset)", ({ fetchOffset, expands }) => {
    const start = snapshotIn(
      "Committed",
      context({ isr: [1, 2], highWatermark: 3, leaderEndOffset: 4 }, [{ replicaId: 3, endOffset: 0 }]),
    );
    const { snapshot } = run(start, fetched(3, fetchOffset));
    expect(snapshot.matches({ Leading: expands ? "PendingExpand" : "Committed" })).toBe(true);
    expect(snapshot.context.pendingIsrChange).toEqual(expands ? { kind: "expand", isr: [1, 2, 3] } : null);
  });

  it.each([
    {
      name: "no expansion while a shrink is in flight",
      state: "PendingShrink" as const,
      pending: { kind: "shrink" as const, isr: [1] },
      event: fetched(3, 4),
    },
    {
      name: "no shrink while an expansion is in flight",
      state: "PendingExpand" as const,
      pending: { kind: "expand" as const, isr: [1, 2, 3] },
      event: { type: "clock.ticked", nowMs: 5_000 } as Event,
    },
  ])("keeps one AlterPartition in flight: $name", ({ state, pending, event }) => {
    const start = snapshotIn(
      state,
      context({ isr: [1, 2], pendingIsrChange: pending, leaderEndOffset: 6 }, [
        { replicaId: 3, endOffset: 0 },
      ]),
    );
    const { snapshot, effects } = run(start, event);
    expect(snapshot.matches({ Leading: state })).toBe(true);
    expect(snapshot.context.pendingIsrChange).toEqual(pending);
    expect(effects.filter((effect) => effect.type === "sendAlterPartition")).toEqual([]);
  });

  it("ISR shrink takes effect only once committed", () => {
    // Follower 3 stopped at 4 while the leader reached 6; follower 2 keeps up.
    const start = snapshotIn(
      "Committed",
      context({ leaderEndOffset: 6 }, [
        { replicaId: 2, endOffset: 6 },
        { replicaId: 3, endOffset: 4, lastCaughtUpMs: 900 },
      ]),
    );
    const proposed = run(start, { type: "clock.ticked", nowMs: 1_001 });
    expect(proposed.snapshot.matches({ Leading: "PendingShrink" })).toBe(true);
    expect(proposed.effects).toEqual([
      { type: "sendAlterPartition", params: { leaderEpoch: 5, partitionEpoch: 7, newIsr: [1, 2] } },
    ]);
    // Until the controller commits, follower 3 still holds the high watermark back.
    expect(proposed.snapshot.context.isr).toEqual([1, 2, 3]);
    const waiting = run(proposed.snapshot, fetched(2, 6, 1_002), { type: "leader.appended", endOffset: 7 });
    expect(waiting.snapshot.context.highWatermark).toBe(4);
    const applied = run(waiting.snapshot, committed([1, 2]));
    expect(applied.snapshot.matches({ Leading: "Committed" })).toBe(true);
    expect(applied.snapshot.context).toMatchObject({ isr: [1, 2], partitionEpoch: 8, highWatermark: 6 });
    expect(applied.effects).toEqual([{ type: "advanceHighWatermark", params: { highWatermark: 6 } }]);
  });

  it.each([
    { name: "committed ISR", state: "Committed" as const, isr: [1, 2], pending: null, expected: 5 },
    {
      name: "pending expansion counts",
      state: "PendingExpand" as const,
      isr: [1, 2],
      pending: { kind: "expand" as const, isr: [1, 2, 3] },
      expected: 4,
    },
    {
      name: "pending shrink does not count yet",
      state: "PendingShrink" as const,
      isr: [1, 2, 3],
      pending: { kind: "shrink" as const, isr: [1, 2] },
      expected: 4,
    },
  ])(
    "high watermark is the minimum end offset over the maximal ISR: $name",
    ({ state, isr, pending, expected }) => {
      const start = snapshotIn(
        state,
        context({ isr, pendingIsrChange: pending, highWatermark: 3, leaderEndOffset: 6 }, [
          { replicaId: 2, endOffset: 5 },
          { replicaId: 3, endOffset: 4 },
        ]),
      );
      const { snapshot } = run(start, { type: "leader.appended", endOffset: 7 });
      expect(snapshot.context.highWatermark).toBe(expected);
    },
  );

  it("high watermark never decreases", () => {
    // The controller adds follower 3, which is behind, to the ISR; a follower truncates.
    const start = snapshotIn(
      "Committed",
      context({ isr: [1, 2], highWatermark: 4 }, [{ replicaId: 3, endOffset: 1 }]),
    );
    const { snapshot, effects } = run(start, committed([1, 2, 3]), fetched(2, 2));
    expect(snapshot.context.highWatermark).toBe(4);
    expect(effects).toEqual([]);
    fc.assert(
      fc.property(
        fc.record({
          highWatermark: fc.nat(20),
          leaderEndOffset: fc.nat(20),
          follower2: fc.integer({ min: -1, max: 20 }),
          follower3: fc.integer({ min: -1, max: 20 }),
          isr: fc.constantFrom([1], [1, 2], [1, 3], [1, 2, 3]),
          minInsyncReplicas: fc.integer({ min: 1, max: 4 }),
        }),
        (data) => {
          const candidate = context(
            {
              highWatermark: data.highWatermark,
              leaderEndOffset: data.leaderEndOffset,
              isr: [...data.isr],
              minInsyncReplicas: data.minInsyncReplicas,
            },
            [
              { replicaId: 2, endOffset: data.follower2 },
              { replicaId: 3, endOffset: data.follower3 },
            ],
          );
          expect(nextHighWatermark(candidate)).toBeGreaterThanOrEqual(data.highWatermark);
        },
      ),
    );
  });

  it.each([
    {
      name: "ISR below min.insync.replicas",
      isr: [1],
      replicas: [1, 2, 3],
      minInsyncReplicas: 2,
      expected: 4,
    },
    { name: "ISR at min.insync.replicas", isr: [1], replicas: [1, 2, 3], minInsyncReplicas: 1, expected: 6 },
    // Kafka caps min.insync.replicas at the replication factor so such a topic still makes progress.
    {
      name: "fewer replicas than min.insync.replicas",
      isr: [1],
      replicas: [1],
      minInsyncReplicas: 2,
      expected: 6,
    },
  ])(
    "high watermark does not advance while the ISR is below min.insync.replicas: $name",
    ({ isr, replicas, minInsyncReplicas, expected }) => {
      const start = snapshotIn("Committed", context({ isr, minInsyncReplicas, replicas }));
      const { snapshot } = run(start, { type: "leader.appended", endOffset: 6 });
      expect(snapshot.context.highWatermark).toBe(expected);
    },
  );

  it.each([
    { name: "ISR below min", isr: [1], acks: -1, expected: "refused" },
    { name: "ISR at min", isr: [1, 2], acks: -1, expected: "appended" },
    { name: "acks=1 is not gated", isr: [1], acks: 1, expected: "appended" },
  ])("refuses acks=all with NOT_ENOUGH_REPLICAS before the append: $name", ({ isr, acks, expected }) => {
    const { snapshot, effects } = run(snapshotIn("Committed", context({ isr })), produced(42, 4, acks));
    expect(effects).toEqual(
      expected === "refused"
        ? [{ type: "refuseProduce", params: { requestId: 42, errorCode: IsrErrorCode.NOT_ENOUGH_REPLICAS } }]
        : [{ type: "appendBatch", params: { requestId: 42 } }],
    );
    expect(snapshot.context.waitingProduces).toEqual(
      expected === "appended" && acks === -1 ? [{ requestId: 42, lastOffset: 4 }] : [],
    );
  });

  it("refuses acks=all with NOT_ENOUGH_REPLICAS before the append: a pending expansion does not count", () => {
    const start = snapshotIn(
      "PendingExpand",
      context({ isr: [1], pendingIsrChange: { kind: "expand", isr: [1, 2] } }),
    );
    const { effects } = run(start, produced(42, 4));
    expect(effects).toEqual([
      { type: "refuseProduce", params: { requestId: 42, errorCode: IsrErrorCode.NOT_ENOUGH_REPLICAS } },
    ]);
  });

  it("completes acks=all once the high watermark passes the batch", () => {
    const start = snapshotIn("Committed", context({}, [{ replicaId: 3, endOffset: 4 }]));
    const appended = run(start, produced(42, 5), { type: "leader.appended", endOffset: 6 }, fetched(2, 6));
    // The high watermark is 4: follower 3 has not fetched the batch at offsets 4 and 5.
    expect(appended.effects).toEqual([{ type: "appendBatch", params: { requestId: 42 } }]);
    const halfway = run(appended.snapshot, fetched(3, 5));
    expect(halfway.effects).toEqual([{ type: "advanceHighWatermark", params: { highWatermark: 5 } }]);
    const done = run(halfway.snapshot, fetched(3, 6));
    expect(done.effects).toEqual([
      { type: "advanceHighWatermark", params: { highWatermark: 6 } },
      { type: "completeProduce", params: { requestId: 42 } },
    ]);
    expect(done.snapshot.context.waitingProduces).toEqual([]);
  });

  it("bounds the acks=all produces waiting for the high watermark", () => {
    const full = context({ waitingProducesMax: 1, waitingProduces: [{ requestId: 41, lastOffset: 4 }] });
    const { snapshot, effects } = run(snapshotIn("Committed", full), produced(42, 5));
    expect(effects).toEqual([
      { type: "refuseProduce", params: { requestId: 42, errorCode: IsrErrorCode.REQUEST_TIMED_OUT } },
    ]);
    expect(snapshot.context.waitingProduces).toEqual([{ requestId: 41, lastOffset: 4 }]);
  });

  it.each([
    { name: "shrinks below min", newIsr: [1], refused: true },
    { name: "shrinks to min", newIsr: [1, 2], refused: false },
  ])(
    "answers NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks below min.insync while waiting: $name",
    ({ newIsr, refused }) => {
      const start = snapshotIn(
        "PendingShrink",
        context(
          {
            isr: [1, 2, 3],
            pendingIsrChange: { kind: "shrink", isr: newIsr },
            leaderEndOffset: 6,
            waitingProduces: [{ requestId: 42, lastOffset: 5 }],
          },
          [
            { replicaId: 2, endOffset: newIsr.includes(2) ? 6 : 4 },
            { replicaId: 3, endOffset: 4 },
          ],
        ),
      );
      const { snapshot, effects } = run(start, committed(newIsr));
      expect(effects).toEqual(
        refused
          ? [
              {
                type: "refuseProduce",
                params: { requestId: 42, errorCode: IsrErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND },
              },
            ]
          : [
              { type: "advanceHighWatermark", params: { highWatermark: 6 } },
              { type: "completeProduce", params: { requestId: 42 } },
            ],
      );
      expect(snapshot.context.waitingProduces).toEqual([]);
    },
  );

  it.each([
    {
      name: "at the leader's end offset, however long ago",
      endOffset: 6,
      lastCaughtUpMs: 0,
      nowMs: 9_000,
      status: "inSync",
    },
    { name: "behind, within the lag", endOffset: 5, lastCaughtUpMs: 1_000, nowMs: 1_100, status: "lagging" },
    { name: "behind, past the lag", endOffset: 5, lastCaughtUpMs: 1_000, nowMs: 1_101, status: "outOfSync" },
  ])(
    "follower out of sync after replica.lag.time.max.ms without catching up: $name",
    ({ endOffset, lastCaughtUpMs, nowMs, status }) => {
      const data = context({ leaderEndOffset: 6, nowMs }, [
        { replicaId: 2, endOffset, lastCaughtUpMs },
        { replicaId: 3, endOffset: 6 },
      ]);
      expect(followerStatus(data, 2)).toBe(status);
      const { snapshot } = run(snapshotIn("Committed", { ...data, nowMs: 1_000 }), {
        type: "clock.ticked",
        nowMs,
      });
      expect(snapshot.matches({ Leading: status === "outOfSync" ? "PendingShrink" : "Committed" })).toBe(
        true,
      );
    },
  );

  it("follower out of sync after replica.lag.time.max.ms without catching up: one batch behind a busy leader is caught up", () => {
    // Each fetch reaches the end offset the leader had at the previous fetch (Kafka's second rule).
    let snapshot = snapshotIn(
      "Committed",
      context({ nowMs: 0, leaderEndOffset: 1, isr: [1, 2] }, [
        { replicaId: 2, endOffset: 1, lastCaughtUpMs: 0, lastFetchMs: 0, lastFetchLeaderEndOffset: 1 },
      ]),
    );
    for (let offset = 2; offset <= 6; offset++) {
      snapshot = run(
        snapshot,
        { type: "leader.appended", endOffset: offset },
        fetched(2, offset - 1, offset * 60),
      ).snapshot;
    }
    expect(snapshot.context.followers[0]).toMatchObject({ endOffset: 5, lastCaughtUpMs: 300 });
    expect(followerStatus(snapshot.context, 2)).toBe("lagging");
    expect(followerStatus(snapshot.context, 3)).toBe("catchingUp");
    expect(followerStatus(snapshot.context, 1)).toBe("inSync");
  });

  it.each([
    { errorCode: IsrErrorCode.INELIGIBLE_REPLICA, state: "Committed", resent: false },
    { errorCode: IsrErrorCode.OPERATION_NOT_ATTEMPTED, state: "Committed", resent: false },
    { errorCode: IsrErrorCode.FENCED_LEADER_EPOCH, state: "PendingExpand", resent: false },
    { errorCode: IsrErrorCode.INVALID_UPDATE_VERSION, state: "PendingExpand", resent: false },
    { errorCode: IsrErrorCode.REQUEST_TIMED_OUT, state: "PendingExpand", resent: true },
  ])(
    "a refused AlterPartition reverts, waits for metadata or is resent (error $errorCode)",
    ({ errorCode, state, resent }) => {
      const start = snapshotIn(
        "PendingExpand",
        context({ isr: [1, 2], pendingIsrChange: { kind: "expand", isr: [1, 2, 3] } }),
      );
      const { snapshot, effects } = run(start, { type: "isr.rejected", errorCode });
      expect(snapshot.matches({ Leading: state as StateName })).toBe(true);
      expect(snapshot.context.isr).toEqual([1, 2]);
      expect(effects.some((effect) => effect.type === "sendAlterPartition")).toBe(resent);
    },
  );

  it.each([
    { name: "an older leader epoch", event: committed([1, 2], 8, 4) },
    { name: "an older partition epoch", event: committed([1, 2], 6) },
    {
      name: "the partition epoch it already holds (a second copy of an applied change)",
      event: committed([1, 2], 7),
    },
  ])("ignores a committed change from $name", ({ event }) => {
    const start = snapshotIn("PendingShrink", context({ pendingIsrChange: { kind: "shrink", isr: [1, 2] } }));
    const { snapshot } = run(start, event);
    expect(snapshot.matches({ Leading: "PendingShrink" })).toBe(true);
    expect(snapshot.context.isr).toEqual([1, 2, 3]);
  });

  it("answers waiting produces NOT_LEADER_OR_FOLLOWER on resignation", () => {
    const start = snapshotIn("Committed", context({ waitingProduces: [{ requestId: 42, lastOffset: 5 }] }));
    const { snapshot, effects } = run(start, { type: "leader.resigned" });
    expect(snapshot.status).toBe("done");
    expect(effects).toEqual([
      { type: "refuseProduce", params: { requestId: 42, errorCode: IsrErrorCode.NOT_LEADER_OR_FOLLOWER } },
    ]);
  });

  it.each([
    { name: "eligible", ineligibleReplicas: [], expands: true },
    { name: "fenced or in controlled shutdown", ineligibleReplicas: [3], expands: false },
    { name: "another follower ineligible", ineligibleReplicas: [2], expands: true },
  ])(
    "proposes a caught-up follower for the ISR only when its broker is $name (KIP-841)",
    ({ ineligibleReplicas, expands }) => {
      const start = snapshotIn("Committed", context({ isr: [1, 2], ineligibleReplicas }));
      const { snapshot, effects } = run(start, fetched(3, 4));
      expect(snapshot.matches({ Leading: expands ? "PendingExpand" : "Committed" })).toBe(true);
      expect(effects.some((effect) => effect.type === "sendAlterPartition")).toBe(expands);
      // Its progress counts all the same: it is caught up, just not proposed.
      expect(snapshot.context.followers.find((follower) => follower.replicaId === 3)?.endOffset).toBe(4);
    },
  );

  it("proposes a follower that became eligible again at its next fetch, not before", () => {
    const start = snapshotIn("Committed", context({ isr: [1, 2], ineligibleReplicas: [3] }));
    const refused = run(start, fetched(3, 4));
    expect(refused.snapshot.matches({ Leading: "Committed" })).toBe(true);
    const eligible = run(refused.snapshot, { type: "replicas.eligibilityChanged", ineligibleReplicas: [] });
    expect(eligible.effects).toEqual([]);
    expect(eligible.snapshot.matches({ Leading: "Committed" })).toBe(true);
    const proposed = run(eligible.snapshot, fetched(3, 4, 1_050));
    expect(proposed.effects).toContainEqual({
      type: "sendAlterPartition",
      params: { leaderEpoch: 5, partitionEpoch: 7, newIsr: [1, 2, 3] },
    });
  });

  it("leaves an expansion in flight to the controller when its follower becomes ineligible", () => {
    const start = snapshotIn(
      "PendingExpand",
      context({ isr: [1, 2], pendingIsrChange: { kind: "expand", isr: [1, 2, 3] } }),
    );
    const fenced = run(start, { type: "replicas.eligibilityChanged", ineligibleReplicas: [3] });
    expect(fenced.effects).toEqual([]);
    expect(fenced.snapshot.matches({ Leading: "PendingExpand" })).toBe(true);
    expect(fenced.snapshot.context.pendingIsrChange).toEqual({ kind: "expand", isr: [1, 2, 3] });
    // The controller's answer decides: refused, the committed ISR stands and the follower is not proposed again.
    const refused = run(fenced.snapshot, {
      type: "isr.rejected",
      errorCode: IsrErrorCode.INELIGIBLE_REPLICA,
    });
    expect(refused.snapshot.matches({ Leading: "Committed" })).toBe(true);
    const again = run(refused.snapshot, fetched(3, 4, 1_050));
    expect(again.effects.some((effect) => effect.type === "sendAlterPartition")).toBe(false);
  });

  it("keeps only followers among the ineligible replicas, in assignment order", () => {
    const input = {
      leaderId: 1,
      leaderEpoch: 5,
      partitionEpoch: 7,
      replicas: [3, 1, 2],
      isr: [3, 1],
      leaderEndOffset: 4,
      leaderEpochStartOffset: 4,
      highWatermark: 4,
      minInsyncReplicas: 2,
      ineligibleReplicas: [2, 9, 1, 3],
      replicaLagMsMax: 100,
      nowMs: 0,
      waitingProducesMax: 2,
    };
    const [initial] = initialTransition(isrMachine, input);
    expect(initial.context.ineligibleReplicas).toEqual([3, 2]);
    const [changed] = transition(isrMachine, initial, {
      type: "replicas.eligibilityChanged",
      ineligibleReplicas: [1, 2, 7],
    });
    expect(changed.context.ineligibleReplicas).toEqual([2]);
  });

  it("checks the next acks=all produce against a raised min.insync.replicas at once", () => {
    const start = snapshotIn("Committed", context({ isr: [1, 2] }));
    const raised = run(start, { type: "topic.configChanged", minInsyncReplicas: 3 });
    expect(raised.effects).toEqual([]);
    const { effects } = run(raised.snapshot, produced(42, 4));
    expect(effects).toEqual([
      { type: "refuseProduce", params: { requestId: 42, errorCode: IsrErrorCode.NOT_ENOUGH_REPLICAS } },
    ]);
  });

  it("lets produces already waiting wait when min.insync.replicas rises above the ISR, as Kafka's delayed produces do", () => {
    // ISR [1, 2] at min 2; a produce of offsets 4-5 waits for follower 2.
    const start = snapshotIn(
      "Committed",
      context({ isr: [1, 2], leaderEndOffset: 6, waitingProduces: [{ requestId: 42, lastOffset: 5 }] }),
    );
    const raised = run(start, { type: "topic.configChanged", minInsyncReplicas: 3 });
    expect(raised.effects).toEqual([]);
    expect(raised.snapshot.context.waitingProduces).toEqual([{ requestId: 42, lastOffset: 5 }]);
    // Below the new min the high watermark stands still, so the produce is not completed...
    const caughtUp = run(raised.snapshot, fetched(2, 6));
    expect(caughtUp.effects).toEqual([]);
    expect(caughtUp.snapshot.context.highWatermark).toBe(4);
    // ...until min.insync.replicas comes down again: the high watermark moves at once and completes it.
    const lowered = run(caughtUp.snapshot, { type: "topic.configChanged", minInsyncReplicas: 2 });
    expect(lowered.effects).toEqual([
      { type: "advanceHighWatermark", params: { highWatermark: 6 } },
      { type: "completeProduce", params: { requestId: 42 } },
    ]);
  });

  it("describes every state, transition and event", () => {
    const nodes = (node: AnyStateNode): AnyStateNode[] => [
      node,
      ...Object.values(node.states as Record<string, AnyStateNode>).flatMap(nodes),
    ];
    for (const node of nodes(isrMachine.root)) {
      expect(node.description, node.id).toBeTruthy();
      for (const branches of node.transitions.values()) {
        for (const branch of branches)
          expect(branch.description, `${node.id} ${branch.eventType}`).toBeTruthy();
      }
    }
    expect(Object.keys(eventDescriptions).sort()).toEqual([...isrMachine.events].sort());
  });
});
