/**
 * A minimal pipelining Kafka client for the benchmark: one socket, any number
 * of requests in flight, each response matched to its request by correlation
 * id. It does no encoding of its own beyond the header, so a caller can build
 * a request body once and send it many times without the client's CPU cost
 * showing up in the broker's figures.
 */
import net from "node:net";
import { type AnyApi, contextFor } from "../impl/protocol/api.ts";
import {
  readResponseHeader,
  responseHeaderIsFlexible,
  writeRequestHeader,
} from "../impl/protocol/headers.ts";
import { Reader } from "../impl/protocol/reader.ts";
import { Writer } from "../impl/protocol/writer.ts";

const frameSizeBytes = 4;
const clientId = "chronik-bench";

interface PendingRequest {
  resolve(body: Reader): void;
  reject(error: Error): void;
}

export class PipelinedConnection {
  private readonly pending = new Map<number, PendingRequest>();
  private nextCorrelationId = 0;
  private received: Buffer = Buffer.alloc(0);
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk) => this.receive(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("the broker closed the connection")));
  }

  static connect(host: string, port: number): Promise<PipelinedConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new PipelinedConnection(socket));
      });
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends an already encoded request body; resolves with a reader positioned
   * after the response header. The header is written per send because only
   * the correlation id changes.
   */
  send(api: AnyApi, version: number, body: Buffer): Promise<Reader> {
    if (this.failure) return Promise.reject(this.failure);
    const flexible = contextFor(api, version).flexible;
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) | 0;
    const header = new Writer().int32(0);
    writeRequestHeader(header, { apiKey: api.key, apiVersion: version, correlationId, clientId }, flexible);
    const headerBytes = header.toBuffer();
    headerBytes.writeInt32BE(headerBytes.length - frameSizeBytes + body.length, 0);
    const response = new Promise<Reader>((resolve, reject) => {
      this.pending.set(correlationId, {
        resolve: (reader) => {
          readResponseHeader(reader, responseHeaderIsFlexible(api.key, flexible));
          resolve(reader);
        },
        reject,
      });
    });
    this.socket.cork();
    this.socket.write(headerBytes);
    this.socket.write(body);
    this.socket.uncork();
    return response;
  }

  close(): void {
    this.failure ??= new Error("connection closed by the benchmark");
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    while (this.received.length >= frameSizeBytes) {
      const size = this.received.readInt32BE(0);
      if (this.received.length < frameSizeBytes + size) return;
      const frame = this.received.subarray(frameSizeBytes, frameSizeBytes + size);
      this.received = this.received.subarray(frameSizeBytes + size);
      const correlationId = frame.readInt32BE(0);
      const request = this.pending.get(correlationId);
      if (!request) {
        this.fail(new Error(`response with unknown correlation id ${correlationId}`));
        return;
      }
      this.pending.delete(correlationId);
      request.resolve(new Reader(frame));
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const request of this.pending.values()) request.reject(this.failure);
    this.pending.clear();
    this.socket.destroy();
  }
}
