/**
 * A follower's ReplicaFetchers against a real leader over real sockets: the
 * leader is node 1, its partition on a log in a temporary directory, served
 * by a KafkaListener whose dispatcher runs the replica handlers (Fetch,
 * OffsetForLeaderEpoch, ListOffsets) over the node's roles; the follower is
 * node 2 with its own log and a peer pool to node 1. The test waits on
 * conditions, never on how long anything took.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { BrokerServices } from "../broker/services.ts";
import { PeerPool } from "../cluster/peer-pool.ts";
import { silentLogger } from "../log.ts";
import { fetchApi } from "../protocol/apis/fetch.ts";
import { listOffsetsApi } from "../protocol/apis/list-offsets.ts";
import { offsetForLeaderEpochApi } from "../protocol/apis/offset-for-leader-epoch.ts";
import { defaultDecodeLimits } from "../protocol/reader.ts";
import { Dispatcher } from "../server/dispatcher.ts";
import { fetchHandler } from "../server/handlers/fetch.ts";
import { listOffsetsHandler } from "../server/handlers/list-offsets.ts";
import { offsetForLeaderEpochHandler } from "../server/handlers/offset-for-leader-epoch.ts";
import { KafkaListener } from "../server/server.ts";
import { closeTestSchedulers, leaderBatch, readAllBatches, replicated } from "../storage/test-support.ts";
import { ReplicaFetchers } from "./replica-fetcher.ts";
import {
  hostedPartition,
  leaderAppends,
  NodeRoles,
  topicImage,
  withPartitions,
} from "./replication-test-support.ts";

/** How long a condition may take to hold before the test gives up: a guard against hanging, not a timing claim. */
const conditionLimitMs = 60_000;
const settings = {
  maxWaitMs: 200,
  requestTimeoutMs: 5_000,
  errorBackoffMs: 20,
  networkBackoffMsInitial: 10,
  networkBackoffMsMax: 100,
};

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
  closeTestSchedulers();
});

