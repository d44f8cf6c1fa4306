import { afterEach, describe, expect, it } from "vitest";
import type { GroupRecord, JoinAnswer, SyncAnswer } from "../../machines/consumer-group.ts";
import { silentLogger } from "../log.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { GroupRuntime, newMemberId } from "./group-runtime.ts";

const limits = {
  groupMinSessionTimeoutMs: 100,
  groupMaxSessionTimeoutMs: 60_000,
  groupMaxSize: 10,
  groupInitialRebalanceDelayMs: 0,
  groupNewMemberJoinTimeoutMs: 300_000,
  pendingMembersMax: 10,
};

const join = {
  groupInstanceId: null,
  protocolType: "consumer",
  protocols: [{ name: "range", metadata: Buffer.from("subscription").toString("base64") }],
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  // Before v4 a member without an id is admitted at once (no MEMBER_ID_REQUIRED round).
  apiVersion: 3,
  clientId: "client",
  clientHost: "/127.0.0.1",
};

describe("a consumer group on its coordinator", () => {
  const runtimes: GroupRuntime[] = [];
  afterEach(() => {
    for (const runtime of runtimes.splice(0)) runtime.unload();
  });

  function start(options: { persist?: (record: GroupRecord) => Promise<number>; nowMs?: () => number } = {}) {
    const persisted: GroupRecord[] = [];
    const runtime = new GroupRuntime({
      groupId: "g",
      limits,
      storedGroup: null,
      persist:
        options.persist ??
        (async (record) => {
          persisted.push(record);
          return ErrorCode.NONE;
        }),
      writeTombstone: async () => ErrorCode.NONE,
      onDead: () => {},
      logger: silentLogger(),
      ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
    });
    runtimes.push(runtime);
    return { runtime, persisted };
  }

  it("makes member ids as Kafka does: the client id, a dash, a UUID", () => {
    expect(newMemberId("consumer-1", null)).toMatch(/^consumer-1-[0-9a-f-]{36}$/);
    expect(newMemberId("consumer-1", "instance-a")).toMatch(/^instance-a-[0-9a-f-]{36}$/);
  });

  it("takes a member through join and sync, writing the leader's assignment before answering", async () => {
    const { runtime, persisted } = start();
    const joined = (await runtime.join({ ...join, memberId: "" })) as JoinAnswer;
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    expect(joined.generationId).toBe(1);
    expect(joined.leaderId).toBe(joined.memberId);
    expect(joined.members.map((member) => member.memberId)).toEqual([joined.memberId]);
    const assignment = Buffer.from("partitions 0-2").toString("base64");
    const synced = (await runtime.sync({
      memberId: joined.memberId,
      groupInstanceId: null,
      generationId: 1,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [{ memberId: joined.memberId, assignment }],
    })) as SyncAnswer;
    expect(synced).toMatchObject({ errorCode: ErrorCode.NONE, assignment });
    expect(persisted).toHaveLength(1);
    expect(persisted[0]).toMatchObject({ groupId: "g", generationId: 1, leaderId: joined.memberId });
    expect(runtime.state).toBe("Stable");
    expect(
      await runtime.heartbeat({ memberId: joined.memberId, groupInstanceId: null, generationId: 1 }),
    ).toBe(ErrorCode.NONE);
  });

  it("asks a v4+ client without a member id to join again with the one it was given", async () => {
    const { runtime } = start();
    const first = (await runtime.join({ ...join, memberId: "", apiVersion: 4 })) as JoinAnswer;
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^client-/);
    const second = (await runtime.join({ ...join, memberId: first.memberId, apiVersion: 4 })) as JoinAnswer;
    expect(second).toMatchObject({ errorCode: ErrorCode.NONE, memberId: first.memberId, generationId: 1 });
  });

  it("answers the waiting sync with the write's error when the assignment cannot be stored", async () => {
    const { runtime } = start({ persist: async () => ErrorCode.NOT_COORDINATOR });
    const joined = (await runtime.join({ ...join, memberId: "" })) as JoinAnswer;
    const synced = (await runtime.sync({
      memberId: joined.memberId,
      groupInstanceId: null,
      generationId: joined.generationId,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [{ memberId: joined.memberId, assignment: "" }],
    })) as SyncAnswer;
    expect(synced.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(runtime.state).toBe("PreparingRebalance");
  });

  it("removes a member whose session runs out, by the timer it sets from the machine's deadline", async () => {
    let now = 1_000;
    const { runtime } = start({ nowMs: () => now });
    const joined = (await runtime.join({ ...join, memberId: "", sessionTimeoutMs: 100 })) as JoinAnswer;
    await runtime.sync({
      memberId: joined.memberId,
      groupInstanceId: null,
      generationId: joined.generationId,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [{ memberId: joined.memberId, assignment: "" }],
    });
    expect(runtime.snapshot.context.members).toHaveLength(1);
    now += 1_000;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(runtime.snapshot.context.members).toHaveLength(0);
    expect(runtime.state).toBe("Empty");
  });

  it("answers what waits NOT_COORDINATOR and refuses what comes after it is unloaded", async () => {
    const { runtime } = start({ persist: () => new Promise(() => {}) });
    const joined = (await runtime.join({ ...join, memberId: "" })) as JoinAnswer;
    const waiting = runtime.sync({
      memberId: joined.memberId,
      groupInstanceId: null,
      generationId: joined.generationId,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [{ memberId: joined.memberId, assignment: "" }],
    });
    runtime.unload();
    expect(await waiting).toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR });
    expect(
      await runtime.heartbeat({ memberId: joined.memberId, groupInstanceId: null, generationId: 1 }),
    ).toBe(ErrorCode.NOT_COORDINATOR);
    expect(runtime.state).toBe("Dead");
  });
});
