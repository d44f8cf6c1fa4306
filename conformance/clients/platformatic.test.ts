/**
 * @platformatic/kafka 1.35 against one Chronik broker. The client picks, for
 * each API, the highest version both sides know; its `plt:kafka:connections:api`
 * diagnostics channel reports every request's API key and version, so the test
 * sees what was negotiated: ApiVersions v3+, Metadata v12, Produce v9+ and
 * Fetch v12+ (with topic ids from v13).
 *
 * Its Consumer's `consume()` joins a consumer group (group-clients.test.ts);
 * to read a chosen partition from a chosen offset this test uses
 * `Consumer.fetch()`, a plain Fetch to a chosen node with no group.
 */
import {
  Admin,
  type ClusterMetadata,
  Consumer,
  connectionsApiChannel,
  type KafkaRecord,
  ProduceAcks,
  Producer,
} from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";

const apiKeys = {
  produce: 0,
  fetch: 1,
  listOffsets: 2,
  metadata: 3,
  apiVersions: 18,
  createTopics: 19,
} as const;
const clientOptions = { clientId: "chronik-platformatic-test", retries: 2, timeout: 10_000 } as const;

interface SentMessage {
  key: Buffer;
  value: Buffer;
  headers: Map<Buffer, Buffer>;
  timestamp: bigint;
}

function messages(prefix: string, count: number, timestampBase: bigint): SentMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    key: Buffer.from(`${prefix}-key-${index}`),
    // Every byte value appears somewhere, plus some text.
    value: Buffer.concat([
      Buffer.from(`${prefix} value ${index} `),
      Buffer.from([index % 256, 0, 255, 10, 13]),
    ]),
    headers: new Map([
      [Buffer.from("index"), Buffer.from(String(index))],
      [Buffer.from("binary"), Buffer.from([0, 1, 2, 254, 255])],
    ]),
    timestamp: timestampBase + BigInt(index),
  }));
}

interface ReadRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[Buffer | null, Buffer | null]>;
  compression: number;
}

