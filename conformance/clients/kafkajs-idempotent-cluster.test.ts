/**
 * The idempotent producer on a three-node cluster of real processes, with
 * replication factor 3. Producer ids come from blocks the controller hands
 * out through the metadata log, so every node gives ids no other node gives,
 * before and after a controller's kill -9 and a node's restart.
 *
 * KafkaJS (idempotent: true) reaches every node through a proxy that loses
 * chosen Produce answers after the leader appended the batch
 * (conformance/support/produce-cutting-proxy.ts). Once, the answer is lost
 * and the partition leader is killed with kill -9 before KafkaJS can send
 * the batch again: the retry reaches the new leader, which holds the batch
 * as a follower and the producer's state with it, and answers it with the
 * first attempt's offsets. Every replica, the old leader's after its restart
 * included, then holds every message exactly once (read from disk with
 * `chronik dump-log`).
 */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initProducerIdApi } from "../../impl/protocol/apis/init-producer-id.ts";
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { LocalCluster } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";
import { sendNumbered, socketsThrough, valuesOnDisk } from "../support/idempotent-producing.ts";
import { ProduceCuttingProxy } from "../support/produce-cutting-proxy.ts";
import { exchange } from "../support/raw-connection.ts";

const topic = "idempotent-failover";
const blockSize = 1000n;

/** What one node's Metadata says of the controller and of partition 0 of `topicName`. */
async function metadataOf(port: number, topicName: string) {
  const response = await exchange(port, metadataApi, 12, {
    topics: [{ topicId: "00000000000000000000000000000000", name: topicName }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const partition = response.topics[0]?.partitions.find((candidate) => candidate.partitionIndex === 0);
  return {
    controllerId: response.controllerId,
    leader: partition?.leaderId ?? -1,
    isr: partition?.isrNodes ?? [],
  };
}

/** `count` producer ids from the node on `port`, by InitProducerId v4. */
async function producerIdsFrom(port: number, count: number): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let index = 0; index < count; index++) {
    const response = await exchange(port, initProducerIdApi, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    expect(response).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    ids.push(response.producerId);
  }
  return ids;
}

describe("the idempotent producer on a three-node cluster", () => {
  let cluster: LocalCluster;
  const proxies = new Map<number, ProduceCuttingProxy>();

  beforeAll(async () => {
    cluster = await LocalCluster.start(3, ["--default-replication-factor", "3", "--num-partitions", "1"]);
    for (const node of cluster.nodes) proxies.set(node.port, await ProduceCuttingProxy.start(node.port));
  }, 60_000);

  afterAll(async () => {
    for (const proxy of proxies.values()) await proxy.close();
    await cluster?.destroy();
  });

  it("gives producer ids no other node gives, before and after the controller's kill -9 and a restart", async () => {
    const before = new Map<number, bigint[]>();
    for (const node of cluster.nodes) before.set(node.nodeId, await producerIdsFrom(node.port, 3));
    const blocksBefore = new Set([...before.values()].flat().map((id) => id / blockSize));
    // Each node took a block of its own.
    expect(blocksBefore.size).toBe(3);

    const { controllerId } = await metadataOf(cluster.nodes[0]!.port, topic);
    await cluster.killNode(controllerId);
    const survivor = cluster.up[0]!;
    await eventually("a new controller", async () => {
      const { controllerId: current } = await metadataOf(survivor.port, topic);
      return current !== controllerId && current !== -1 ? current : undefined;
    });
    await cluster.startNode(controllerId);
    // The restarted node asks the new controller for a new block.
    const restarted = await producerIdsFrom(cluster.node(controllerId).port, 3);
    const others = await Promise.all(
      cluster.up.filter((node) => node.nodeId !== controllerId).map((node) => producerIdsFrom(node.port, 3)),
    );

    const all = [...[...before.values()].flat(), ...restarted, ...others.flat()];
    expect(new Set(all).size).toBe(all.length);
    const highestBlockBefore = [...blocksBefore].reduce((high, block) => (block > high ? block : high));
    for (const id of restarted) expect(id / blockSize).toBeGreaterThan(highestBlockBefore);
  });

  it("writes every message once on every replica though answers are lost and the leader is killed", async () => {
    const kafka = new Kafka({
      clientId: "chronik-idempotent-cluster",
      brokers: cluster.bootstrap,
      logLevel: logLevel.NOTHING,
      // Elections and fences take seconds: keep retrying through them.
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 60 },
      socketFactory: socketsThrough(proxies),
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] });
    await admin.disconnect();
    const first = await eventually("the topic led with its whole ISR", async () => {
      const view = await metadataOf(cluster.nodes[0]!.port, topic);
      return view.leader >= 0 && view.isr.length === 3 ? view : undefined;
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const leaderProxy = proxies.get(cluster.node(first.leader).port)!;
      const sent = await sendNumbered(producer, topic, 0, 60, 10, (index) => {
        if (index === 1 || index === 4) leaderProxy.cutNextProduces(1);
      });
      expect(leaderProxy.cuts).toBe(2);

      // The leader appends, the ISR has the batch, the answer is lost; the leader dies before the retry.
      leaderProxy.cutNextProduces(1);
      leaderProxy.holdAfterNextCut();
      const retried = sendNumbered(producer, topic, 60, 10, 10);
      await leaderProxy.cutsReached(3);
      await cluster.killNode(first.leader);
      leaderProxy.release();
      sent.push(...(await retried));

      const second = await eventually("another leader", async () => {
        const view = await metadataOf(cluster.up[0]!.port, topic);
        return view.leader >= 0 && view.leader !== first.leader ? view : undefined;
      });
      const newLeaderProxy = proxies.get(cluster.node(second.leader).port)!;
      sent.push(
        ...(await sendNumbered(producer, topic, 70, 30, 10, (index) => {
          if (index === 1) newLeaderProxy.cutNextProduces(1);
        })),
      );
      expect(newLeaderProxy.cuts).toBe(1);
      expect(sent).toHaveLength(100);

      for (const node of cluster.up) {
        await eventually(`node ${node.nodeId} holds every message once`, async () => {
          const values = await valuesOnDisk(node.dataDir, topic);
          if (values.join() === sent.join()) return true;
          throw new Error(`node ${node.nodeId} holds ${values.length} records`);
        });
      }
      await cluster.startNode(first.leader);
      const oldLeader = cluster.node(first.leader);
      await eventually("the old leader caught up, holding every message once", async () => {
        const values = await valuesOnDisk(oldLeader.dataDir, topic);
        if (values.join() === sent.join()) return true;
        throw new Error(`the old leader holds ${values.length} records`);
      });
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  });
});
