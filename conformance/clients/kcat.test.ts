/**
 * kcat (librdkafka 2.x) against one Chronik broker: metadata listing, 1000
 * messages produced with acks=all to a topic the produce auto-creates, read
 * back from beginning to end byte for byte, and offset lookup by timestamp.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";
import { consumeWithKcat, queryOffset, runKcat } from "../support/kcat.ts";

const messageCount = 1000;

/** Keys are ASCII (the `-K:` delimiter ends them); values carry UTF-8, tabs and the delimiter itself. */
function message(index: number): { key: string; value: string } {
  const number = String(index).padStart(4, "0");
  return {
    key: `key-${number}`,
    value: `value ${number}: größe=${index * 7}\tµs ✓ ${"x".repeat(index % 50)}`,
  };
}

function producerInput(indexes: number[]): string {
  return indexes.map((index) => `${message(index).key}:${message(index).value}\n`).join("");
}

describe("kcat against one broker", () => {
  let dataDir: string;
  let broker: BrokerProcess;
  const topic = "kcat-produced";

  beforeAll(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
  });

  afterAll(async () => {
    await broker?.stop();
    await removeDataDir(dataDir);
  });

  it("kcat -L lists this broker as node 1 at its own address", async () => {
    const { stdout } = await runKcat(["-L", "-b", broker.address]);
    const listing = stdout.toString();
    expect(listing).toMatch(/1 brokers:/);
    expect(listing).toContain(`broker 1 at ${broker.address}`);
  });

  it("produces 1000 messages with acks=all to a topic that the produce auto-creates", async () => {
    const indexes = Array.from({ length: messageCount }, (_, index) => index);
    // Two runs, so the log holds two producers' batches with distinct timestamps.
    for (const half of [indexes.slice(0, messageCount / 2), indexes.slice(messageCount / 2)]) {
      await runKcat(["-P", "-b", broker.address, "-t", topic, "-K:", "-X", "acks=all"], {
        input: producerInput(half),
      });
    }

    const { stdout } = await runKcat(["-L", "-b", broker.address, "-t", topic]);
    expect(stdout.toString()).toMatch(new RegExp(`topic "${topic}" with 1 partitions:`));
    expect(stdout.toString()).toMatch(/partition 0, leader 1, replicas: 1, isrs: 1/);
  });

  it("kcat -C -o beginning -e reads all 1000 back in order, byte-exact", async () => {
    const records = await consumeWithKcat(broker.address, topic, 0);
    expect(records).toHaveLength(messageCount);
    records.forEach((record, index) => {
      expect(record.offset).toBe(BigInt(index));
      expect(record.key).toEqual(Buffer.from(message(index).key, "utf8"));
      expect(record.value).toEqual(Buffer.from(message(index).value, "utf8"));
    });
  });

  it("kcat -Q answers the first offset whose timestamp is at or after the one asked for", async () => {
    const { stdout } = await runKcat([
      "-C",
      "-b",
      broker.address,
      "-t",
      topic,
      "-p",
      "0",
      "-o",
      "beginning",
      "-e",
      "-q",
      "-f",
      "%o %T\n",
    ]);
    const timestamps = stdout
      .toString()
      .trim()
      .split("\n")
      .map((line) => BigInt(line.split(" ")[1]!));
    expect(timestamps).toHaveLength(messageCount);
    const firstOffsetAtOrAfter = (timestamp: bigint): bigint => {
      const index = timestamps.findIndex((candidate) => candidate >= timestamp);
      return index < 0 ? -1n : BigInt(index);
    };
    const probes = [
      timestamps[0]!,
      timestamps[messageCount / 2]!,
      timestamps[messageCount - 1]!,
      // Later than every record: Kafka answers offset -1 for "no such record".
      timestamps[messageCount - 1]! + 60_000n,
    ];
    for (const probe of probes) {
      expect(await queryOffset(broker.address, topic, 0, probe), `timestamp ${probe}`).toBe(
        firstOffsetAtOrAfter(probe),
      );
    }
  });
});
