import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../broker/broker.ts";
import { defaultBrokerConfig } from "../broker/config.ts";
import { silentLogger } from "../log.ts";
import { apiVersionsApi } from "../protocol/apis/api-versions.ts";
import { metadataApi } from "../protocol/apis/metadata.ts";
import { produceApi } from "../protocol/apis/produce.ts";
import { PeerClient, type PeerClientOptions, peerClientId } from "./peer-client.ts";
import {
  PeerBusyError,
  PeerClosedError,
  PeerDisconnectedError,
  PeerProtocolError,
  PeerTimeoutError,
} from "./peer-errors.ts";
import { captureLogs, FakePeer, ManualClock, socketClosed, unusedPort } from "./peer-test-support.ts";

const generousTimeoutMs = 10_000;
const send = { timeoutMs: generousTimeoutMs };

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function clientFor(port: number, options: Partial<PeerClientOptions> = {}): PeerClient {
  const client = new PeerClient(
    { nodeId: 2, host: "127.0.0.1", port },
    { clientId: peerClientId(7), logger: silentLogger(), ...options },
  );
  cleanup.push(() => client.close());
  return client;
}

async function fakePeer(port = 0): Promise<FakePeer> {
  const peer = await FakePeer.start(port);
  cleanup.push(() => peer.stop());
  return peer;
}

/** The api key an ApiVersions answer from FakePeer carries as its marker. */
function marker(response: { apiKeys: Array<{ apiKey: number }> }): number {
  return response.apiKeys[0]!.apiKey;
}

describe("PeerClient against a Chronik broker", () => {
  let broker: Broker;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "chronik-peer-client-"));
    broker = await Broker.start(
      { ...defaultBrokerConfig, dataDir, listenPort: 0, advertisedPort: 0, fsync: "never" },
      silentLogger(),
    );
  });
  afterAll(async () => {
    await broker?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("connects on the first send and reads ApiVersions in both header layouts", async () => {
    const client = clientFor(broker.port);
    expect(client.state).toBe("idle");
    // v3 is flexible: request header v2, yet the response header stays v0.
    const flexible = await client.send(
      apiVersionsApi,
      3,
      { clientSoftwareName: "chronik", clientSoftwareVersion: "0" },
      send,
    );
    const classic = await client.send(apiVersionsApi, 0, {}, send);
    expect(client.state).toBe("connected");
    for (const response of [flexible, classic]) {
      expect(response.errorCode).toBe(0);
      expect(response.apiKeys.map((entry) => entry.apiKey)).toEqual(expect.arrayContaining([3, 18]));
    }
    expect(flexible.apiKeys.find((entry) => entry.apiKey === 18)?.maxVersion).toBe(4);
  });

  it("reads Metadata in a flexible version (response header v1)", async () => {
    const client = clientFor(broker.port);
    const metadata = await client.send(metadataApi, 12, { topics: null }, send);
    expect(metadata.clusterId).toBe(broker.clusterId);
    expect(metadata.brokers).toEqual([
      expect.objectContaining({ nodeId: 1, host: "127.0.0.1", port: broker.port }),
    ]);
  });

  it("matches many concurrent requests of different APIs and versions to their responses", async () => {
    const client = clientFor(broker.port, { inFlightRequestsMax: 4 });
    const calls = Array.from({ length: 24 }, (_, index) => {
      if (index % 2 === 0) {
        const version = (index / 2) % 5;
        const request = { clientSoftwareName: "chronik", clientSoftwareVersion: "0.1.0" };
        return client
          .send(apiVersionsApi, version, request, send)
          .then((response) => ({ kind: "ApiVersions", version, response }));
      }
      const version = 1 + (((index - 1) / 2) % 12);
      return client
        .send(metadataApi, version, { topics: null }, send)
        .then((response) => ({ kind: "Metadata", version, response }));
    });
    // Nothing goes out before the connection exists.
    expect(client.waitingCount).toBe(24);
    expect(client.state).toBe("connecting");
    for (const { kind, version, response } of await Promise.all(calls)) {
      if (kind === "ApiVersions") {
        const apiVersions = response as Awaited<ReturnType<typeof apiVersionsApi.response.read>>;
        expect(apiVersions.errorCode, `ApiVersions v${version}`).toBe(0);
        expect(apiVersions.apiKeys.length).toBeGreaterThan(5);
      } else {
        const metadata = response as Awaited<ReturnType<typeof metadataApi.response.read>>;
        expect(metadata.brokers[0]?.port, `Metadata v${version}`).toBe(broker.port);
        expect(metadata.clusterId).toBe(version >= 2 ? broker.clusterId : null);
      }
    }
    expect(client.inFlightCount).toBe(0);
  });
});

