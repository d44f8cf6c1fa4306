/**
 * KafkaJS 2.2.4 against one Chronik broker: its admin client (create,
 * validate-only create, duplicate create, list, metadata, configs, offsets,
 * partitions, delete) and its producer with acks -1, 1 and 0 and with gzip.
 *
 * Reading back: KafkaJS's consumer only consumes through a consumer group
 * (`consumer.run`, tested in kafkajs-groups.test.ts), which decides for itself
 * which partitions and offsets it reads. To read one partition from offset 0
 * to its end, this test uses KafkaJS's own cluster and broker objects, which
 * the consumer uses underneath: `broker.fetch` sends the same Fetch (v11) the
 * consumer would and decodes it with the same record batch decoder, so keys,
 * values and headers are checked through KafkaJS's own code, byte for byte. KafkaJS's public API has no handle on them; the Kafka
 * client keeps its cluster factory under a private symbol, used here.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  type Admin,
  CompressionTypes,
  ConfigResourceTypes,
  type IHeaders,
  Kafka,
  logLevel,
  type Message,
  type Producer,
} from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrokerProcess,
  chronikBin,
  makeDataDir,
  removeDataDir,
  startBroker,
} from "../support/broker-process.ts";

const runFile = promisify(execFile);

/** What KafkaJS's Fetch decoder yields for one record. */
interface FetchedMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | undefined>;
}

/** The parts of KafkaJS's internal broker and cluster objects this test uses. */
interface InternalBroker {
  fetch(request: {
    replicaId?: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{
      topic: string;
      partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }>;
    }>;
  }): Promise<{
    responses: Array<{
      topicName: string;
      partitions: Array<{
        partition: number;
        errorCode: number;
        highWatermark: string;
        messages: FetchedMessage[];
      }>;
    }>;
  }>;
  createTopics(request: {
    topics: Array<{ topic: string; numPartitions?: number; replicationFactor?: number }>;
    validateOnly?: boolean;
    timeout?: number;
  }): Promise<unknown>;
}

interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>;
  findBroker(node: { nodeId: string }): Promise<InternalBroker>;
  findControllerBroker(): Promise<InternalBroker>;
}

function createInternalCluster(kafka: Kafka): InternalCluster {
  const factory = Object.getOwnPropertySymbols(kafka).find(
    (symbol) => symbol.description === "private:Kafka:createCluster",
  );
  if (!factory)
    throw new Error("KafkaJS no longer keeps its cluster factory under private:Kafka:createCluster");
  const create = (kafka as unknown as Record<symbol, (options: object) => InternalCluster>)[factory]!;
  return create({ allowAutoTopicCreation: false, metadataMaxAge: 300_000 });
}

interface ExpectedMessage {
  key: Buffer;
  value: Buffer;
  headers: Record<string, Buffer>;
  timestamp: string;
}

function expectedMessages(prefix: string, count: number, timestampBase: number): ExpectedMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    key: Buffer.from(`${prefix}-key-${index}`),
    value: Buffer.concat([
      Buffer.from(`${prefix} value ${index} ✓ `),
      Buffer.from([0, index % 256, 255, 10]),
    ]),
    headers: { index: Buffer.from(String(index)), binary: Buffer.from([0, 1, 254, 255]) },
    timestamp: String(timestampBase + index * 1000),
  }));
}

function toKafkaJsMessages(messages: ExpectedMessage[]): Message[] {
  return messages.map((message) => ({ partition: 0, ...message, headers: message.headers as IHeaders }));
}

