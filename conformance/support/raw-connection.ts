/**
 * A bare TCP connection to a broker for tests that speak the wire protocol by
 * hand: it writes whatever bytes it is given (well-formed or not) and splits
 * what comes back into size-prefixed response frames.
 */
import { connect, type Socket } from "node:net";
import { type ApiDefinition, contextFor, encodeRequest } from "../../impl/protocol/api.ts";
import {
  readResponseHeader,
  responseHeaderIsFlexible,
  writeRequestHeader,
} from "../../impl/protocol/headers.ts";
import { Reader } from "../../impl/protocol/reader.ts";
import { Writer } from "../../impl/protocol/writer.ts";

const frameSizeBytes = 4;

export class RawConnection {
  private received: Buffer = Buffer.alloc(0);
  private frames: Buffer[] = [];
  private waiters: Array<{ resolve: (frame: Buffer) => void; reject: (error: Error) => void }> = [];
  private isClosed = false;
  /** Resolves once the socket is closed, by either side. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    // A reset from the broker is one way of closing; the `closed` promise reports it.
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.isClosed = true;
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("connection closed"));
        resolve();
      });
    });
  }

  static open(port: number, host = "127.0.0.1"): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawConnection(socket));
      });
      socket.once("error", reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Writes bytes as they are: no size prefix added. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Writes one frame: a 4-byte size prefix, then the body. */
  writeFrame(body: Buffer): void {
    const prefix = Buffer.alloc(frameSizeBytes);
    prefix.writeInt32BE(body.length, 0);
    this.socket.write(Buffer.concat([prefix, body]));
  }

  /** Writes a request encoded with the project's own grammar, with header v1 (or v2 when flexible). */
  writeRequest<RequestInput>(
    api: ApiDefinition<unknown, RequestInput, unknown, unknown>,
    version: number,
    correlationId: number,
    request: RequestInput,
  ): void {
    const writer = new Writer();
    writeRequestHeader(
      writer,
      { apiKey: api.key, apiVersion: version, correlationId, clientId: "raw-connection" },
      version >= api.flexibleMin,
    );
    encodeRequest(api, version, request, writer);
    this.writeFrame(writer.toBuffer());
  }

  /** The next response frame, without its size prefix; rejects if the connection closes first. */
  nextFrame(): Promise<Buffer> {
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.isClosed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Half-closes: tells the broker no more bytes will come. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    while (this.received.length >= frameSizeBytes) {
      const size = this.received.readInt32BE(0);
      if (this.received.length < frameSizeBytes + size) return;
      const frame = this.received.subarray(frameSizeBytes, frameSizeBytes + size);
      this.received = this.received.subarray(frameSizeBytes + size);
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(frame);
      else this.frames.push(frame);
    }
  }
}

/** Splits a response frame into its correlation id and the body decoded with the API's grammar. */
export function decodeResponseFrame<Response>(
  api: ApiDefinition<unknown, unknown, Response, unknown>,
  version: number,
  frame: Buffer,
): { correlationId: number; response: Response } {
  const context = contextFor(api, version);
  const reader = new Reader(frame);
  const correlationId = readResponseHeader(reader, responseHeaderIsFlexible(api.key, context.flexible));
  const response = api.response.read(reader, context, false);
  return { correlationId, response };
}

/** One request on a connection of its own: opens, asks, reads the answer, closes. */
export async function exchange<Response, RequestInput>(
  port: number,
  api: ApiDefinition<unknown, RequestInput, Response, unknown>,
  version: number,
  request: RequestInput,
  host = "127.0.0.1",
): Promise<Response> {
  const connection = await RawConnection.open(port, host);
  try {
    connection.writeRequest(api, version, 1, request);
    return decodeResponseFrame(api, version, await connection.nextFrame()).response;
  } finally {
    connection.destroy();
  }
}
