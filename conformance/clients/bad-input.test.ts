/**
 * Malformed input over a raw socket. A connection that sends bytes the broker
 * cannot frame or decode is closed, and only that one: a second connection,
 * opened before, keeps answering. Requests the broker can decode but must
 * refuse get Kafka's error codes instead: UNSUPPORTED_VERSION in the
 * ApiVersions v0 layout, CORRUPT_MESSAGE, UNKNOWN_TOPIC_OR_PARTITION.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { produceApi } from "../../impl/protocol/apis/produce.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { encodeRecordBatch } from "../../impl/protocol/records.ts";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";
import { decodeResponseFrame, RawConnection } from "../support/raw-connection.ts";

const apiVersionsKey = 18;
const produceKey = 0;
const metadataKey = 3;
/** No Kafka API has this key. */
const undefinedApiKey = 1000;

/** ApiVersions v0, byte by byte: header v1 (api_key, api_version, correlation_id, client_id) and an empty body. */
function apiVersionsV0Request(correlationId: number): Buffer {
  const clientId = Buffer.from("by-hand", "utf8");
  const request = Buffer.alloc(10 + clientId.length);
  request.writeInt16BE(apiVersionsKey, 0);
  request.writeInt16BE(0, 2);
  request.writeInt32BE(correlationId, 4);
  request.writeInt16BE(clientId.length, 8);
  clientId.copy(request, 10);
  return request;
}

interface ApiVersionsV0Response {
  correlationId: number;
  errorCode: number;
  apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }>;
}

/** ApiVersions v0 response: header v0 (correlation_id), error_code, [api_key, min_version, max_version]; nothing after. */
function parseApiVersionsV0Response(frame: Buffer): ApiVersionsV0Response {
  const correlationId = frame.readInt32BE(0);
  const errorCode = frame.readInt16BE(4);
  const count = frame.readInt32BE(6);
  const apiKeys = Array.from({ length: count }, (_, index) => ({
    apiKey: frame.readInt16BE(10 + index * 6),
    minVersion: frame.readInt16BE(12 + index * 6),
    maxVersion: frame.readInt16BE(14 + index * 6),
  }));
  expect(frame.length, "ApiVersions v0 response length").toBe(10 + count * 6);
  return { correlationId, errorCode, apiKeys };
}

/** A request header v1 for any key and version (no tag buffer), followed by `body`. */
function requestFrame(apiKey: number, apiVersion: number, correlationId: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(-1, 8); // client_id: null
  return Buffer.concat([header, body]);
}

