/**
 * `chronik start --trace FILE` on a three-node cluster of real processes and
 * `chronik trace check` on what they wrote: a topic created and produced to
 * with acks=all, a consumer group, the partition leader killed with -9 and
 * restarted. Every machine's transitions must be in the traces, replay with
 * the machines and keep the invariants; a trace altered by one field, or
 * missing one step, must be caught and the step named.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { chronikBin, makeDataDir, removeDataDir } from "../support/broker-process.ts";
import { LocalCluster } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";
import { exchange } from "../support/raw-connection.ts";

const run = promisify(execFile);

interface CheckOutcome {
  exitCode: number;
  output: string;
}

async function traceCheck(files: string[]): Promise<CheckOutcome> {
  try {
    const { stdout } = await run(process.execPath, [chronikBin, "trace", "check", ...files], {
      maxBuffer: 64 << 20,
    });
    return { exitCode: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { exitCode: failed.code ?? -1, output: failed.stdout ?? "" };
  }
}

async function partitionState(port: number, topic: string) {
  const response = await exchange(port, metadataApi, 12, {
    topics: [{ topicId: "00000000000000000000000000000000", name: topic }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const partition = response.topics[0]?.partitions[0];
  return partition === undefined ? undefined : { leader: partition.leaderId, isr: partition.isrNodes };
}

describe("transition traces of a three-node cluster", () => {
  let root: string;
  let cluster: LocalCluster;
  const traceOf = (nodeId: number) => path.join(root, `node-${nodeId}.trace.ndjson`);
  const traces = () => [1, 2, 3].map(traceOf);

  beforeAll(async () => {
    root = await makeDataDir();
    cluster = await LocalCluster.start(
      3,
      ["--group-initial-rebalance-delay-ms", "0", "--offsets-topic-partitions", "3"],
      { root, argsOf: (nodeId) => ["--trace", traceOf(nodeId)] },
    );
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
    await removeDataDir(root);
  });

  it("records every machine's transitions across a kill -9, and they check out", async () => {
    const kafka = new Kafka({
      clientId: "trace-test",
      brokers: cluster.bootstrap,
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 60 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "traced", numPartitions: 1, replicationFactor: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const send = (from: number) =>
      producer.send({
        topic: "traced",
        acks: -1,
        messages: Array.from({ length: 20 }, (_, index) => ({ value: `m-${from + index}` })),
      });
    await send(0);

    const consumer = kafka.consumer({ groupId: "traced-group", sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: "traced", fromBeginning: true });
    let consumed = 0;
    await consumer.run({
      eachMessage: async () => {
        consumed++;
      },
    });
    await eventually("the group consumes the first records", async () => (consumed >= 20 ? true : undefined));
    await consumer.disconnect();

    const port = cluster.up[0]!.port;
    const before = await eventually("the partition has a leader", async () => {
      const state = await partitionState(port, "traced");
      return state !== undefined && state.leader >= 0 ? state : undefined;
    });
    await cluster.killNode(before.leader);
    const survivor = cluster.up[0]!.port;
    await eventually("another node leads", async () => {
      const state = await partitionState(survivor, "traced");
      return state !== undefined && state.leader >= 0 && state.leader !== before.leader ? state : undefined;
    });
    await send(20);
    await cluster.startNode(before.leader);
    await eventually("the restarted node is back in the ISR", async () => {
      const state = await partitionState(survivor, "traced");
      return state?.isr.length === 3 ? state : undefined;
    });
    await producer.disconnect();
    for (const nodeId of [1, 2, 3]) await cluster.stopNode(nodeId);

    const checked = await traceCheck(traces());
    expect(checked.output).toContain("trace check: passed");
    expect(checked.exitCode).toBe(0);
    for (const machine of ["raft-quorum", "partition-lifecycle", "isr", "consumer-group"]) {
      expect(checked.output).toMatch(new RegExp(`${machine} [1-9]\\d*`));
    }
    // The killed node's file holds both of its incarnations.
    const starts = (await readFile(traceOf(before.leader), "utf8")).match(/"kind":"start"/g) ?? [];
    expect(starts.length).toBe(2);
  }, 180_000);

  it("names the step when a trace was altered or lost a step", async () => {
    const file = traceOf(1);
    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    const heartbeat = lines.findIndex(
      (line) => line.includes('"type":"clock.ticked"') && line.includes("raft-quorum"),
    );
    expect(heartbeat).toBeGreaterThan(0);

    const altered = lines.map((line, index) => {
      if (index !== heartbeat) return line;
      const parsed = JSON.parse(line) as { after: { context: { epoch: number } } };
      parsed.after.context.epoch += 7;
      return JSON.stringify(parsed);
    });
    const alteredFile = path.join(root, "altered.trace.ndjson");
    await writeFile(alteredFile, `${altered.join("\n")}\n`);
    const alteredCheck = await traceCheck([alteredFile]);
    expect(alteredCheck.exitCode).toBe(1);
    expect(alteredCheck.output).toContain("VIOLATION (replay) node 1 raft-quorum 1: clock.ticked");
    expect(alteredCheck.output).toContain(`${alteredFile}:${heartbeat + 1}`);

    // A step that changed the group (a member joined) goes missing: the next step of the group
    // starts where the lost one began, and the machine does not reach what the node logged.
    const groupFile = (
      await Promise.all(
        traces().map(async (candidate) => ({ candidate, text: await readFile(candidate, "utf8") })),
      )
    ).find(({ text }) => text.includes('"type":"group.joinRequested"'));
    expect(groupFile).toBeDefined();
    const groupLines = groupFile!.text.trimEnd().split("\n");
    const join = groupLines.findIndex((line) => line.includes('"type":"group.joinRequested"'));
    const lossy = groupLines.filter((_, index) => index !== join);
    const lossyFile = path.join(root, "lossy.trace.ndjson");
    await writeFile(lossyFile, `${lossy.join("\n")}\n`);
    const lossyCheck = await traceCheck([lossyFile]);
    expect(lossyCheck.exitCode).toBe(1);
    expect(lossyCheck.output).toMatch(/VIOLATION \(replay\) node \d consumer-group traced-group/);
  }, 60_000);
});
