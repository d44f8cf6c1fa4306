/**
 * One client connection: size-prefixed framing, requests handled with bounded
 * concurrency, responses written strictly in request order (as Kafka clients
 * require), and a malformed frame closing this connection only.
 */
import type { Socket } from "node:net";
import type { Logger } from "../log.ts";
import { FrameSplitter, frameSizeBytes } from "../protocol/frames.ts";
import { DecodeError } from "../protocol/reader.ts";

export interface ConnectionLimits {
  /** socket.request.max.bytes: the largest frame accepted. */
  requestBytesMax: number;
  /** Requests decoded and not yet answered; past this the socket stops being read. */
  inFlightRequestsMax: number;
}

export interface RequestSequencing {
  /**
   * Lets the next request on this connection start. Requests start one after
   * another so that order-sensitive work (appending a produce) happens in
   * request order; a handler calls this as soon as that work is done, and only
   * waiting (for fsync, replication, a long poll) remains.
   */
  releaseNext(): void;
  /** Resolves when the connection the request came on closes (never, for a forwarded request). */
  connectionClosed: Promise<void>;
}

export interface FrameHandler {
  /** The encoded response (frame size excluded), or null when the request gets no response (acks=0). */
  handle(frame: Buffer, peer: string, sequencing: RequestSequencing): Promise<Buffer[] | null>;
}

export class Connection {
  private readonly frames: FrameSplitter;
  /** Responses in request order; each slot resolves to the chunks to write. */
  private responseQueue: Array<Promise<Buffer[] | null>> = [];
  private writingResponses = false;
  /** Resolves when the previous request has released the next one. */
  private sequenceGate: Promise<void> = Promise.resolve();
  private closed = false;
  readonly peer: string;
  private markClosed!: () => void;
  /** Resolves once the socket has closed, by either side: what a node's departure looks like. */
  readonly whenClosed = new Promise<void>((resolve) => {
    this.markClosed = resolve;
  });

  constructor(
    private readonly socket: Socket,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly logger: Logger,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.frames = new FrameSplitter(limits.requestBytesMax, "socket.request.max.bytes");
    socket.setNoDelay(true);
    socket.on("data", (chunk) => this.receive(chunk));
    socket.on("error", (error) =>
      this.logger.debug({ peer: this.peer, err: error.message }, "connection error"),
    );
    socket.on("close", () => {
      this.closed = true;
      this.markClosed();
      this.onClose(this);
    });
  }

  close(reason?: string): void {
    if (this.closed) return;
    if (reason) this.logger.warn({ peer: this.peer, reason }, "closing connection");
    this.closed = true;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (error) {
      this.close((error as Error).message);
      return;
    }
    // A frame that came in one chunk is a view into it: the broker stamps
    // offsets into it in place and keeps no reference after the request.
    for (const frame of frames) {
      if (this.closed) return;
      this.startRequest(frame);
    }
  }

  private startRequest(frame: Buffer): void {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previousGate = this.sequenceGate;
    this.sequenceGate = released;
    const response = previousGate
      .then(() =>
        this.handler.handle(frame, this.peer, { releaseNext: release, connectionClosed: this.whenClosed }),
      )
      .finally(release);
    // The writer loop observes failures in order; this only keeps a failure
    // behind an already-closed connection from surfacing as unhandled.
    response.catch(() => undefined);
    this.responseQueue.push(response);
    if (this.responseQueue.length >= this.limits.inFlightRequestsMax) this.socket.pause();
    void this.writeResponses();
  }

  private async writeResponses(): Promise<void> {
    if (this.writingResponses) return;
    this.writingResponses = true;
    try {
      while (this.responseQueue.length > 0 && !this.closed) {
        const chunks = await this.responseQueue[0]!;
        this.responseQueue.shift();
        if (this.responseQueue.length < this.limits.inFlightRequestsMax && this.socket.isPaused()) {
          this.socket.resume();
        }
        if (chunks === null || this.closed) continue;
        this.writeFrame(chunks);
      }
    } catch (error) {
      if (error instanceof DecodeError) this.close(`malformed request: ${error.message}`);
      else {
        this.logger.error({ peer: this.peer, err: error }, "request handler failed");
        this.close("internal error while handling a request");
      }
    } finally {
      this.writingResponses = false;
    }
  }

  private writeFrame(chunks: Buffer[]): void {
    const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const prefix = Buffer.allocUnsafe(frameSizeBytes);
    prefix.writeInt32BE(size, 0);
    this.socket.cork();
    this.socket.write(prefix);
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }
}
