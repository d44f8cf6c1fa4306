/**
 * A restored model's start on a real broker: its stored group is made with
 * real requests (the members join in the stored order, so the first leads;
 * they sync the stored assignments and rejoin until the group is at the
 * stored generation, the last sync writing it to __consumer_offsets), kept
 * alive by heartbeats, and the broker is restarted: the coordinator then
 * loads the group as the model's input describes it, each member with a full
 * session from the load. Where no restart is wanted (a cluster), every member
 * beats once at the path's start instead, which leaves the group the same.
 */
import { describeGroupsApi } from "../../impl/protocol/apis/describe-groups.ts";
import type { EventOf, StoredGroup } from "../../machines/consumer-group.ts";
import { type Client, clients } from "../../machines/testing/consumer-group-paths.ts";
import { describeRequest, describeVersion } from "./group-descriptions.ts";
import { MemberIds } from "./group-member-ids.ts";
import { type RequestEvent, sendRequest } from "./group-requests.ts";
import { sleep, WireClient, within } from "./group-wire.ts";

/** The initial delay with all its extensions ends within a rebalance timeout (200 model ms): far more. */
const joinsAnsweredWithinModelMs = 1_000;
const answerTimeoutMs = 5_000;

export interface StoredGroupOnBroker {
  groupId: string;
  ids: MemberIds;
  /**
   * Without a restart: the heartbeats stop and every member beats once more,
   * so each session starts now, as a restored group's do at its load (the
   * group is then the restored model's start, reached by requests). Resolves
   * with the time just before.
   */
  startSessions(): Promise<number>;
  /** Stops the heartbeats and closes the members' connections. */
  release(): void;
}

interface Member {
  modelId: string;
  client: Client;
  wire: WireClient;
  subscription: string;
  assignment: string;
}

type JoinResponse = { errorCode: number; memberId: string; generationId: number; leader: string };

export async function storeGroup(
  port: number,
  groupId: string,
  stored: StoredGroup,
  scale: number,
): Promise<StoredGroupOnBroker> {
  const protocolName = stored.protocolName;
  if (protocolName === null || stored.leaderId !== stored.members[0]?.memberId) {
    throw new Error("only a group whose first member leads can be made by joining in order");
  }
  const ids = new MemberIds();
  const members: Member[] = stored.members.map((member) => {
    const client = clients.find((candidate) => candidate.ids.includes(member.memberId));
    if (client === undefined) throw new Error(`no client owns ${member.memberId}`);
    return {
      modelId: member.memberId,
      client,
      wire: new WireClient(port, client.name),
      subscription: member.subscription,
      assignment: member.assignment,
    };
  });
  const admin = new WireClient(port, "admin");
  const described = async () =>
    (await admin.ask(describeGroupsApi, describeVersion, describeRequest(groupId), answerTimeoutMs))
      .groups[0];
  const send = async (member: Member, event: RequestEvent) =>
    (await sendRequest(event, member.wire, groupId, ids, scale)).pending.answer;

  const join = (member: Member, memberId: string): EventOf<"group.joinRequested"> => ({
    type: "group.joinRequested",
    requestId: 0,
    memberId,
    groupInstanceId: member.client.groupInstanceId,
    protocolType: stored.protocolType ?? "consumer",
    protocols: [{ name: protocolName, metadata: member.subscription }],
    sessionTimeoutMs: stored.members[0]!.sessionTimeoutMs,
    rebalanceTimeoutMs: stored.members[0]!.rebalanceTimeoutMs,
    apiVersion: member.client.apiVersion,
    newMemberId: member.modelId,
    clientId: member.client.name,
    clientHost: "",
    nowMs: 0,
  });

  /**
   * Every member joins and all are answered. The first time they join one
   * after another, each seen in the group before the next, so the group keeps
   * the stored order and the first leads; they rejoin the leader first.
   */
  const joinAll = async (rejoin: boolean): Promise<number> => {
    const answers: Array<Promise<unknown>> = [];
    for (const [index, member] of members.entries()) {
      let memberId = rejoin ? member.modelId : "";
      if (!rejoin && member.client.groupInstanceId === null && member.client.apiVersion >= 4) {
        const required = (await send(member, join(member, ""))) as JoinResponse;
        ids.model(required.memberId, member.modelId);
        memberId = member.modelId;
      }
      answers.push(send(member, join(member, memberId)));
      if (!rejoin) {
        await waitFor(
          async () => ((await described())?.members.length ?? 0) > index,
          `${member.modelId} joining`,
        );
      } else if (index === 0) {
        // The others rejoin once the leader's rejoin started the rebalance: before it, a stable
        // group would answer their unchanged rejoins at once, without one.
        await waitFor(async () => (await described())?.groupState === "PreparingRebalance", "the rebalance");
      }
    }
    const joined = (await within(
      Promise.all(answers),
      joinsAnsweredWithinModelMs * scale,
      "the joins of the group being stored",
    )) as JoinResponse[];
    for (const [index, answer] of joined.entries()) {
      if (answer.errorCode !== 0)
        throw new Error(`storing ${groupId}: join answered ${JSON.stringify(answer)}`);
      ids.model(answer.memberId, members[index]!.modelId);
    }
    return joined[0]!.generationId;
  };

  const syncAll = async (generationId: number): Promise<void> => {
    const answers = members.map((member, index) =>
      send(member, {
        type: "group.syncRequested",
        requestId: 0,
        memberId: member.modelId,
        groupInstanceId: member.client.groupInstanceId,
        generationId,
        protocolType: stored.protocolType,
        protocolName,
        assignments:
          index === 0
            ? members.map((other) => ({ memberId: other.modelId, assignment: other.assignment }))
            : [],
        nowMs: 0,
      }),
    );
    for (const answer of (await within(Promise.all(answers), answerTimeoutMs, "the syncs")) as Array<{
      errorCode: number;
    }>) {
      if (answer.errorCode !== 0)
        throw new Error(`storing ${groupId}: sync answered ${JSON.stringify(answer)}`);
    }
  };

  let generationId = await joinAll(false);
  await syncAll(generationId);
  while (generationId < stored.generationId) {
    generationId = await joinAll(true);
    await syncAll(generationId);
  }
  if (generationId !== stored.generationId) throw new Error(`storing ${groupId}: generation ${generationId}`);

  const beat = () =>
    members.map((member) =>
      send(member, {
        type: "group.heartbeatRequested",
        requestId: 0,
        memberId: member.modelId,
        groupInstanceId: member.client.groupInstanceId,
        generationId,
        nowMs: 0,
      }),
    );
  // The broker stopping closes the connections under heartbeats on their way: that is expected.
  const heartbeats = setInterval(
    () => {
      for (const answer of beat()) answer.catch(() => undefined);
    },
    (stored.members[0]!.sessionTimeoutMs * scale) / 4,
  );
  return {
    groupId,
    ids,
    async startSessions() {
      clearInterval(heartbeats);
      const startedAt = Date.now();
      const answers = (await within(Promise.all(beat()), answerTimeoutMs, "the heartbeats")) as Array<{
        errorCode: number;
      }>;
      if (answers.some((answer) => answer.errorCode !== 0)) {
        throw new Error(`starting ${groupId}'s sessions: heartbeats answered ${JSON.stringify(answers)}`);
      }
      return startedAt;
    },
    release() {
      clearInterval(heartbeats);
      for (const member of members) member.wire.close();
      admin.close();
    },
  };
}

/** Polls until `done`, for a moment at most. */
async function waitFor(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await done()) return;
    await sleep(10);
  }
  throw new Error(`${what} did not happen`);
}