async function waitFor(
  what: string,
  condition: () => boolean,
  describe: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + conditionLimitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Node 1's listener with the replica handlers over `roles`; `asked` records every OffsetForLeaderEpoch partition. */
async function serveLeader(roles: NodeRoles) {
  const asked: Array<{ currentLeaderEpoch: number; leaderEpoch: number }> = [];
  const dispatcher = new Dispatcher(defaultDecodeLimits, silentLogger());
  // Only what a replica's requests touch; the cast stands in for the rest of a broker.
  const services = roles as unknown as BrokerServices;
  dispatcher.register(fetchApi, fetchHandler(services, Promise.resolve()));
  const epochs = offsetForLeaderEpochHandler(roles);
  dispatcher.register(offsetForLeaderEpochApi, (request, context) => {
    for (const topic of request.topics) asked.push(...topic.partitions);
    return epochs(request, context);
  });
  dispatcher.register(listOffsetsApi, listOffsetsHandler(services));
  const listener = new KafkaListener(
    { host: "127.0.0.1", port: 0, connectionsMax: 16, requestBytesMax: 1 << 20, inFlightRequestsMax: 16 },
    dispatcher,
    silentLogger(),
  );
  const port = await listener.listen();
  running.push(() => listener.close());
  return { port, asked };
}

async function startFollower(leaderPort: number) {
  const pool = new PeerPool({
    clientId: "chronik-node-2",
    logger: silentLogger(),
    reconnectBackoffMsMax: 100,
  });
  await pool.upsert({ nodeId: 1, host: "127.0.0.1", port: leaderPort });
  const fetchers = new ReplicaFetchers({ nodeId: 2, pool, logger: silentLogger(), settings });
  running.push(async () => {
    await fetchers.close();
    await pool.close();
  });
  return fetchers;
}

describe("ReplicaFetchers against a leader over the wire", () => {
  it("copy the leader's batches byte for byte, follow its high watermark, and stop when it no longer leads", () =>
    withPartitions(async (directory) => {
      const leader = await hostedPartition(`${directory}/leader`, topicImage());
      const follower = await hostedPartition(`${directory}/follower`, topicImage());
      const roles = new NodeRoles(1, [leader]);
      const { port } = await serveLeader(roles);
      const fetchers = await startFollower(port);
      await leaderAppends(leader, 3, ["a", "b", "c"]);

      fetchers.follow(follower, 1, 3);
      await waitFor("the follower to hold the leader's log", () => follower.log.durableEndOffset === 9n);
      // The ISR machine would move the high watermark once the follower fetched past it; here the test does.
      leader.advanceHighWatermark(9n);
      await waitFor("the follower's high watermark", () => follower.highWatermark === 9n);
      // Appends while the follower's fetch is held at the log end reach it too.
      await leaderAppends(leader, 3, ["d"]);
      // The follower fetches from 12 once the batch is durable there, and the leader hears so.
      const reported = (offset: bigint) =>
        roles.positions.some((p) => p.replicaId === 2 && p.fetchOffset === offset);
      await waitFor("the next batch", () => reported(12n));

      expect(await readAllBatches(follower.log)).toEqual(await readAllBatches(leader.log));
      expect(follower.log.leaderEpochs).toEqual(leader.log.leaderEpochs);

      // The partition moves away from node 1: its next answer is NOT_LEADER_OR_FOLLOWER, and the follower stops.
      roles.partitions.splice(0);
      leader.image.leader = 3;
      await waitFor("the follower to stop", () => fetchers.phaseOf(follower) === "stopped");
      // New metadata brings node 1 back as the leader in epoch 4: following resumes and catches up.
      leader.image.leader = 1;
      leader.image.leaderEpoch = 4;
      follower.image.leaderEpoch = 4;
      roles.partitions.push(leader);
      await leaderAppends(leader, 4, ["e"]);
      fetchers.follow(follower, 1, 4);
      await waitFor("the follower to resume", () => follower.log.durableEndOffset === 15n);
      expect(await readAllBatches(follower.log)).toEqual(await readAllBatches(leader.log));
    }));

  it("truncate a diverged log through OffsetForLeaderEpoch and converge on the new leader's", () =>
    withPartitions(async (directory) => {
      // Epoch 1 wrote a and b everywhere; its leader also gave c and d to node 2 only, then died.
      const leader = await hostedPartition(`${directory}/leader`, topicImage({ leaderEpoch: 2 }));
      const follower = await hostedPartition(`${directory}/follower`, topicImage({ leaderEpoch: 2 }));
      const shared = replicated(leaderBatch("a", 3, 0n, 1), leaderBatch("b", 3, 3n, 1));
      await leader.log.appendAsFollower(shared.records, shared.batches).durable;
      await follower.log.appendAsFollower(shared.records, shared.batches).durable;
      const lost = replicated(leaderBatch("c", 3, 6n, 1), leaderBatch("d", 3, 9n, 1));
      await follower.log.appendAsFollower(lost.records, lost.batches).durable;
      // Node 1 leads epoch 2 and writes other records where c and d were.
      await leaderAppends(leader, 2, ["x", "y", "z"]);
      const roles = new NodeRoles(1, [leader]);
      const { port, asked } = await serveLeader(roles);
      const fetchers = await startFollower(port);

      fetchers.follow(follower, 1, 2);
      await waitFor(
        "the follower to converge",
        () =>
          follower.log.durableEndOffset === leader.log.logEndOffset &&
          fetchers.phaseOf(follower) === "fetching",
        () => `follower at ${follower.log.logEndOffset}, leader at ${leader.log.logEndOffset}`,
      );

      expect(asked).toContainEqual({ partition: 0, currentLeaderEpoch: 2, leaderEpoch: 1 });
      expect(await readAllBatches(follower.log)).toEqual(await readAllBatches(leader.log));
      expect(follower.log.leaderEpochs).toEqual([
        { epoch: 1, startOffset: 0n },
        { epoch: 2, startOffset: 6n },
      ]);
    }));
});
