/**
 * The replica manager feeds a running partition leader what the applied
 * metadata changes for it: which followers' brokers may join the ISR, and
 * the topic's min.insync.replicas, without waiting for the next leader epoch.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MetadataImage } from "../metadata/image.ts";
import type { MetadataRecordInput } from "../metadata/records.ts";
import { decodeMetadataRecord, encodeMetadataRecord } from "../metadata/records.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import {
  batchOf,
  closeTestSchedulers,
  produced,
  silentLogger,
  testScheduler,
  withTemporaryDirectory,
} from "../storage/test-support.ts";
import { defaultBrokerConfig } from "./config.ts";
import { ReplicaManager } from "./replica-manager.ts";

afterEach(() => closeTestSchedulers());

const topicId = "ab".repeat(16);

/** Node 1 leading orders-0 on replicas 1, 2, 3 with ISR [1, 2], brokers 2 and 3 registered and live. */
async function leading(directory: string) {
  const image = new MetadataImage();
  const manager = new ReplicaManager(
    { ...defaultBrokerConfig, nodeId: 1, dataDir: directory },
    testScheduler(),
    silentLogger(),
  );
  const proposals: number[][] = [];
  await manager.takeRoles({
    fetching: { follow: () => {}, stopFollowing: async () => {} },
    alterPartitionSenderFor: () => (proposal) => {
      proposals.push(proposal.newIsr);
      return new Promise(() => {});
    },
    isrIneligible: (replicaIds) => image.isrIneligible(replicaIds),
  });
  const apply = (records: MetadataRecordInput[]) =>
    manager.apply(
      records.flatMap((record) => {
        const change = image.apply(
          decodeMetadataRecord(encodeMetadataRecord(record)),
          image.appliedOffset + 1n,
        );
        return change === null ? [] : [change];
      }),
    );
  for (const brokerId of [2, 3]) {
    await apply([
      {
        type: "RegisterBrokerRecord",
        version: 0,
        value: { brokerId, brokerEpoch: BigInt(brokerId), incarnationId: "cd".repeat(16), fenced: false },
      } as MetadataRecordInput,
    ]);
  }
  await apply([
    { type: "TopicRecord", version: 0, value: { name: "orders", topicId } },
    {
      type: "PartitionRecord",
      version: 0,
      value: { partitionId: 0, topicId, replicas: [1, 2, 3], isr: [1, 2], leader: 1, leaderEpoch: 0 },
    } as MetadataRecordInput,
  ]);
  const local = manager.get("orders", 0)!;
  return { manager, local, apply, proposals, leader: () => manager.leaderOf(local)! };
}

describe("the replica manager feeds its partition leaders applied metadata", () => {
  it("proposes a follower for the ISR only while its broker is neither fenced nor shutting down (KIP-841)", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { apply, proposals, leader, manager } = await leading(directory);
      await apply([{ type: "FenceBrokerRecord", version: 0, value: { id: 3, epoch: 3n } }]);
      leader().replicaFetched(3, 0n);
      expect(proposals).toEqual([]);
      await apply([
        {
          type: "BrokerRegistrationChangeRecord",
          version: 1,
          value: { brokerId: 3, brokerEpoch: 3n, fenced: -1, inControlledShutdown: 1 },
        } as MetadataRecordInput,
      ]);
      // Unfenced but shutting down: still not proposed, though caught up with a record appended since.
      const { records, batches } = produced(batchOf("a", 2));
      await leader().produce(records, batches, 1);
      manager.followerFetched(manager.get("orders", 0)!, 3, 2n);
      expect(proposals).toEqual([]);
      // Registered again (a new incarnation) and unfenced: proposed at its next fetch.
      await apply([
        {
          type: "RegisterBrokerRecord",
          version: 0,
          value: { brokerId: 3, brokerEpoch: 30n, incarnationId: "ef".repeat(16), fenced: false },
        } as MetadataRecordInput,
      ]);
      manager.followerFetched(manager.get("orders", 0)!, 3, 1n);
      manager.followerFetched(manager.get("orders", 0)!, 3, 2n);
      expect(proposals).toEqual([[1, 2, 3]]);
      await manager.closeAll();
    });
  });

  it("proposes a follower once its broker is unfenced, at its next fetch", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { apply, proposals, leader, manager } = await leading(directory);
      await apply([{ type: "FenceBrokerRecord", version: 0, value: { id: 3, epoch: 3n } }]);
      await apply([{ type: "UnfenceBrokerRecord", version: 0, value: { id: 3, epoch: 3n } }]);
      leader().replicaFetched(3, 0n);
      expect(proposals).toEqual([[1, 2, 3]]);
      await manager.closeAll();
    });
  });

  it("takes a changed min.insync.replicas in the running leader epoch", async () => {
    await withTemporaryDirectory(async (directory) => {
      const { apply, leader, manager } = await leading(directory);
      await apply([
        {
          type: "ConfigRecord",
          version: 0,
          value: { resourceType: 2, resourceName: "orders", name: "min.insync.replicas", value: "3" },
        },
      ]);
      const { records, batches } = produced(batchOf("a", 2));
      expect(await leader().produce(records, batches, -1)).toMatchObject({
        errorCode: ErrorCode.NOT_ENOUGH_REPLICAS,
      });
      await manager.closeAll();
    });
  });
});