describe("bad input on one connection leaves the others alone", () => {
  let dataDir: string;
  let broker: BrokerProcess;
  /** Opened before any bad input; it must keep answering throughout. */
  let bystander: RawConnection;
  let nextCorrelationId = 1;

  async function expectBystanderStillAnswers(): Promise<void> {
    const correlationId = nextCorrelationId++;
    bystander.writeFrame(apiVersionsV0Request(correlationId));
    const answer = parseApiVersionsV0Response(await bystander.nextFrame());
    expect(answer.correlationId).toBe(correlationId);
    expect(answer.errorCode).toBe(ErrorCode.NONE);
    expect(answer.apiKeys).toContainEqual({ apiKey: apiVersionsKey, minVersion: 0, maxVersion: 4 });
    expect(broker.child.exitCode).toBeNull();
  }

  beforeAll(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    bystander = await RawConnection.open(broker.port);
    await expectBystanderStillAnswers();
  });

  afterAll(async () => {
    bystander?.destroy();
    await broker?.stop();
    await removeDataDir(dataDir);
  });

  it("a length prefix of 2^31-1 bytes (over socket.request.max.bytes) closes that connection", async () => {
    const victim = await RawConnection.open(broker.port);
    victim.writeRaw(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    await victim.closed;
    await expectBystanderStillAnswers();
  });

  it("a negative length prefix closes that connection", async () => {
    const victim = await RawConnection.open(broker.port);
    victim.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    await victim.closed;
    await expectBystanderStillAnswers();
  });

  it("a Metadata v12 header followed by a garbage body closes that connection", async () => {
    const victim = await RawConnection.open(broker.port);
    // Header v2 ends with an empty tag buffer; then the topics array claims 2^32-2 entries in 5 bytes.
    const body = Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    victim.writeFrame(requestFrame(metadataKey, 12, 7, body));
    await victim.closed;
    await expectBystanderStillAnswers();
  });

  it("a request header cut short (api_key and half an api_version) closes that connection", async () => {
    const victim = await RawConnection.open(broker.port);
    victim.writeFrame(Buffer.from([0x00, apiVersionsKey, 0x00]));
    await victim.closed;
    await expectBystanderStillAnswers();
  });

  it("a client_id longer than the frame closes that connection", async () => {
    const victim = await RawConnection.open(broker.port);
    const header = requestFrame(apiVersionsKey, 0, 8, Buffer.alloc(0));
    header.writeInt16BE(500, 8); // client_id length 500, no bytes follow
    victim.writeFrame(header);
    await victim.closed;
    await expectBystanderStillAnswers();
  });

  it("random bytes: the connection ends without harm to the other one (fast-check, 40 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        const victim = await RawConnection.open(broker.port);
        victim.writeRaw(Buffer.from(bytes));
        // Our side is done: either the broker already closed, or it sees end of stream and closes too.
        victim.end();
        await victim.closed;
        await expectBystanderStillAnswers();
      }),
      { numRuns: 40 },
    );
  });

  it("well-framed requests with a random header and body: answered with their own correlation id, or closed (fast-check, 40 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 90 }),
        fc.integer({ min: 0, max: 20 }),
        fc.uint8Array({ maxLength: 200 }),
        async (apiKey, apiVersion, body) => {
          const victim = await RawConnection.open(broker.port);
          const correlationId = 0x5eed0000 + apiKey;
          victim.writeFrame(requestFrame(apiKey, apiVersion, correlationId, body));
          victim.end();
          const answers: Buffer[] = [];
          while (true) {
            const frame = await victim.nextFrame().catch(() => null);
            if (frame === null) break;
            answers.push(frame);
          }
          await victim.closed;
          expect(answers.length).toBeLessThanOrEqual(1);
          for (const answer of answers) expect(answer.readInt32BE(0)).toBe(correlationId);
          await expectBystanderStillAnswers();
        },
      ),
      { numRuns: 40 },
    );
  });

  it("an API key no Kafka API has gets UNSUPPORTED_VERSION in the ApiVersions v0 layout; the connection stays open", async () => {
    const client = await RawConnection.open(broker.port);
    client.writeFrame(requestFrame(undefinedApiKey, 0, 41, Buffer.alloc(0)));
    const answer = parseApiVersionsV0Response(await client.nextFrame());
    expect(answer.correlationId).toBe(41);
    expect(answer.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(answer.apiKeys).toContainEqual({ apiKey: produceKey, minVersion: 3, maxVersion: 11 });
    expect(answer.apiKeys.map((entry) => entry.apiKey)).not.toContain(undefinedApiKey);

    client.writeFrame(apiVersionsV0Request(42));
    const next = parseApiVersionsV0Response(await client.nextFrame());
    expect(next).toMatchObject({ correlationId: 42, errorCode: ErrorCode.NONE });
    client.destroy();
  });

  it("Produce v2, a version older than the broker serves, gets the same UNSUPPORTED_VERSION answer", async () => {
    const client = await RawConnection.open(broker.port);
    client.writeFrame(requestFrame(produceKey, 2, 43, Buffer.alloc(0)));
    const answer = parseApiVersionsV0Response(await client.nextFrame());
    expect(answer).toMatchObject({ correlationId: 43, errorCode: ErrorCode.UNSUPPORTED_VERSION });
    expect(answer.apiKeys).toContainEqual({ apiKey: produceKey, minVersion: 3, maxVersion: 11 });
    client.destroy();
  });

  describe("Produce v9 with batches the broker must refuse", () => {
    const topic = "bad-batches";
    const produceVersion = 9;
    let client: RawConnection;

    async function produce(partition: number, records: Buffer, correlationId: number) {
      client.writeRequest(produceApi, produceVersion, correlationId, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 30_000,
        topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
      });
      const { correlationId: answered, response } = decodeResponseFrame(
        produceApi,
        produceVersion,
        await client.nextFrame(),
      );
      expect(answered).toBe(correlationId);
      expect(response.responses).toHaveLength(1);
      expect(response.responses[0]!.name).toBe(topic);
      return response.responses[0]!.partitionResponses[0]!;
    }

    beforeAll(async () => {
      client = await RawConnection.open(broker.port);
    });

    afterAll(() => client?.destroy());

    it("a valid batch auto-creates the topic (one partition) and lands at offset 0", async () => {
      const batch = encodeRecordBatch([{ key: Buffer.from("k0"), value: Buffer.from("first") }]);
      const answer = await produce(0, batch, 100);
      expect(answer).toMatchObject({ index: 0, errorCode: ErrorCode.NONE, baseOffset: 0n });
    });

    it("a batch whose CRC has one bit flipped gets CORRUPT_MESSAGE and is not appended", async () => {
      const batch = encodeRecordBatch([{ key: Buffer.from("k1"), value: Buffer.from("corrupted") }]);
      const crcOffset = 17;
      batch[crcOffset] = batch[crcOffset]! ^ 0x01;
      const answer = await produce(0, batch, 101);
      expect(answer).toMatchObject({ index: 0, errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1n });

      const next = await produce(0, encodeRecordBatch([{ value: Buffer.from("second") }]), 102);
      expect(next).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 1n });
    });

    it("partition 7 of the one-partition topic gets UNKNOWN_TOPIC_OR_PARTITION", async () => {
      const batch = encodeRecordBatch([{ value: Buffer.from("nowhere") }]);
      const answer = await produce(7, batch, 103);
      expect(answer).toMatchObject({
        index: 7,
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        baseOffset: -1n,
      });
    });

    it("the connection that sent those batches is still open and the bystander still answers", async () => {
      expect(client.isOpen).toBe(true);
      await expectBystanderStillAnswers();
    });
  });
});
