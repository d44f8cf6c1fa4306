/**
 * KafkaJS's idempotent producer (idempotent: true) against one broker, with
 * retries forced: KafkaJS reaches the broker through a proxy in the test that
 * lets chosen Produce requests through and then cuts the connection before
 * the answer comes back (conformance/support/produce-cutting-proxy.ts). The
 * broker has appended those batches; KafkaJS sends them again with the same
 * producer id and sequence, and the broker must answer the retry with the
 * first attempt's offsets instead of writing it twice, also after it was
 * killed with kill -9 and restarted in between. `chronik dump-log` then reads
 * the partition from disk: every message exactly once, in order.
 *
 * Besides, over the wire: InitProducerId (fresh ids from the node's block; a
 * transactional id refused with UNSUPPORTED_VERSION) and Produce's answers
 * to a retry, a sequence gap, a fenced epoch, and the batches only
 * transactions write.
 */
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initProducerIdApi } from "../../impl/protocol/apis/init-producer-id.ts";
import { produceApi } from "../../impl/protocol/apis/produce.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { type BatchOptions, encodeRecordBatch } from "../../impl/protocol/records.ts";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";
import { sendNumbered, socketsThrough, valuesOnDisk } from "../support/idempotent-producing.ts";
import { ProduceCuttingProxy } from "../support/produce-cutting-proxy.ts";
import { exchange } from "../support/raw-connection.ts";

const topic = "idempotent";

describe("KafkaJS idempotent producer against one broker that loses Produce answers", () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let proxy: ProduceCuttingProxy;
  let producer: Producer;
  const sent: string[] = [];

  beforeAll(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    proxy = await ProduceCuttingProxy.start(broker.port);
    const kafka = new Kafka({
      clientId: "chronik-idempotent",
      brokers: [broker.address],
      logLevel: logLevel.NOTHING,
      // A restart takes a second or two: keep retrying through it.
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 60 },
      socketFactory: socketsThrough(new Map([[broker.port, proxy]])),
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    await admin.disconnect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await proxy?.close();
    await broker?.stop();
    await removeDataDir(dataDir);
  });

  it("writes every message once when answers are lost and KafkaJS sends the batches again", async () => {
    const producesBefore = proxy.produces;
    // Every third send loses its answer after the broker appended it.
    sent.push(
      ...(await sendNumbered(producer, topic, 0, 120, 10, (index) => {
        if (index % 3 === 1) proxy.cutNextProduces(1);
      })),
    );
    expect(proxy.cuts).toBe(4);
    // Twelve sends, four of them twice.
    expect(proxy.produces - producesBefore).toBe(16);
    expect(await valuesOnDisk(dataDir, topic)).toEqual(sent);
  });

  it("still knows a batch whose answer was lost after a kill -9 and a restart, and writes it once", async () => {
    proxy.cutNextProduces(1);
    proxy.holdAfterNextCut();
    const cutsBefore = proxy.cuts;
    const retried = sendNumbered(producer, topic, 120, 10, 10);
    await proxy.cutsReached(cutsBefore + 1);
    // The broker appended the batch and answered; KafkaJS never heard. It retries once the broker is back.
    await broker.kill();
    broker = await startBroker({ dataDir, port: broker.port });
    proxy.release();
    sent.push(...(await retried));
    sent.push(...(await sendNumbered(producer, topic, 130, 30, 10)));
    expect(await valuesOnDisk(dataDir, topic)).toEqual(sent);
    expect(sent).toHaveLength(160);
  });

  it("gives each InitProducerId a fresh id with epoch 0, and refuses a transactional id for good", async () => {
    const ask = (transactionalId: string | null) =>
      exchange(broker.port, initProducerIdApi, 4, {
        transactionalId,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
      });
    const first = await ask(null);
    const second = await ask(null);
    expect(first).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    expect(second.producerId).toBeGreaterThan(first.producerId);
    // The restarted broker took a new block: its ids come after every id the first run could have given.
    expect(first.producerId).toBeGreaterThanOrEqual(1000n);
    expect(await ask("orders-tx")).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.UNSUPPORTED_VERSION,
      producerId: -1n,
      producerEpoch: -1,
    });
  });

  it("answers Produce as Kafka does: a retry with its first offset, a gap, a fenced epoch, transactional batches", async () => {
    const { producerId } = await exchange(broker.port, initProducerIdApi, 0, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
    });
    const produce = async (value: string, batch: BatchOptions) => {
      const records = encodeRecordBatch([{ value: Buffer.from(value) }], batch);
      const response = await exchange(broker.port, produceApi, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
      });
      return response.responses[0]!.partitionResponses[0]!;
    };
    const sequence = (baseSequence: number, producerEpoch = 0) => ({
      producerId,
      producerEpoch,
      baseSequence,
    });
    const first = await produce("wire-0", sequence(0));
    expect(first.errorCode).toBe(ErrorCode.NONE);
    expect(await produce("wire-0 again", sequence(0))).toMatchObject({
      errorCode: ErrorCode.NONE,
      baseOffset: first.baseOffset,
    });
    expect(await produce("wire-gap", sequence(5))).toMatchObject({
      errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    });
    expect(await produce("wire-1", sequence(0, 1))).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(await produce("wire-fenced", sequence(1, 0))).toMatchObject({
      errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
    });
    // Bit 4 of the attributes: transactional; bit 5: a control batch (a transaction marker).
    expect(await produce("wire-transactional", { ...sequence(1, 1), extraAttributes: 0x10 })).toMatchObject({
      errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    });
    expect(await produce("wire-marker", { ...sequence(1, 1), extraAttributes: 0x20 })).toMatchObject({
      errorCode: ErrorCode.INVALID_RECORD,
    });
    const written = (await valuesOnDisk(dataDir, topic)).filter((value) => value.startsWith("wire-"));
    expect(written).toEqual(["wire-0", "wire-1"]);
  });
});
