/**
 * For the peer client's tests: a bare TCP server that plays a peer node and
 * does exactly what a test tells it (answer, stay silent, send garbage, hang
 * up), and a logger whose lines the test can read.
 */
import { createServer, type Server, type Socket } from "node:net";
import { pino } from "pino";
import type { Logger } from "../log.ts";
import { encodeResponse } from "../protocol/api.ts";
import { apiVersionsApi } from "../protocol/apis/api-versions.ts";
import { FrameSplitter } from "../protocol/frames.ts";
import { type RequestHeader, readRequestHeaderStart, writeResponseHeader } from "../protocol/headers.ts";
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import type { PeerClock, ScheduledTask } from "./peer-options.ts";

export interface ReceivedRequest extends RequestHeader {
  socket: Socket;
  frameBytes: number;
}

export class FakePeer {
  readonly requests: ReceivedRequest[] = [];
  /** Every connection accepted, with when (performance.now()) it was accepted. */
  readonly acceptedAtMs: number[] = [];
  readonly sockets = new Set<Socket>();
  /** Leave new connections unread, so the client's writes pile up in the socket buffers. */
  pauseReading = false;
  /** What to do with each request; by default nothing (the request is never answered). */
  onRequest: (request: ReceivedRequest) => void = () => undefined;
  private requestWaiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<FakePeer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    const peer = new FakePeer(server, address.port);
    server.on("connection", (socket) => peer.accept(socket));
    return peer;
  }

  get connections(): number {
    return this.acceptedAtMs.length;
  }

  /** Resolves once `count` requests have arrived in all. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.requestWaiters.push({ count, resolve }));
  }

  /** Answers as ApiVersions v0 with one api key, `marker`, so a test can tell answers apart. */
  answerApiVersions(request: ReceivedRequest, marker: number, correlationId = request.correlationId): void {
    const writer = new Writer();
    writeResponseHeader(writer, correlationId, false);
    encodeResponse(
      apiVersionsApi,
      0,
      { errorCode: 0, apiKeys: [{ apiKey: marker, minVersion: 0, maxVersion: 0 }] },
      writer,
    );
    const body = writer.toBuffer();
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(body.length, 0);
    request.socket.write(Buffer.concat([prefix, body]));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.acceptedAtMs.push(performance.now());
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    if (this.pauseReading) socket.pause();
    const frames = new FrameSplitter(256 * 1024 * 1024);
    socket.on("data", (chunk: Buffer) => {
      for (const frame of frames.push(chunk)) {
        const header = readRequestHeaderStart(new Reader(frame));
        const request = { ...header, socket, frameBytes: frame.length };
        this.requests.push(request);
        this.onRequest(request);
        const ready = this.requestWaiters.filter((waiter) => this.requests.length >= waiter.count);
        this.requestWaiters = this.requestWaiters.filter((waiter) => this.requests.length < waiter.count);
        for (const waiter of ready) waiter.resolve();
      }
    });
  }
}

/** Resolves once the server side has seen `socket` close. */
export function socketClosed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

export interface CapturedLogs {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

export function captureLogs(): CapturedLogs {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A port nothing listens on (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const peer = await FakePeer.start();
  await peer.stop();
  return peer.port;
}

/** A clock that moves only when the test says, firing what falls due. */
export class ManualClock implements PeerClock {
  private now = 0;
  private tasks: Array<{ dueAtMs: number; task: () => void; cancelled: boolean }> = [];

  nowMs(): number {
    return this.now;
  }

  schedule(task: () => void, delayMs: number): ScheduledTask {
    const entry = { dueAtMs: this.now + delayMs, task, cancelled: false };
    this.tasks.push(entry);
    return { cancel: () => (entry.cancelled = true) };
  }

  advance(ms: number): void {
    this.now += ms;
    const due = this.tasks
      .filter((entry) => !entry.cancelled && entry.dueAtMs <= this.now)
      .sort((left, right) => left.dueAtMs - right.dueAtMs);
    this.tasks = this.tasks.filter((entry) => !entry.cancelled && entry.dueAtMs > this.now);
    for (const entry of due) entry.task();
  }
}
