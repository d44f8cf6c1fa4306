import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BrokerImage } from "../../metadata/image.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import {
  type FetchPartitionRequest,
  hostedPartition,
  leaderAppends,
  NodeRoles,
  replicaFetchRequest,
  topicImage,
  withPartitions,
} from "../../replication/replication-test-support.ts";
import { batchOf, batchOffsets, closeTestSchedulers } from "../../storage/test-support.ts";
import { answerReplicaFetch } from "./replica-fetch.ts";

afterEach(closeTestSchedulers);

/** A second topic led by node 1 with the same replicas as "orders". */
function secondTopic() {
  return { ...topicImage(), name: "payments", topicId: "fedcba9876543210fedcba9876543210" };
}

/** Node 1 leads partition 0 of "orders" in epoch 3; the follower is node 2. */
async function leader(directory: string, brokers: BrokerImage[] = []) {
  const local = await hostedPartition(directory, topicImage());
  return { local, roles: new NodeRoles(1, [local], brokers) };
}

async function fetchOne(
  roles: NodeRoles,
  partition: Partial<FetchPartitionRequest>,
  options: Parameters<typeof replicaFetchRequest>[1] = {},
  version = 12,
) {
  const replicaId = options.replicaId ?? 2;
  const response = await answerReplicaFetch(
    roles,
    replicaFetchRequest([partition], options),
    version,
    replicaId,
  );
  expect(response.errorCode).toBe(ErrorCode.NONE);
  return response.responses[0]!.partitions[0]!;
}

const batchBytes = batchOf("a", 3).length;

