/**
 * Durability across a restart: 1000 messages acknowledged with acks=all
 * survive a clean stop (SIGTERM) and a crash (SIGKILL) of the broker. After
 * each restart on the same data directory and port, ListOffsets reports the
 * high watermark at 1000 and kcat reads all 1000 back in order, byte for
 * byte; `chronik dump-log` finds the same 1000 records in the segment files.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrokerProcess,
  chronikBin,
  makeDataDir,
  removeDataDir,
  startBroker,
} from "../support/broker-process.ts";
import { consumeWithKcat, queryOffset, runKcat } from "../support/kcat.ts";

const runFile = promisify(execFile);
const messageCount = 1000;
const stoppedTopic = "survives-stop";
const killedTopic = "survives-kill";

function message(index: number): { key: string; value: string } {
  const number = String(index).padStart(4, "0");
  return { key: `key-${number}`, value: `value-${number} ${"é".repeat(index % 17)} ${index * 31}` };
}

interface DumpedRecord {
  offset: string;
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: Array<{ key: string; value: string | null }>;
}

describe("a broker restarted after SIGTERM or SIGKILL keeps every acknowledged record", () => {
  let dataDir: string;
  let broker: BrokerProcess;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
  });

  afterAll(async () => {
    await broker?.stop();
    await removeDataDir(dataDir);
  });

  /** Produces the 1000 messages with kcat; it exits 0 only once every one was acknowledged. */
  async function produceAll(topic: string): Promise<void> {
    const input = Array.from({ length: messageCount }, (_, index) => {
      const { key, value } = message(index);
      return `${key}:${value}\n`;
    }).join("");
    const produced = await runKcat(["-P", "-b", broker.address, "-t", topic, "-K:", "-X", "acks=all"], {
      input,
    });
    expect(produced.stderr).not.toMatch(/failed|error/i);
  }

  async function expectAllConsumed(topic: string): Promise<void> {
    const latest = -1n;
    expect(await queryOffset(broker.address, topic, 0, latest), "high watermark after the restart").toBe(
      BigInt(messageCount),
    );
    const records = await consumeWithKcat(broker.address, topic, 0);
    expect(records).toHaveLength(messageCount);
    records.forEach((record, index) => {
      expect(record.offset).toBe(BigInt(index));
      expect(record.key).toEqual(Buffer.from(message(index).key, "utf8"));
      expect(record.value).toEqual(Buffer.from(message(index).value, "utf8"));
    });
  }

  it("produce 1000 with acks=all, stop with SIGTERM, restart on the same data and port, consume all 1000", async () => {
    await produceAll(stoppedTopic);
    const { port } = broker;
    expect(await broker.stop()).toBe(0);
    broker = await startBroker({ dataDir, port });
    expect(broker.port).toBe(port);
    await expectAllConsumed(stoppedTopic);
  });

  it("produce 1000 with acks=all, kill -9, restart on the same data and port, consume all 1000", async () => {
    await produceAll(killedTopic);
    const { port } = broker;
    await broker.kill();
    broker = await startBroker({ dataDir, port });
    expect(broker.port).toBe(port);
    await expectAllConsumed(killedTopic);
  });

  it("chronik dump-log --json shows the same 1000 records for the killed broker's partition", async () => {
    const { stdout } = await runFile(
      process.execPath,
      [chronikBin, "dump-log", "--data-dir", dataDir, "--topic", killedTopic, "--partition", "0", "--json"],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const dumped = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as DumpedRecord);
    expect(dumped).toHaveLength(messageCount);
    dumped.forEach((record, index) => {
      expect(record).toMatchObject({
        offset: String(index),
        key: message(index).key,
        value: message(index).value,
        headers: [],
      });
    });
  });
});
