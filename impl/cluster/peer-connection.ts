/**
 * One TCP connection to a peer, as the PeerClient sees it: it connects (or
 * gives up after a timeout), hands over complete response frames, says when
 * a full socket buffer has drained, and reports its end exactly once with a
 * reason. A connection its owner destroys reports nothing more, so no stale
 * event (a late frame, a close) can reach the owner's next connection.
 */
import { connect, type Socket } from "node:net";
import { FrameSplitter } from "../protocol/frames.ts";
import type { PeerAddress } from "./peer-errors.ts";
import type { PeerClientSettings } from "./peer-options.ts";

export interface PeerConnectionEvents {
  connected(): void;
  frame(frame: Buffer): void;
  /** The socket took what was buffered: writing may resume. */
  drained(): void;
  /** The connection ended on its own; `protocolViolation` when the peer sent a frame we refuse. */
  ended(reason: string, protocolViolation: boolean): void;
}

export class PeerConnection {
  private readonly socket: Socket;
  private readonly frames: FrameSplitter;
  /** Set once the owner is told nothing more: after `ended` or `destroy`. */
  private finished = false;
  private lastError: string | null = null;
  private connected = false;

  constructor(
    peer: PeerAddress,
    settings: Pick<PeerClientSettings, "responseBytesMax" | "connectTimeoutMs" | "clock">,
    private readonly events: PeerConnectionEvents,
  ) {
    this.frames = new FrameSplitter(settings.responseBytesMax);
    this.socket = connect({ host: peer.host, port: peer.port });
    const socket = this.socket;
    const connectTimer = settings.clock.schedule(
      () => this.end(`no connection within ${settings.connectTimeoutMs} ms`),
      settings.connectTimeoutMs,
    );
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.once("connect", () => {
      connectTimer.cancel();
      if (this.finished) return;
      this.connected = true;
      this.events.connected();
    });
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("drain", () => {
      if (!this.finished) this.events.drained();
    });
    // The close event that always follows reports the failure; this only keeps its reason.
    socket.on("error", (error) => {
      this.lastError = error.message;
    });
    socket.on("close", () => {
      connectTimer.cancel();
      this.end(this.lastError ?? (this.connected ? "closed by the peer" : "connection closed"));
    });
  }

  /** Writes one request's chunks together; false once the socket's buffer is above its high-water mark. */
  write(chunks: Buffer[]): boolean {
    this.socket.cork();
    let belowHighWaterMark = true;
    for (const chunk of chunks) belowHighWaterMark = this.socket.write(chunk);
    this.socket.uncork();
    return belowHighWaterMark;
  }

  /** Closes the socket without reporting it; resolves once the socket is gone. */
  destroy(): Promise<void> {
    this.finished = true;
    this.connected = false;
    if (this.socket.closed) return Promise.resolve();
    const socketClosed = new Promise<void>((resolve) => this.socket.once("close", () => resolve()));
    this.socket.destroy();
    return socketClosed;
  }

  private receive(chunk: Buffer): void {
    if (this.finished) return;
    let complete: Buffer[];
    try {
      complete = this.frames.push(chunk);
    } catch (error) {
      this.end(`malformed response: ${(error as Error).message}`, true);
      return;
    }
    for (const frame of complete) {
      // The owner may give up on this connection while handling a frame.
      if (this.finished) return;
      this.events.frame(frame);
    }
  }

  private end(reason: string, protocolViolation = false): void {
    if (this.finished) return;
    this.finished = true;
    this.connected = false;
    this.socket.destroy();
    this.events.ended(reason, protocolViolation);
  }
}
