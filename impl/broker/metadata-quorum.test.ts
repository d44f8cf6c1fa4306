import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InProcessNetwork } from "../cluster/raft/in-process-transport.ts";
import type { RaftTransport } from "../cluster/raft/raft-transport.ts";
import { silentLogger } from "../log.ts";
import { NotControllerError } from "../metadata/controller.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import { SyncScheduler } from "../storage/sync-scheduler.ts";
import { MetadataQuorum } from "./metadata-quorum.ts";

let root: string;
let sync: SyncScheduler;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "chronik-metadata-quorum-"));
  sync = new SyncScheduler("always");
});
afterEach(async () => {
  await sync.close();
  await rm(root, { recursive: true, force: true });
});

/** A sole voter has no one to send to: any send is a message lost. */
const nobody: RaftTransport = {
  vote: () => Promise.reject(new Error("no peers")),
  beginQuorumEpoch: () => Promise.reject(new Error("no peers")),
  endQuorumEpoch: () => Promise.reject(new Error("no peers")),
  fetch: () => Promise.reject(new Error("no peers")),
};

const quickElections = {
  electionTimeoutMs: 50,
  electionJitterMs: 50,
  fetchMaxWaitMs: 50,
  tickIntervalMs: 20,
};

async function open(nodeId: number, voters: number[], transport: RaftTransport): Promise<MetadataQuorum> {
  const dataDir = path.join(root, `node-${nodeId}`);
  await mkdir(dataDir, { recursive: true });
  return MetadataQuorum.open({
    dataDir,
    nodeId,
    initialVoters: voters,
    transport,
    sync,
    logger: silentLogger(),
    raftSettings: quickElections,
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

async function quorumState(nodeId: number): Promise<{ epoch: number; leaderId: number | null }> {
  return JSON.parse(await readFile(path.join(root, `node-${nodeId}`, "quorum-state"), "utf8"));
}

/** Waits for a leader among `quorums` that may write, and returns it. */
async function controllerOf(quorums: MetadataQuorum[]): Promise<MetadataQuorum> {
  for (;;) {
    const view = await quorums[0]!.whenLeaderKnown();
    const leader = quorums.find((quorum) => quorum.nodeId === view.leaderId);
    if (leader !== undefined) {
      try {
        await leader.whenWritable();
        return leader;
      } catch (error) {
        if (!(error instanceof NotControllerError)) throw error;
      }
    }
    await quorums[0]!.whenLeadershipChanges(view);
  }
}

describe("the metadata quorum of a single node", () => {
  it("elects itself, commits and applies appends, and replays them after a restart in a new epoch", async () => {
    const quorum = await open(1, [1], nobody);
    await controllerOf([quorum]);
    expect(await quorumState(1)).toMatchObject({ epoch: 1, leaderId: 1 });

    const applied: string[] = [];
    quorum.onApplied(async (changes) => {
      applied.push(...changes.map((change) => change.kind));
    });
    // Offset 0 is epoch 1's leader-change record.
    expect(await quorum.append([topic("a", 1), topic("b", 2)])).toEqual({ firstOffset: 1, lastOffset: 2 });
    expect([...quorum.image.topicsByName.keys()]).toEqual(["a", "b"]);
    expect(applied).toEqual(["topic-created", "topic-created"]);
    await quorum.close();

    const reopened = await open(1, [1], nobody);
    expect([...reopened.image.topicsByName.keys()]).toEqual(["a", "b"]);
    await controllerOf([reopened]);
    expect(await quorumState(1)).toMatchObject({ epoch: 2, leaderId: 1 });
    // Epoch 2's leader-change record took offset 3.
    expect(await reopened.append([topic("c", 3)])).toEqual({ firstOffset: 4, lastOffset: 4 });
    expect([...reopened.image.topicsByName.keys()]).toEqual(["a", "b", "c"]);
    await reopened.close();
  });
});

/** Three voters over an in-process network, once one of them may write. */
async function threeNodes() {
  const network = new InProcessNetwork();
  const voters = [1, 2, 3];
  const quorums = await Promise.all(voters.map((id) => open(id, voters, network.transportFor(id))));
  for (const quorum of quorums) network.register(quorum.nodeId, quorum.rpc);
  return { network, voters, quorums, controller: await controllerOf(quorums) };
}

describe("the metadata quorum of three nodes", () => {
  it("applies the controller's records on every node, and a follower refuses to write", async () => {
    const { quorums, controller } = await threeNodes();
    const { lastOffset } = await controller.append([topic("a", 1)]);
    await Promise.all(quorums.map((quorum) => quorum.whenApplied(lastOffset + 1)));
    for (const quorum of quorums) expect([...quorum.image.topicsByName.keys()]).toEqual(["a"]);

    const follower = quorums.find((quorum) => quorum !== controller)!;
    await expect(follower.whenWritable()).rejects.toBeInstanceOf(NotControllerError);
    await expect(follower.append([topic("b", 2)])).rejects.toBeInstanceOf(NotControllerError);
    await Promise.all(quorums.map((quorum) => quorum.close()));
  });

  it("replays a restarted follower up to its commit checkpoint, then catches up from the leader", async () => {
    const { network, voters, quorums, controller } = await threeNodes();
    const { lastOffset } = await controller.append([topic("a", 1)]);
    const follower = quorums.find((quorum) => quorum !== controller)!;
    await follower.whenApplied(lastOffset + 1);
    network.unregister(follower.nodeId);
    await follower.close();

    const written = await controller.append([topic("b", 2)]);
    const restarted = await open(follower.nodeId, voters, network.transportFor(follower.nodeId));
    // What it had applied comes back from its own disk, before it hears from anyone.
    expect([...restarted.image.topicsByName.keys()]).toEqual(["a"]);
    network.register(restarted.nodeId, restarted.rpc);
    await restarted.whenApplied(written.lastOffset + 1);
    expect([...restarted.image.topicsByName.keys()]).toEqual(["a", "b"]);
    await Promise.all([restarted, ...quorums.filter((quorum) => quorum !== follower)].map((q) => q.close()));
  });
});
