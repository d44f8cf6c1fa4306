import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import { SyncScheduler } from "../storage/sync-scheduler.ts";
import { MetadataQuorum } from "./metadata-quorum.ts";

let dataDir: string;
let sync: SyncScheduler;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "chronik-metadata-quorum-"));
  sync = new SyncScheduler("always");
});
afterEach(async () => {
  await sync.close();
  await rm(dataDir, { recursive: true, force: true });
});

function open(): Promise<MetadataQuorum> {
  return MetadataQuorum.open({
    dataDir,
    nodeId: 1,
    sync,
    logger: silentLogger(),
    onFatal: (error) => {
      throw error;
    },
  });
}

function topic(name: string, byte: number): MetadataRecord {
  return {
    type: "TopicRecord",
    version: 0,
    value: { name, topicId: Buffer.alloc(16, byte).toString("hex") },
  } as MetadataRecord;
}

async function quorumState(): Promise<{ epoch: number; leaderId: number | null }> {
  return JSON.parse(await readFile(path.join(dataDir, "quorum-state"), "utf8"));
}

describe("the metadata quorum of a single node", () => {
  it("elects itself, commits and applies appends, and replays them after a restart in a new epoch", async () => {
    const quorum = await open();
    await quorum.leadership;
    expect(await quorumState()).toMatchObject({ epoch: 1, leaderId: 1 });

    const applied: string[] = [];
    quorum.onApplied(async (changes) => {
      applied.push(...changes.map((change) => change.kind));
    });
    // Offset 0 is epoch 1's leader-change record.
    expect(await quorum.append([topic("a", 1), topic("b", 2)])).toEqual({ firstOffset: 1, lastOffset: 2 });
    expect([...quorum.image.topicsByName.keys()]).toEqual(["a", "b"]);
    expect(applied).toEqual(["topic-created", "topic-created"]);
    await quorum.close();

    const reopened = await open();
    expect([...reopened.image.topicsByName.keys()]).toEqual(["a", "b"]);
    await reopened.leadership;
    expect(await quorumState()).toMatchObject({ epoch: 2, leaderId: 1 });
    // Epoch 2's leader-change record took offset 3.
    expect(await reopened.append([topic("c", 3)])).toEqual({ firstOffset: 4, lastOffset: 4 });
    expect([...reopened.image.topicsByName.keys()]).toEqual(["a", "b", "c"]);
    await reopened.close();
  });
});
