import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log.ts";
import { apiVersionsApi } from "../protocol/apis/api-versions.ts";
import { peerClientId } from "./peer-client.ts";
import { PeerClosedError, PeerUnknownError } from "./peer-errors.ts";
import { PeerPool } from "./peer-pool.ts";
import { FakePeer } from "./peer-test-support.ts";

const send = { timeoutMs: 10_000 };

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A peer that answers every ApiVersions with `marker`, so a test can tell which peer answered. */
async function answeringPeer(marker: number): Promise<FakePeer> {
  const peer = await FakePeer.start();
  cleanup.push(() => peer.stop());
  peer.onRequest = (request) => peer.answerApiVersions(request, marker);
  return peer;
}

function newPool(): PeerPool {
  const pool = new PeerPool({ clientId: peerClientId(1), logger: silentLogger() });
  cleanup.push(() => pool.close());
  return pool;
}

async function answeredBy(pool: PeerPool, nodeId: number): Promise<number> {
  const response = await pool.send(nodeId, apiVersionsApi, 0, {}, send);
  return response.apiKeys[0]!.apiKey;
}

describe("PeerPool", () => {
  it("keeps one client per node and sends through it", async () => {
    const [two, three] = await Promise.all([answeringPeer(2), answeringPeer(3)]);
    const pool = newPool();
    await pool.update([
      { nodeId: 3, host: "127.0.0.1", port: three.port },
      { nodeId: 2, host: "127.0.0.1", port: two.port },
    ]);
    expect(pool.nodeIds).toEqual([2, 3]);
    expect(await answeredBy(pool, 2)).toBe(2);
    expect(await answeredBy(pool, 3)).toBe(3);
    await expect(pool.send(4, apiVersionsApi, 0, {}, send)).rejects.toThrow(PeerUnknownError);

    // The same endpoints again: same clients, same connections.
    const clientOfTwo = pool.client(2);
    await pool.update([
      { nodeId: 2, host: "127.0.0.1", port: two.port },
      { nodeId: 3, host: "127.0.0.1", port: three.port },
    ]);
    expect(pool.client(2)).toBe(clientOfTwo);
    expect(await answeredBy(pool, 2)).toBe(2);
    expect(two.connections).toBe(1);
  });

  it("replaces the client of a node that moved, failing what the old one had pending", async () => {
    const [before, after] = await Promise.all([answeringPeer(20), answeringPeer(21)]);
    before.onRequest = () => undefined;
    const pool = newPool();
    await pool.update([{ nodeId: 2, host: "127.0.0.1", port: before.port }]);
    const oldClient = pool.client(2)!;
    const stranded = pool.send(2, apiVersionsApi, 0, {}, send).catch((error: unknown) => error);
    await before.received(1);

    await pool.update([{ nodeId: 2, host: "127.0.0.1", port: after.port }]);
    const error = await stranded;
    expect(error).toBeInstanceOf(PeerClosedError);
    expect((error as Error).message).toMatch(/node 2 moved to 127\.0\.0\.1:\d+/);
    expect(oldClient.state).toBe("closed");
    expect(pool.client(2)).not.toBe(oldClient);
    expect(await answeredBy(pool, 2)).toBe(21);
  });

  it("closes the clients of nodes that left, and refuses updates once closed", async () => {
    const peer = await answeringPeer(2);
    const pool = newPool();
    await pool.update([{ nodeId: 2, host: "127.0.0.1", port: peer.port }]);
    const client = pool.client(2)!;
    expect(await answeredBy(pool, 2)).toBe(2);
    await pool.update([]);
    expect(client.state).toBe("closed");
    expect(pool.nodeIds).toEqual([]);
    await expect(pool.send(2, apiVersionsApi, 0, {}, send)).rejects.toThrow(PeerUnknownError);
    expect(() =>
      pool.update([
        { nodeId: 5, host: "a", port: 1 },
        { nodeId: 5, host: "b", port: 2 },
      ]),
    ).toThrow(/node 5 listed twice/);

    await pool.close();
    expect(() => pool.update([{ nodeId: 2, host: "127.0.0.1", port: peer.port }])).toThrow(/closed/);
  });
});