describe("@platformatic/kafka against one broker", () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  let consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  let admin: Admin;
  /** apiKey → every version the client sent it with. */
  const versionsSent = new Map<number, Set<number>>();
  const recordVersion = (message: unknown) => {
    const { apiKey, apiVersion } = message as { apiKey: number; apiVersion: number };
    if (!versionsSent.has(apiKey)) versionsSent.set(apiKey, new Set());
    versionsSent.get(apiKey)!.add(apiVersion);
  };

  /** Reads one partition from `fromOffset` up to its high watermark with plain Fetch requests. */
  async function readPartition(topic: string, partition: number, fromOffset = 0n): Promise<ReadRecord[]> {
    const metadata: ClusterMetadata = await consumer.metadata({ topics: [topic], forceUpdate: true });
    const topicMetadata = metadata.topics.get(topic)!;
    const leader = topicMetadata.partitions[partition]!.leader;
    const read: ReadRecord[] = [];
    let fetchOffset = fromOffset;
    while (true) {
      const response = await consumer.fetch({
        node: leader,
        maxWaitTime: 100,
        topics: [
          {
            topicId: topicMetadata.id,
            partitions: [
              {
                partition,
                fetchOffset,
                partitionMaxBytes: 1024 * 1024,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              },
            ],
          },
        ],
      });
      const answer = response.responses[0]!.partitions[0]!;
      expect(answer.errorCode).toBe(0);
      for (const batch of answer.records ?? []) {
        batch.records.forEach((record: KafkaRecord) => {
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset < fetchOffset) return;
          read.push({
            offset,
            timestamp: batch.firstTimestamp + record.timestampDelta,
            key: record.key,
            value: record.value,
            headers: record.headers,
            compression: batch.attributes & 0x07,
          });
        });
      }
      const next = read.length > 0 ? read.at(-1)!.offset + 1n : fetchOffset;
      if (next >= answer.highWatermark) return read;
      expect(next, "a fetch below the high watermark returns records").toBeGreaterThan(fetchOffset);
      fetchOffset = next;
    }
  }

  function expectSameMessages(read: ReadRecord[], sent: SentMessage[], firstOffset: bigint): void {
    expect(read).toHaveLength(sent.length);
    read.forEach((record, index) => {
      const expected = sent[index]!;
      expect(record.offset).toBe(firstOffset + BigInt(index));
      expect(record.key).toEqual(expected.key);
      expect(record.value).toEqual(expected.value);
      expect(record.timestamp).toBe(expected.timestamp);
      expect(record.headers).toEqual([...expected.headers.entries()]);
    });
  }

  beforeAll(async () => {
    connectionsApiChannel.start.subscribe(recordVersion);
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    const bootstrapBrokers = [broker.address];
    producer = new Producer({ ...clientOptions, bootstrapBrokers, autocreateTopics: true });
    consumer = new Consumer({ ...clientOptions, bootstrapBrokers, groupId: "never-joined" });
    admin = new Admin({ ...clientOptions, bootstrapBrokers });
  });

  afterAll(async () => {
    connectionsApiChannel.start.unsubscribe(recordVersion);
    await Promise.allSettled([producer?.close(), consumer?.close(), admin?.close()]);
    await broker?.stop();
    await removeDataDir(dataDir);
  });

  it("listApis shows the broker's ranges: Produce 3-11, Fetch 4-16, Metadata 0-12, ApiVersions 0-4", async () => {
    const apis = await admin.listApis();
    const range = (apiKey: number) => {
      const entry = apis.find((api) => api.apiKey === apiKey);
      return entry && { minVersion: entry.minVersion, maxVersion: entry.maxVersion };
    };
    expect(range(apiKeys.produce)).toEqual({ minVersion: 3, maxVersion: 11 });
    expect(range(apiKeys.fetch)).toEqual({ minVersion: 4, maxVersion: 16 });
    expect(range(apiKeys.metadata)).toEqual({ minVersion: 0, maxVersion: 12 });
    expect(range(apiKeys.apiVersions)).toEqual({ minVersion: 0, maxVersion: 4 });
  });

  it("Admin.createTopics creates a topic with 2 partitions; listTopics shows it", async () => {
    const [created] = await admin.createTopics({
      topics: ["platformatic-admin"],
      partitions: 2,
      replicas: 1,
    });
    expect(created).toMatchObject({ name: "platformatic-admin", partitions: 2, replicas: 1 });
    expect(created!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await admin.listTopics()).toContain("platformatic-admin");
    const metadata = await admin.metadata({ topics: ["platformatic-admin"], forceUpdate: true });
    const partitions = metadata.topics.get("platformatic-admin")!.partitions;
    expect(partitions.map((partition) => partition.leader)).toEqual([1, 1]);
  });

  it("produces with acks=all to an auto-created topic and reads it back byte-exact with Fetch", async () => {
    const topic = "platformatic-produced";
    const sent = messages("all", 50, 1_700_000_000_000n);
    const result = await producer.send({
      acks: ProduceAcks.ALL,
      messages: sent.map((message) => ({ topic, partition: 0, ...message })),
    });
    // The offset reported is the batch's base offset, as Produce answers it.
    expect(result.offsets).toEqual([{ topic, partition: 0, offset: 0n }]);
    expectSameMessages(await readPartition(topic, 0), sent, 0n);
  });

  it("produces with acks=1 and acks=0, then reads every record in order", async () => {
    const topic = "platformatic-acks";
    const leaderAcked = messages("leader", 20, 1_700_000_100_000n);
    const unacknowledged = messages("none", 20, 1_700_000_200_000n);
    const barrier = messages("barrier", 1, 1_700_000_300_000n);
    await producer.send({
      acks: ProduceAcks.LEADER,
      messages: leaderAcked.map((message) => ({ topic, partition: 0, ...message })),
    });
    await producer.send({
      acks: ProduceAcks.NO_RESPONSE,
      messages: unacknowledged.map((message) => ({ topic, partition: 0, ...message })),
    });
    // acks=0 has no answer. Requests on one connection are handled in order,
    // so once this acks=all produce on the same connection is answered, the
    // acks=0 batch before it has been appended.
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: barrier.map((message) => ({ topic, partition: 0, ...message })),
    });
    expectSameMessages(await readPartition(topic, 0), [...leaderAcked, ...unacknowledged, ...barrier], 0n);
  });

  for (const compression of ["gzip", "snappy", "lz4"] as const) {
    it(`a ${compression} batch comes back as it was sent, still ${compression}`, async () => {
      const topic = `platformatic-${compression}`;
      const sent = messages(compression, 30, 1_700_000_400_000n);
      await producer.send({
        acks: ProduceAcks.ALL,
        compression,
        messages: sent.map((message) => ({ topic, partition: 0, ...message })),
      });
      const read = await readPartition(topic, 0);
      expectSameMessages(read, sent, 0n);
      const codecBits = { gzip: 1, snappy: 2, lz4: 3 }[compression];
      expect(new Set(read.map((record) => record.compression))).toEqual(new Set([codecBits]));
    });
  }

  it("listOffsets finds the earliest, latest and by-timestamp offsets", async () => {
    const topic = "platformatic-produced";
    expect(await consumer.listOffsets({ topics: [topic], timestamp: -2n })).toEqual(new Map([[topic, [0n]]]));
    expect(await consumer.listOffsets({ topics: [topic], timestamp: -1n })).toEqual(
      new Map([[topic, [50n]]]),
    );
    // Message i carries timestamp 1_700_000_000_000 + i.
    const byTime = await consumer.listOffsets({ topics: [topic], timestamp: 1_700_000_000_010n });
    expect(byTime).toEqual(new Map([[topic, [10n]]]));
  });

  it("negotiated ApiVersions v3+, Metadata v12, Produce v9+ and Fetch v12+", () => {
    const highest = (apiKey: number) => Math.max(...(versionsSent.get(apiKey) ?? [-1]));
    expect(highest(apiKeys.apiVersions)).toBeGreaterThanOrEqual(3);
    expect(versionsSent.get(apiKeys.metadata)).toEqual(new Set([12]));
    expect(highest(apiKeys.produce)).toBeGreaterThanOrEqual(9);
    expect(highest(apiKeys.fetch)).toBeGreaterThanOrEqual(12);
    // Exactly what both sides know best: the broker's maxima and this client's.
    expect(versionsSent.get(apiKeys.produce)).toEqual(new Set([11]));
    expect(versionsSent.get(apiKeys.fetch)).toEqual(new Set([16]));
  });
});