describe("KafkaJS against one broker", () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let cluster: InternalCluster;

  /** Reads partition 0 of a topic from offset 0 to the high watermark with KafkaJS's Fetch. */
  async function readPartition(topic: string): Promise<FetchedMessage[]> {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadata();
    const leader = cluster
      .findTopicPartitionMetadata(topic)
      .find((partition) => partition.partitionId === 0)!;
    const leaderBroker = await cluster.findBroker({ nodeId: String(leader.leader) });
    const read: FetchedMessage[] = [];
    let fetchOffset = 0n;
    while (true) {
      const { responses } = await leaderBroker.fetch({
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 10 * 1024 * 1024,
        topics: [
          { topic, partitions: [{ partition: 0, fetchOffset: String(fetchOffset), maxBytes: 1024 * 1024 }] },
        ],
      });
      const answer = responses[0]!.partitions[0]!;
      expect(answer.errorCode).toBe(0);
      // A fetch returns whole batches; records before the fetch offset are skipped, as the consumer does.
      const fresh = answer.messages.filter((message) => BigInt(message.offset) >= fetchOffset);
      read.push(...fresh);
      const next = read.length > 0 ? BigInt(read.at(-1)!.offset) + 1n : fetchOffset;
      if (next >= BigInt(answer.highWatermark)) return read;
      expect(next, "a fetch below the high watermark returns records").toBeGreaterThan(fetchOffset);
      fetchOffset = next;
    }
  }

  function expectSameMessages(read: FetchedMessage[], sent: ExpectedMessage[]): void {
    expect(read).toHaveLength(sent.length);
    read.forEach((message, index) => {
      const expected = sent[index]!;
      expect(message.offset).toBe(String(index));
      expect(message.key).toEqual(expected.key);
      expect(message.value).toEqual(expected.value);
      expect(message.headers).toEqual(expected.headers);
      expect(message.timestamp).toBe(expected.timestamp);
    });
  }

  beforeAll(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    kafka = new Kafka({
      clientId: "chronik-kafkajs-test",
      brokers: [broker.address],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
    admin = kafka.admin();
    producer = kafka.producer({ allowAutoTopicCreation: true });
    cluster = createInternalCluster(kafka);
    await Promise.all([admin.connect(), producer.connect(), cluster.connect()]);
  });

  afterAll(async () => {
    await Promise.allSettled([admin?.disconnect(), producer?.disconnect(), cluster?.disconnect()]);
    await broker?.stop();
    await removeDataDir(dataDir);
  });

  describe("admin", () => {
    it("createTopics creates a topic with its configs", async () => {
      const created = await admin.createTopics({
        topics: [
          {
            topic: "kafkajs-admin",
            numPartitions: 1,
            replicationFactor: 1,
            configEntries: [{ name: "retention.ms", value: "3600000" }],
          },
        ],
      });
      expect(created).toBe(true);
      expect(await admin.listTopics()).toContain("kafkajs-admin");
    });

    it("createTopics with validateOnly checks the request and creates nothing", async () => {
      // waitForLeaders would poll Metadata for the topic, which never appears.
      const validated = await admin.createTopics({
        validateOnly: true,
        waitForLeaders: false,
        topics: [{ topic: "kafkajs-validate-only", numPartitions: 2 }],
      });
      expect(validated).toBe(true);
      expect(await admin.listTopics()).not.toContain("kafkajs-validate-only");
    });

    it("createTopics of an existing name answers TOPIC_ALREADY_EXISTS", async () => {
      // The admin client turns TOPIC_ALREADY_EXISTS into `false`...
      expect(await admin.createTopics({ topics: [{ topic: "kafkajs-admin" }] })).toBe(false);
      // ...and the broker object underneath shows the error itself.
      await cluster.refreshMetadata();
      const controller = await cluster.findControllerBroker();
      const failure = await controller.createTopics({ topics: [{ topic: "kafkajs-admin" }] }).then(
        () => null,
        (error: { name: string; errors?: Array<{ type: string; topic: string }> }) => error,
      );
      expect(failure?.name).toBe("KafkaJSAggregateError");
      expect(failure?.errors).toMatchObject([{ type: "TOPIC_ALREADY_EXISTS", topic: "kafkajs-admin" }]);
    });

    it("fetchTopicMetadata shows one partition led by node 1 with ISR [1]", async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: ["kafkajs-admin"] });
      expect(metadata.topics).toEqual([
        {
          name: "kafkajs-admin",
          partitions: [
            expect.objectContaining({
              partitionErrorCode: 0,
              partitionId: 0,
              leader: 1,
              replicas: [1],
              isr: [1],
            }),
          ],
        },
      ]);
    });

    it("describeConfigs shows retention.ms as set and cleanup.policy at its default", async () => {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: "kafkajs-admin",
            configNames: ["retention.ms", "cleanup.policy"],
          },
        ],
      });
      expect(described.resources).toHaveLength(1);
      const [resource] = described.resources;
      expect(resource).toMatchObject({ errorCode: 0, resourceName: "kafkajs-admin" });
      const entries = new Map(resource!.configEntries.map((entry) => [entry.configName, entry]));
      expect(entries.get("retention.ms")).toMatchObject({ configValue: "3600000", isDefault: false });
      expect(entries.get("cleanup.policy")).toMatchObject({ configValue: "delete", isDefault: true });
    });

    it("createPartitions grows a topic from 1 to 3 partitions", async () => {
      await admin.createTopics({ topics: [{ topic: "kafkajs-grown", numPartitions: 1 }] });
      await admin.createPartitions({ topicPartitions: [{ topic: "kafkajs-grown", count: 3 }] });
      const metadata = await admin.fetchTopicMetadata({ topics: ["kafkajs-grown"] });
      const partitionIds = metadata.topics[0]!.partitions.map((partition) => partition.partitionId);
      expect(partitionIds.sort()).toEqual([0, 1, 2]);
    });

    it("deleteTopics removes a topic", async () => {
      await admin.createTopics({ topics: [{ topic: "kafkajs-doomed" }] });
      expect(await admin.listTopics()).toContain("kafkajs-doomed");
      await admin.deleteTopics({ topics: ["kafkajs-doomed"] });
      expect(await admin.listTopics()).not.toContain("kafkajs-doomed");
    });
  });

  describe("producer", () => {
    it("acks -1, 1 and 0: every record reads back in order, keys, values and headers byte-exact", async () => {
      const topic = "kafkajs-acks";
      const allReplicas = expectedMessages("all", 30, 1_700_000_000_000);
      const leaderOnly = expectedMessages("leader", 30, 1_700_001_000_000);
      const noAnswer = expectedMessages("none", 30, 1_700_002_000_000);
      const barrier = expectedMessages("barrier", 1, 1_700_003_000_000);

      const [acknowledgedAll] = await producer.send({
        topic,
        acks: -1,
        messages: toKafkaJsMessages(allReplicas),
      });
      expect(acknowledgedAll).toMatchObject({
        topicName: topic,
        partition: 0,
        errorCode: 0,
        baseOffset: "0",
      });
      const [acknowledgedLeader] = await producer.send({
        topic,
        acks: 1,
        messages: toKafkaJsMessages(leaderOnly),
      });
      expect(acknowledgedLeader).toMatchObject({ partition: 0, errorCode: 0, baseOffset: "30" });
      // acks=0: the broker sends no response and KafkaJS expects none.
      await producer.send({ topic, acks: 0, messages: toKafkaJsMessages(noAnswer) });
      // Requests on one connection are handled in order: once this acks=-1
      // produce (same producer, same connection) is answered, the acks=0
      // batch sent before it has been appended.
      const [acknowledgedBarrier] = await producer.send({
        topic,
        acks: -1,
        messages: toKafkaJsMessages(barrier),
      });
      expect(acknowledgedBarrier).toMatchObject({ partition: 0, errorCode: 0, baseOffset: "90" });

      expectSameMessages(await readPartition(topic), [
        ...allReplicas,
        ...leaderOnly,
        ...noAnswer,
        ...barrier,
      ]);
    });

    it("a gzip batch reads back byte-exact and is stored gzip-compressed", async () => {
      const topic = "kafkajs-gzip";
      const sent = expectedMessages("gzip", 100, 1_700_010_000_000);
      await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: toKafkaJsMessages(sent),
      });
      expectSameMessages(await readPartition(topic), sent);

      // dump-log prints each batch header from the segment files, its compression among them.
      const { stdout } = await runFile(
        process.execPath,
        [chronikBin, "dump-log", "--data-dir", dataDir, "--topic", topic, "--partition", "0"],
        { timeout: 60_000 },
      );
      const batchLines = stdout.split("\n").filter((line) => line.startsWith("baseOffset:"));
      expect(batchLines).toHaveLength(1);
      expect(batchLines[0]).toContain("compression: gzip");
      expect(batchLines[0]).toContain("count: 100");
    });
  });

  describe("offsets", () => {
    const topic = "kafkajs-offsets";
    // Ten records, one second apart: record i has timestamp base + i s.
    const timestampBase = 1_700_100_000_000;

    beforeAll(async () => {
      await producer.send({
        topic,
        acks: -1,
        messages: toKafkaJsMessages(expectedMessages("t", 10, timestampBase)),
      });
    });

    it("fetchTopicOffsets reports low 0 and high 10", async () => {
      expect(await admin.fetchTopicOffsets(topic)).toEqual([
        { partition: 0, offset: "10", high: "10", low: "0" },
      ]);
    });

    it("fetchTopicOffsetsByTimestamp finds the first record at or after a timestamp", async () => {
      const at = async (timestamp: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, timestamp))[0];
      expect(await at(timestampBase - 1)).toEqual({ partition: 0, offset: "0" });
      expect(await at(timestampBase + 5000)).toEqual({ partition: 0, offset: "5" });
      expect(await at(timestampBase + 5001)).toEqual({ partition: 0, offset: "6" });
      // After the last record the broker answers -1, which KafkaJS replaces by the high watermark.
      expect(await at(timestampBase + 60_000)).toEqual({ partition: 0, offset: "10" });
    });
  });
});