/** Until the handler has parked the fetch: it holds a slot, and its wake-ups are registered with it. */
async function parked(roles: NodeRoles): Promise<void> {
  while (roles.waitingFetches === 0) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe("a follower's fetch of a data partition", () => {
  it("is served up to the log end, past the high watermark, and the follower's position goes to the ISR", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a", "b", "c"]);
      local.advanceHighWatermark(3n);

      const answer = await fetchOne(roles, { fetchOffset: 3n, lastFetchedEpoch: 3 });

      expect(answer.errorCode).toBe(ErrorCode.NONE);
      expect(answer.highWatermark).toBe(3n);
      expect(answer.logStartOffset).toBe(0n);
      expect(batchOffsets(answer.records!)).toEqual([3n, 6n]);
      expect(roles.positions).toEqual([{ replicaId: 2, fetchOffset: 3n }]);
    }));

  it("serves whole batches within the partition's max bytes, but always the first (KIP-74)", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a", "b", "c"]);

      const one = await fetchOne(roles, { partitionMaxBytes: 1 });
      const two = await fetchOne(roles, { partitionMaxBytes: 2 * batchBytes + 1 });
      const capped = await fetchOne(roles, {}, { maxBytes: batchBytes });

      expect(batchOffsets(one.records!)).toEqual([0n]);
      expect(batchOffsets(two.records!)).toEqual([0n, 3n]);
      expect(batchOffsets(capped.records!)).toEqual([0n]);
    }));

  it("answers a log that diverged with the diverging epoch and no records, without moving the ISR", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 1, ["a", "b"]);
      await leaderAppends(local, 3, ["c"]);

      // The follower holds epoch 1 up to 8, the leader ended epoch 1 at 6.
      const past = await fetchOne(roles, { fetchOffset: 8n, lastFetchedEpoch: 1 });
      // The follower's last epoch 2 never reached the leader: epoch 1 is the one to compare.
      const unknown = await fetchOne(roles, { fetchOffset: 7n, lastFetchedEpoch: 2 });

      expect(past).toMatchObject({ errorCode: ErrorCode.NONE, divergingEpoch: { epoch: 1, endOffset: 6n } });
      expect(past.records!.length).toBe(0);
      expect(unknown).toMatchObject({
        errorCode: ErrorCode.NONE,
        divergingEpoch: { epoch: 1, endOffset: 6n },
      });
      expect(roles.positions).toEqual([]);
    }));

  it("matches a follower whose epoch ends where the leader's does", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 1, ["a", "b"]);
      await leaderAppends(local, 3, ["c"]);

      const answer = await fetchOne(roles, { fetchOffset: 6n, lastFetchedEpoch: 1 });

      expect(answer.errorCode).toBe(ErrorCode.NONE);
      expect(answer.divergingEpoch).toBeUndefined();
      expect(batchOffsets(answer.records!)).toEqual([6n]);
    }));

  it.each([
    ["a stale epoch", { currentLeaderEpoch: 2 }, ErrorCode.FENCED_LEADER_EPOCH],
    ["an epoch this node has not applied", { currentLeaderEpoch: 4 }, ErrorCode.UNKNOWN_LEADER_EPOCH],
    ["an offset past the log end", { fetchOffset: 10n }, ErrorCode.OFFSET_OUT_OF_RANGE],
    [
      "a last fetched epoch above any the leader knows",
      { fetchOffset: 3n, lastFetchedEpoch: 9 },
      ErrorCode.OFFSET_OUT_OF_RANGE,
    ],
  ])("refuses %s", (_, partition, errorCode) =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a"]);

      const answer = await fetchOne(roles, partition);

      expect(answer).toMatchObject({ errorCode, highWatermark: -1n, logStartOffset: -1n });
      expect(answer.records!.length).toBe(0);
      expect(roles.positions).toEqual([]);
    }),
  );

  it("refuses an offset below the log start, even with a matching epoch", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await local.log.truncateFullyAndStartAt(100n);
      await leaderAppends(local, 3, ["a"]);

      expect((await fetchOne(roles, { fetchOffset: 50n })).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
      const withEpoch = await fetchOne(roles, { fetchOffset: 50n, lastFetchedEpoch: 3 });
      expect(withEpoch.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
      expect(batchOffsets((await fetchOne(roles, { fetchOffset: 100n })).records!)).toEqual([100n]);
    }));

  it("refuses a fetcher outside the replica set: UNKNOWN_LEADER_EPOCH when it names an epoch, as Kafka's leader", () =>
    withPartitions(async (directory) => {
      const { roles } = await leader(directory);

      const stranger = await fetchOne(roles, {}, { replicaId: 9 });
      const unfenced = await fetchOne(roles, { currentLeaderEpoch: -1 }, { replicaId: 9 });
      const itself = await fetchOne(roles, {}, { replicaId: 1 });

      expect(stranger.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
      expect(unfenced.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect(itself.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    }));

  it("is refused by a node that has not taken the leadership it was given yet, so the follower retries", () =>
    withPartitions(async (directory) => {
      const { roles } = await leader(directory);
      roles.leading = false;

      expect((await fetchOne(roles, {})).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    }));

  it("is refused by a node that does not lead, naming the leader and its endpoint from v16", () =>
    withPartitions(async (directory) => {
      const broker: BrokerImage = {
        brokerId: 3,
        incarnationId: "ab".repeat(16),
        brokerEpoch: 7n,
        endpoints: [{ name: "PLAINTEXT", host: "10.0.0.3", port: 9092, securityProtocol: 0 }],
        rack: null,
        fenced: false,
        inControlledShutdown: false,
        registrationOffset: 0n,
      };
      const local = await hostedPartition(directory, topicImage({ leader: 3, leaderEpoch: 4 }));
      const roles = new NodeRoles(1, [local], [broker]);

      const request = replicaFetchRequest([{ currentLeaderEpoch: 4 }]);
      const response = await answerReplicaFetch(roles, request, 16, 2);

      expect(response.responses[0]!.partitions[0]).toMatchObject({
        errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
        currentLeader: { leaderId: 3, leaderEpoch: 4 },
      });
      expect(response.nodeEndpoints).toEqual([{ nodeId: 3, host: "10.0.0.3", port: 9092, rack: null }]);
    }));

  it("finds topics by id from v13, and answers an unknown id with UNKNOWN_TOPIC_ID", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a"]);

      const known = await answerReplicaFetch(roles, replicaFetchRequest([{}]), 13, 2);
      const unknownRequest = replicaFetchRequest([{}]);
      unknownRequest.topics[0]!.topicId = "ff".repeat(16);
      const unknown = await answerReplicaFetch(roles, unknownRequest, 13, 2);

      expect(batchOffsets(known.responses[0]!.partitions[0]!.records!)).toEqual([0n]);
      expect(unknown.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    }));
});

describe("a follower's fetch with nothing new", () => {
  it("is held until the leader appends, then answered with the new batch", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a"]);

      const held = fetchOne(roles, { fetchOffset: 3n, lastFetchedEpoch: 3 }, { maxWaitMs: 60_000 });
      await parked(roles);
      await leaderAppends(local, 3, ["b"]);
      const answer = await held;

      expect(batchOffsets(answer.records!)).toEqual([3n]);
      expect(roles.waitingFetches).toBe(0);
    }));

  it("is held until the high watermark moves, and tells the follower the new one", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a"]);

      const held = fetchOne(roles, { fetchOffset: 3n, lastFetchedEpoch: 3 }, { maxWaitMs: 60_000 });
      await parked(roles);
      local.advanceHighWatermark(3n);
      const answer = await held;

      expect(answer.highWatermark).toBe(3n);
      expect(answer.records!.length).toBe(0);
    }));

  it("is answered once this node starts leading another partition the follower replicates", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a"]);

      const held = fetchOne(roles, { fetchOffset: 3n, lastFetchedEpoch: 3 }, { maxWaitMs: 60_000 });
      await parked(roles);
      const payments = await hostedPartition(path.join(directory, "payments"), secondTopic());
      roles.partitions.push(payments);
      roles.startedLeading(payments);
      const answer = await held;

      expect(answer.errorCode).toBe(ErrorCode.NONE);
      expect(answer.records!.length).toBe(0);
      expect(roles.waitingFetches).toBe(0);
    }));

  it("is held only briefly when it leaves out a partition this node leads for the follower", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      roles.partitions.push(await hostedPartition(path.join(directory, "payments"), secondTopic()));
      await leaderAppends(local, 3, ["a"]);

      // The follower has not applied "payments" yet; a minute's hold would outlast the test.
      const answer = await fetchOne(roles, { fetchOffset: 3n, lastFetchedEpoch: 3 }, { maxWaitMs: 60_000 });

      expect(answer.errorCode).toBe(ErrorCode.NONE);
      expect(answer.records!.length).toBe(0);
    }));

  it("is answered at once when the high watermark moved after the last answer to this follower", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a"]);
      const caughtUp = await fetchOne(roles, { fetchOffset: 0n, lastFetchedEpoch: -1 });
      expect(caughtUp.highWatermark).toBe(0n);
      // Another follower's fetch moves the high watermark while this one's next fetch is on its way.
      local.advanceHighWatermark(3n);

      const next = fetchOne(roles, { fetchOffset: 3n, lastFetchedEpoch: 3 }, { maxWaitMs: 60_000 });
      const answer = await Promise.race([
        next,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 2_000)),
      ]);

      expect(answer).toMatchObject({ errorCode: ErrorCode.NONE, highWatermark: 3n });
      expect(answer!.records!.length).toBe(0);
    }));

  it("is answered at once, empty, when no more fetches may be held", () =>
    withPartitions(async (directory) => {
      const { local, roles } = await leader(directory);
      await leaderAppends(local, 3, ["a"]);
      roles.waitingFetchesMax = 0;

      const answer = await fetchOne(roles, { fetchOffset: 3n, lastFetchedEpoch: 3 }, { maxWaitMs: 60_000 });

      expect(answer.errorCode).toBe(ErrorCode.NONE);
      expect(answer.records!.length).toBe(0);
    }));
});