describe("PeerClient against a peer that misbehaves", () => {
  it("sends header v1 with its client id and answers each request with its own response", async () => {
    const peer = await fakePeer();
    peer.onRequest = (request) => peer.answerApiVersions(request, 100 + request.correlationId);
    const client = clientFor(peer.port);
    const responses = await Promise.all([0, 1, 2].map(() => client.send(apiVersionsApi, 0, {}, send)));
    expect(responses.map(marker)).toEqual([100, 101, 102]);
    expect(peer.requests.map((request) => [request.apiKey, request.apiVersion, request.clientId])).toEqual([
      [18, 0, "chronik-node-7"],
      [18, 0, "chronik-node-7"],
      [18, 0, "chronik-node-7"],
    ]);
  });

  it("closes the connection and fails every pending request on an oversized frame", async () => {
    const peer = await fakePeer();
    const logs = captureLogs();
    const client = clientFor(peer.port, { responseBytesMax: 1024, logger: logs.logger });
    peer.onRequest = (request) => {
      if (peer.requests.length < 3) return;
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(4096, 0);
      request.socket.write(prefix);
    };
    const results = await Promise.allSettled([0, 1, 2].map(() => client.send(apiVersionsApi, 0, {}, send)));
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const error = (result as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(PeerProtocolError);
      expect(error.message).toMatch(/node 2 \(127\.0\.0\.1:\d+\): .*4096 bytes is outside 1\.\.1024/);
      expect(error.requestSent).toBe(true);
    }
    await socketClosed(peer.requests[0]!.socket);
    expect(logs.lines.filter((line) => line.msg === "peer connection lost")).toEqual([
      expect.objectContaining({ peerId: 2, peerAddress: `127.0.0.1:${peer.port}`, inFlight: 3 }),
    ]);
  });

  it("treats a response with another correlation id as a protocol error", async () => {
    const peer = await fakePeer();
    const client = clientFor(peer.port);
    peer.onRequest = (request) => {
      if (peer.requests.length === 2) peer.answerApiVersions(request, 1, request.correlationId + 1);
    };
    const [first, second] = await Promise.all(
      [0, 1].map(() => client.send(apiVersionsApi, 0, {}, send).catch((error: unknown) => error)),
    );
    expect(first).toBeInstanceOf(PeerProtocolError);
    expect((first as Error).message).toMatch(
      /correlation id 2 but ApiVersions v0 \(correlation id 0\) is next/,
    );
    expect(second).toBeInstanceOf(PeerProtocolError);
    await socketClosed(peer.requests[0]!.socket);
  });

  it("times out a request the peer never answers, closing the connection so no late answer lands", async () => {
    const peer = await fakePeer();
    const client = clientFor(peer.port, { reconnectBackoffMsInitial: 1, reconnectBackoffMsMax: 1 });
    const unanswered = client.send(apiVersionsApi, 0, {}, { timeoutMs: 50 });
    const behindIt = client.send(apiVersionsApi, 0, {}, send).catch((error: unknown) => error);
    await expect(unanswered).rejects.toThrow(PeerTimeoutError);
    await expect(unanswered).rejects.toThrow(
      /ApiVersions v0 \(correlation id 0\) got no response within 50 ms/,
    );
    const lost = await behindIt;
    expect(lost).toBeInstanceOf(PeerDisconnectedError);
    expect((lost as PeerDisconnectedError).requestSent).toBe(true);
    await socketClosed(peer.requests[0]!.socket);

    // The peer wakes up and answers the old requests on the old socket: nobody can receive them.
    for (const old of peer.requests) peer.answerApiVersions(old, 1);
    peer.onRequest = (request) => peer.answerApiVersions(request, 2);
    expect(marker(await client.send(apiVersionsApi, 0, {}, send))).toBe(2);
    expect(peer.connections).toBe(2);
  });

  it("fails in-flight requests when the peer hangs up, and reconnects on the next send", async () => {
    const peer = await fakePeer();
    const client = clientFor(peer.port, { reconnectBackoffMsInitial: 5, reconnectBackoffMsMax: 5 });
    peer.onRequest = (request) => request.socket.destroy();
    const error = await client.send(apiVersionsApi, 0, {}, send).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PeerDisconnectedError);
    expect(error).not.toBeInstanceOf(PeerProtocolError);
    expect((error as PeerDisconnectedError).requestSent).toBe(true);

    peer.onRequest = (request) => peer.answerApiVersions(request, 42);
    expect(marker(await client.send(apiVersionsApi, 0, {}, send))).toBe(42);
    expect(peer.connections).toBe(2);
  });

  it("backs off exponentially from a dead peer, then connects once it is back", async () => {
    const port = await unusedPort();
    const logs = captureLogs();
    const clock = new ManualClock();
    const client = clientFor(port, {
      logger: logs.logger,
      clock,
      reconnectBackoffMsInitial: 10,
      reconnectBackoffMsMax: 40,
      random: () => 0.5, // a jitter factor of exactly 1
    });
    const refused = (error: unknown) =>
      error instanceof PeerDisconnectedError && !error.requestSent && /ECONNREFUSED/.test(error.message);

    // The first send connects at once.
    expect(refused(await client.send(apiVersionsApi, 0, {}, send).catch((error: unknown) => error))).toBe(
      true,
    );
    for (const backoffMs of [10, 20, 40]) {
      const attempt = client.send(apiVersionsApi, 0, {}, send).catch((error: unknown) => error);
      clock.advance(backoffMs - 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(client.state, `still waiting out ${backoffMs} ms`).toBe("backoff");
      clock.advance(1);
      expect(client.state).toBe("connecting");
      expect(refused(await attempt)).toBe(true);
    }
    const failures = logs.lines.filter((line) => line.msg === "peer connection failed");
    expect(failures.map((line) => [line.retryInMs, line.consecutiveFailures, line.level])).toEqual([
      [10, 1, 40],
      [20, 2, 40],
      [40, 3, 40],
      [40, 4, 40],
    ]);

    const peer = await fakePeer(port);
    peer.onRequest = (request) => peer.answerApiVersions(request, 9);
    const answered = client.send(apiVersionsApi, 0, {}, send);
    expect(client.state).toBe("backoff");
    clock.advance(40);
    expect(marker(await answered)).toBe(9);
    expect(logs.lines.filter((line) => line.msg === "peer connected")).toEqual([
      expect.objectContaining({ failuresBefore: 4, level: 30, peerId: 2, peerAddress: `127.0.0.1:${port}` }),
    ]);

    // An answer proved the peer healthy, so the next loss starts from the shortest backoff again.
    peer.onRequest = (request) => request.socket.destroy();
    await expect(client.send(apiVersionsApi, 0, {}, send)).rejects.toThrow(PeerDisconnectedError);
    expect(logs.lines.at(-1)).toEqual(
      expect.objectContaining({ msg: "peer connection lost", retryInMs: 10, consecutiveFailures: 1 }),
    );
  });

  it("bounds requests in flight and waiting, refusing one more with PeerBusyError", async () => {
    const peer = await fakePeer();
    const client = clientFor(peer.port, { inFlightRequestsMax: 2, waitingRequestsMax: 3 });
    const accepted = [0, 1, 2, 3, 4].map(() => client.send(apiVersionsApi, 0, {}, send));
    await peer.received(2);
    expect([client.inFlightCount, client.waitingCount]).toEqual([2, 3]);
    await expect(client.send(apiVersionsApi, 0, {}, send)).rejects.toThrow(PeerBusyError);
    await expect(client.send(apiVersionsApi, 0, {}, send)).rejects.toThrow(
      /2 requests in flight and 3 waiting/,
    );

    // One answer frees one slot, and exactly one waiting request goes out.
    peer.answerApiVersions(peer.requests[0]!, 0);
    await peer.received(3);
    expect([client.inFlightCount, client.waitingCount]).toEqual([2, 2]);
    peer.onRequest = (request) => peer.answerApiVersions(request, request.correlationId);
    for (const request of peer.requests.slice(1)) peer.answerApiVersions(request, request.correlationId);
    expect((await Promise.all(accepted)).map(marker)).toEqual([0, 1, 2, 3, 4]);
  });

  it("writes no more while the socket is above its high-water mark", async () => {
    const peer = await fakePeer();
    const client = clientFor(peer.port);
    const records = Buffer.alloc(2 * 1024 * 1024);
    const produce = {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records }] }],
    };
    peer.pauseReading = true;
    const calls = Array.from({ length: 24 }, () =>
      client.send(produceApi, 3, produce, send).catch((error) => error),
    );
    while (client.inFlightCount === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    // 48 MiB cannot all fit in the kernel's socket buffers: with backpressure respected, some must still wait.
    expect(client.waitingCount).toBeGreaterThan(0);
    expect(client.inFlightCount + client.waitingCount).toBe(24);
    const [socket] = peer.sockets;
    socket!.resume();
    await peer.received(24);
    expect(peer.requests.every((request) => request.frameBytes > records.length)).toBe(true);
    await client.close();
    expect((await Promise.all(calls)).every((error) => error instanceof PeerClosedError)).toBe(true);
  });

  it("close() fails what is pending, refuses new sends and never reconnects", async () => {
    const peer = await fakePeer();
    const client = clientFor(peer.port, { inFlightRequestsMax: 1 });
    const inFlight = client.send(apiVersionsApi, 0, {}, send).catch((error: unknown) => error);
    const waiting = client.send(apiVersionsApi, 0, {}, send).catch((error: unknown) => error);
    await peer.received(1);
    await client.close();
    expect(await inFlight).toBeInstanceOf(PeerClosedError);
    const notSent = await waiting;
    expect(notSent).toBeInstanceOf(PeerClosedError);
    expect((notSent as Error).message).toMatch(/request not sent/);
    await expect(client.send(apiVersionsApi, 0, {}, send)).rejects.toThrow(PeerClosedError);
    await socketClosed(peer.requests[0]!.socket);
    expect(client.state).toBe("closed");
    expect(peer.connections).toBe(1);
  });

  it("refuses a caller's mistakes synchronously", () => {
    const client = clientFor(1);
    expect(() => client.send(apiVersionsApi, 9, {}, send)).toThrow(/ApiVersions v9 is outside 0\.\.4/);
    expect(() => client.send(apiVersionsApi, 0, {}, { timeoutMs: 0 })).toThrow(RangeError);
    expect(client.state).toBe("idle");
  });
});
