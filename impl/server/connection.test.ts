import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log.ts";
import type { FrameHandler, RequestSequencing } from "./connection.ts";
import { KafkaListener } from "./server.ts";

/** Frames are a one-byte id; the handler answers with the same id after a delay the test picks. */
class ScriptedHandler implements FrameHandler {
  started: number[] = [];
  constructor(private readonly delayMsById: Map<number, number>) {}
  async handle(frame: Buffer, _peer: string, sequencing: RequestSequencing): Promise<Buffer[] | null> {
    const id = frame[0]!;
    this.started.push(id);
    sequencing.releaseNext();
    await new Promise((resolve) => setTimeout(resolve, this.delayMsById.get(id) ?? 0));
    return id === 0 ? null : [Buffer.from([id])];
  }
}

function frame(id: number): Buffer {
  const bytes = Buffer.alloc(5);
  bytes.writeInt32BE(1, 0);
  bytes[4] = id;
  return bytes;
}

async function open(handler: FrameHandler, requestBytesMax = 1024) {
  const listener = new KafkaListener(
    { host: "127.0.0.1", port: 0, connectionsMax: 10, requestBytesMax, inFlightRequestsMax: 4 },
    handler,
    silentLogger(),
  );
  const port = await listener.listen();
  return { listener, port };
}

function answers(socket: Socket, count: number): Promise<number[]> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= count * 5) {
        resolve(Array.from({ length: count }, (_, index) => received[index * 5 + 4]!));
      }
    });
  });
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup) await step();
  cleanup = [];
});

describe("connection", () => {
  it("answers pipelined requests in request order although they finish out of order", async () => {
    const handler = new ScriptedHandler(
      new Map([
        [1, 60],
        [2, 0],
        [3, 30],
      ]),
    );
    const { listener, port } = await open(handler);
    cleanup.push(() => listener.close());
    const socket = connect(port, "127.0.0.1");
    cleanup.push(() => void socket.destroy());
    const got = answers(socket, 3);
    socket.write(Buffer.concat([frame(1), frame(2), frame(3)]));
    expect(await got).toEqual([1, 2, 3]);
    expect(handler.started).toEqual([1, 2, 3]);
  });

  it("sends nothing for a request without a response and keeps the order of the rest", async () => {
    const { listener, port } = await open(new ScriptedHandler(new Map([[0, 20]])));
    cleanup.push(() => listener.close());
    const socket = connect(port, "127.0.0.1");
    cleanup.push(() => void socket.destroy());
    const got = answers(socket, 2);
    socket.write(Buffer.concat([frame(4), frame(0), frame(5)]));
    expect(await got).toEqual([4, 5]);
  });

  it("closes a connection that announces a frame over socket.request.max.bytes, and only that one", async () => {
    const { listener, port } = await open(new ScriptedHandler(new Map()), 16);
    cleanup.push(() => listener.close());
    const healthy = connect(port, "127.0.0.1");
    const hostile = connect(port, "127.0.0.1");
    cleanup.push(() => void healthy.destroy());
    const closed = new Promise<void>((resolve) => hostile.on("close", () => resolve()));
    hostile.on("error", () => undefined);
    const oversized = Buffer.alloc(4);
    oversized.writeInt32BE(1_000_000, 0);
    hostile.write(oversized);
    await closed;
    const got = answers(healthy, 1);
    healthy.write(frame(9));
    expect(await got).toEqual([9]);
  });
});
