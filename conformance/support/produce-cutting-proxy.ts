/**
 * A TCP proxy between a client and one broker that loses Produce answers on
 * demand: a Produce request it was told to cut goes through to the broker,
 * and when the broker's answer comes back (so the broker has appended the
 * batch) the proxy closes both connections instead of passing it on. The
 * client sees a connection that died with its request unanswered, and sends
 * it again: the case an idempotent producer exists for.
 *
 * Frames are split by their size prefix in both directions and passed on
 * whole, in order; only the request header's API key and correlation id and
 * the response's correlation id are read.
 *
 * While held, the proxy closes every new connection at once, as if the
 * broker could not be reached: a test holds it between a cut and killing the
 * broker, so that the client's retry cannot reach the broker it is about to kill.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

const frameSizeBytes = 4;
const produceApiKey = 0;

/** Splits a byte stream into size-prefixed frames (each returned with its prefix). */
class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= frameSizeBytes) {
      const size = this.pending.readInt32BE(0);
      if (this.pending.length < frameSizeBytes + size) break;
      frames.push(this.pending.subarray(0, frameSizeBytes + size));
      this.pending = this.pending.subarray(frameSizeBytes + size);
    }
    return frames;
  }
}

export class ProduceCuttingProxy {
  /** Produce requests still to cut. */
  private cutsArmed = 0;
  private held = false;
  private holdingAfterCut = false;
  private readonly sockets = new Set<Socket>();
  private cutWaiters: Array<() => void> = [];
  /** Produce answers lost so far. */
  cuts = 0;
  /** Produce requests that went through, cut or not. */
  produces = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<ProduceCuttingProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the proxy has no port");
    const proxy = new ProduceCuttingProxy(server, address.port, targetPort);
    server.on("connection", (client) => proxy.accept(client));
    return proxy;
  }

  /** The next `count` Produce requests reach the broker, and their answers are lost with the connection. */
  cutNextProduces(count: number): void {
    this.cutsArmed += count;
  }

  /** Resolves once `count` answers have been cut in all. */
  cutsReached(count: number): Promise<void> {
    if (this.cuts >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.cuts >= count) resolve();
        else this.cutWaiters.push(check);
      };
      this.cutWaiters.push(check);
    });
  }

  /** From the moment the next answer is cut, before the client can connect again, new connections are closed. */
  holdAfterNextCut(): void {
    this.holdingAfterCut = true;
  }

  /** New connections reach the broker again. */
  release(): void {
    this.held = false;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.held) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: "127.0.0.1", port: this.targetPort });
    this.track(client);
    this.track(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", closeBoth);
    upstream.on("error", closeBoth);
    client.on("close", closeBoth);
    upstream.on("close", closeBoth);

    const toCut = new Set<number>();
    const requests = new FrameSplitter();
    const responses = new FrameSplitter();
    client.on("data", (chunk: Buffer) => {
      for (const frame of requests.push(chunk)) {
        if (frame.length >= frameSizeBytes + 8 && frame.readInt16BE(frameSizeBytes) === produceApiKey) {
          this.produces += 1;
          if (this.cutsArmed > 0) {
            this.cutsArmed -= 1;
            toCut.add(frame.readInt32BE(frameSizeBytes + 4));
          }
        }
        upstream.write(frame);
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      for (const frame of responses.push(chunk)) {
        const correlationId = frame.length >= frameSizeBytes + 4 ? frame.readInt32BE(frameSizeBytes) : -1;
        if (toCut.has(correlationId)) {
          if (this.holdingAfterCut) {
            this.holdingAfterCut = false;
            this.held = true;
          }
          closeBoth();
          this.cuts += 1;
          for (const waiter of this.cutWaiters.splice(0)) waiter();
          return;
        }
        client.write(frame);
      }
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }
}
