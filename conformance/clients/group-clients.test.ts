/**
 * Consumer groups through clients other than KafkaJS, against one node:
 * kcat's balanced consumer (`-G`, librdkafka's group client with its own
 * assignor and commit logic) and @platformatic/kafka's `consume()`. Each reads
 * every message once, commits, and a second run in the same group starts
 * from the committed offsets, reading only what was produced since.
 */
import { Admin, Consumer, MessagesStreamModes, ProduceAcks, Producer } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";
import { eventually } from "../support/eventually.ts";
import { runKcat } from "../support/kcat.ts";

const brokerArgs = ["--group-initial-rebalance-delay-ms", "0", "--offsets-topic-partitions", "5"];

describe("consumer groups with kcat and @platformatic/kafka", () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let producer: Producer<string, string, string, string>;
  let admin: Admin;

  async function produce(topic: string, values: string[]): Promise<void> {
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: values.map((value, index) => ({ topic, key: `k${index}`, value, partition: index % 2 })),
    });
  }

  /** kcat -G until every partition is at its end (-e), printing "partition:offset:value" lines. */
  async function kcatGroupRead(topic: string, groupId: string): Promise<string[]> {
    const { stdout } = await runKcat([
      "-b",
      broker.address,
      "-G",
      groupId,
      "-X",
      "auto.offset.reset=earliest",
      "-X",
      "enable.partition.eof=true",
      "-e",
      "-q",
      "-f",
      "%s\n",
      topic,
    ]);
    return stdout
      .toString()
      .split("\n")
      .filter((line) => line !== "");
  }

  beforeAll(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir, args: brokerArgs });
    const bootstrapBrokers = [broker.address];
    producer = new Producer({
      clientId: "group-clients",
      bootstrapBrokers,
      serializers: {
        key: (text?: string) => (text === undefined ? undefined : Buffer.from(text)),
        value: (text?: string) => (text === undefined ? undefined : Buffer.from(text)),
        headerKey: (text?: string) => (text === undefined ? undefined : Buffer.from(text)),
        headerValue: (text?: string) => (text === undefined ? undefined : Buffer.from(text)),
      },
    });
    admin = new Admin({ clientId: "group-clients", bootstrapBrokers });
  });

  afterAll(async () => {
    await Promise.allSettled([producer?.close(), admin?.close()]);
    await broker?.stop();
    await removeDataDir(dataDir);
  });

  it("kcat -G reads every message once and a second run resumes from its committed offsets", async () => {
    const topic = "kcat-group";
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    const first = Array.from({ length: 40 }, (_, index) => `first-${index}`);
    await produce(topic, first);
    expect((await kcatGroupRead(topic, "kcat-readers")).sort()).toEqual([...first].sort());

    const second = Array.from({ length: 10 }, (_, index) => `second-${index}`);
    await produce(topic, second);
    expect((await kcatGroupRead(topic, "kcat-readers")).sort()).toEqual([...second].sort());
  });

  it("refuses a client's produce to __consumer_offsets, which only the coordinator writes", async () => {
    // kcat's group above made the topic exist; KafkaJS reports the broker's error code by name.
    const kafka = new Kafka({ clientId: "forger", brokers: [broker.address], logLevel: logLevel.NOTHING });
    const forger = kafka.producer({ retry: { retries: 0 } });
    await forger.connect();
    try {
      await expect(
        forger.send({ topic: "__consumer_offsets", acks: -1, messages: [{ partition: 0, value: "forged" }] }),
      ).rejects.toMatchObject({ type: "INVALID_TOPIC_EXCEPTION" });
    } finally {
      await forger.disconnect();
    }
  });

  it("@platformatic/kafka consume() reads every message in a group and commits what it read", async () => {
    const topic = "platformatic-group";
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    const values = Array.from({ length: 30 }, (_, index) => `value-${index}`);
    await produce(topic, values);

    const readInGroup = async (expected: number): Promise<string[]> => {
      const consumer = new Consumer({
        clientId: "platformatic-group",
        groupId: "platformatic-readers",
        bootstrapBrokers: [broker.address],
        sessionTimeout: 6000,
        heartbeatInterval: 500,
      });
      const read: string[] = [];
      try {
        const stream = await consumer.consume({
          topics: [topic],
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: "earliest",
          autocommit: false,
          maxWaitTime: 100,
        });
        for await (const message of stream) {
          read.push(message.value.toString());
          await message.commit();
          if (read.length === expected) break;
        }
        await stream.close();
      } finally {
        await consumer.close(true);
      }
      return read;
    };

    expect((await readInGroup(values.length)).sort()).toEqual([...values].sort());
    const later = ["later-0", "later-1", "later-2", "later-3"];
    await produce(topic, later);
    expect((await readInGroup(later.length)).sort()).toEqual([...later].sort());

    const groups = await eventually("the group listed", async () => {
      const listed = await admin.listGroups();
      return listed.has("platformatic-readers") ? listed : undefined;
    });
    expect(groups.get("platformatic-readers")?.protocolType).toBe("consumer");
  });
});
