/**
 * A node's life as an operator sees it: start, serve, SIGTERM (clean exit 0),
 * start again on the same data with its topics intact; flags refused clearly.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { chronikBin, makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";
import { freePort } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";

const run = promisify(execFile);
const dataDirs: string[] = [];

afterAll(async () => {
  for (const dataDir of dataDirs) await removeDataDir(dataDir);
});

async function topicNames(address: string): Promise<string[]> {
  const admin = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).sort();
  } finally {
    await admin.disconnect();
  }
}

describe("broker lifecycle", () => {
  it("exits 0 on SIGTERM and keeps its topics across a restart", async () => {
    const dataDir = await makeDataDir();
    dataDirs.push(dataDir);
    const first = await startBroker({ dataDir });
    const admin = new Kafka({ brokers: [first.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "kept", numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    expect(await first.stop()).toBe(0);
    expect(first.logLines.some((line) => line.msg === "broker stopped")).toBe(true);

    const second = await startBroker({ dataDir, port: first.port });
    try {
      expect(await topicNames(second.address)).toEqual(["kept"]);
      const recovered = second.logLines.filter(
        (line) => line.level === 40 && String(line.msg).includes("truncat"),
      );
      expect(recovered).toEqual([]);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it("says so and exits when stopped while it waits for a quorum to start", async () => {
    const dataDir = await makeDataDir();
    dataDirs.push(dataDir);
    const [port, absentPeer, otherAbsentPeer] = await Promise.all([freePort(), freePort(), freePort()]);
    // Voters 2 and 3 never come: node 1 can elect no leader, so it never finishes starting.
    const node = spawn(
      process.execPath,
      [
        chronikBin,
        "start",
        "--listen",
        `127.0.0.1:${port}`,
        "--data-dir",
        dataDir,
        "--voters",
        `1@127.0.0.1:${port},2@127.0.0.1:${absentPeer},3@127.0.0.1:${otherAbsentPeer}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    node.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await eventually("the node is waiting for its quorum", async () =>
      stderr.includes("raft node started") ? true : undefined,
    );
    const exited = new Promise<number | null>((resolve) => node.once("exit", (code) => resolve(code)));
    node.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(stderr).toContain("stop requested before the broker finished starting");
  });

  it("refuses a data directory another running broker holds", async () => {
    const dataDir = await makeDataDir();
    dataDirs.push(dataDir);
    const broker = await startBroker({ dataDir });
    try {
      await expect(startBroker({ dataDir })).rejects.toThrow(/in use by process/);
    } finally {
      await broker.stop();
    }
  });

  it("refuses a data directory that belongs to another node", async () => {
    const dataDir = await makeDataDir();
    dataDirs.push(dataDir);
    const broker = await startBroker({ dataDir });
    await broker.stop();
    await expect(startBroker({ dataDir, args: ["--node-id", "2"] })).rejects.toThrow(/belongs to node 1/);
  });

  it("refuses a malformed --voters list with a message that says why", async () => {
    const dataDir = await makeDataDir();
    dataDirs.push(dataDir);
    for (const voters of ["1@127.0.0.1", "1@127.0.0.1:9092,1@127.0.0.1:9093", "one@127.0.0.1:9092"]) {
      const failure = await run(process.execPath, [
        chronikBin,
        "start",
        "--data-dir",
        dataDir,
        "--voters",
        voters,
      ]).catch((error: { code: number; stderr: string }) => error);
      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stderr: string }).stderr).toMatch(/expected ID@HOST:PORT|listed twice/);
    }
  });
});
