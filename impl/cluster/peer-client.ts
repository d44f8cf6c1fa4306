/**
 * This node's connection to one peer node, speaking the Kafka protocol as any
 * client would: the Raft runtime sends Vote and BeginQuorumEpoch through it,
 * replica fetchers send Fetch, a partition leader sends AlterPartition.
 *
 * One TCP connection, opened on the first send. Requests go out in order,
 * at most `inFlightRequestsMax` at a time; the rest wait in a queue of at most
 * `waitingRequestsMax`, and past that `send` fails at once (PeerBusyError).
 * A lost connection fails what was pending (PeerDisconnectedError) and the
 * next send reconnects after an exponential, jittered backoff.
 *
 * A request that times out closes the connection, as Kafka's NetworkClient
 * does. The peer answers strictly in request order, so every response behind
 * the late one is stuck behind it too: keeping the connection would only let
 * the stall spread to later requests, and keeping the slot to discard the
 * late answer would pin the in-flight window on a peer that may never answer.
 * A new connection starts clean, and no late response can reach anyone.
 */
import type { Logger } from "../log.ts";
import { type ApiDefinition, supports } from "../protocol/api.ts";
import { reconnectDelayMs } from "./peer-backoff.ts";
import { PeerConnection } from "./peer-connection.ts";
import {
  type PeerAddress,
  PeerBusyError,
  PeerClosedError,
  PeerDisconnectedError,
  type PeerError,
  PeerProtocolError,
  PeerTimeoutError,
} from "./peer-errors.ts";
import {
  type PeerClientOptions,
  type PeerClientSettings,
  resolvePeerClientSettings,
  type ScheduledTask,
} from "./peer-options.ts";
import { decodeResponseFrame, type PendingRequest, pendingRequest, requestFrame } from "./peer-request.ts";

export {
  type PeerClientOptions,
  type PeerClock,
  peerClientDefaults,
  peerClientId,
  systemClock,
} from "./peer-options.ts";

export interface SendOptions {
  /** Time from `send` to the response, waiting for a connection or a free slot included. */
  timeoutMs: number;
}

export type PeerConnectionState = "idle" | "backoff" | "connecting" | "connected" | "closed";

const correlationIdMask = 0x7fffffff;

export class PeerClient {
  private readonly settings: PeerClientSettings;
  private readonly logger: Logger;
  /** Written and awaiting their response, in the order the peer will answer. */
  private readonly inFlight: PendingRequest[] = [];
  /** Accepted and not yet written, in send order. */
  private readonly waiting: PendingRequest[] = [];
  private connection: PeerConnection | null = null;
  /** The current connection is established (not still connecting). */
  private connected = false;
  /** The socket's buffer is above its high-water mark: write nothing more until it drains. */
  private writeBlocked = false;
  private closed = false;
  private nextCorrelationId = 0;
  /** Failed connects and lost connections since a response last arrived. */
  private consecutiveFailures = 0;
  private nextConnectAtMs = 0;
  private reconnectTimer: ScheduledTask | null = null;

  constructor(
    readonly peer: PeerAddress,
    options: PeerClientOptions,
  ) {
    this.settings = resolvePeerClientSettings(options);
    this.logger = options.logger.child({ peerId: peer.nodeId, peerAddress: `${peer.host}:${peer.port}` });
  }

  get state(): PeerConnectionState {
    if (this.closed) return "closed";
    if (this.connected) return "connected";
    if (this.connection !== null) return "connecting";
    return this.settings.clock.nowMs() < this.nextConnectAtMs ? "backoff" : "idle";
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /**
   * Sends one request and resolves with the peer's decoded response. Every
   * failure to get one is a rejection with a PeerError; only a caller's bug (a
   * version the API does not have, a non-positive timeout, an input the
   * grammar cannot encode) throws, synchronously. Large byte fields (record
   * batches) are referenced, not copied, until written: leave them unchanged.
   * A peer that answers ApiVersions UNSUPPORTED_VERSION in the v0 layout is not
   * retried at v0 here; ask a peer only for versions it is known to serve.
   */
  send<Response, RequestInput>(
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
    options: SendOptions,
  ): Promise<Response> {
    if (!supports(api, version)) {
      throw new RangeError(`${api.name} v${version} is outside ${api.versionMin}..${api.versionMax}`);
    }
    if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new RangeError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
    }
    if (this.closed) return Promise.reject(new PeerClosedError(this.peer, "client is closed"));
    // The same number is accepted whether or not the connection is up yet:
    // a full in-flight window plus a full waiting queue.
    const acceptedMax = this.settings.inFlightRequestsMax + this.settings.waitingRequestsMax;
    if (this.inFlight.length + this.waiting.length >= acceptedMax) {
      return Promise.reject(
        new PeerBusyError(
          this.peer,
          `${api.name} v${version} refused: ${this.inFlight.length} requests in flight and ${this.waiting.length} waiting, the most allowed`,
        ),
      );
    }
    let resolve!: (response: Response) => void;
    let reject!: (error: PeerError) => void;
    const response = new Promise<Response>((resolveResponse, rejectResponse) => {
      resolve = resolveResponse;
      reject = rejectResponse;
    });
    const pending = pendingRequest(api, version, request, resolve, reject);
    pending.timer = this.settings.clock.schedule(
      () => this.timeOut(pending, options.timeoutMs),
      options.timeoutMs,
    );
    this.waiting.push(pending);
    this.pump();
    return response;
  }

  /** Fails everything pending with PeerClosedError and never connects again; resolves once the socket is gone. */
  close(reason = "client closed"): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = null;
    const connection = this.connection;
    this.connection = null;
    this.connected = false;
    this.logger.info(
      { reason, inFlight: this.inFlight.length, waiting: this.waiting.length },
      "peer client closed",
    );
    this.failAll((sent) => new PeerClosedError(this.peer, `${reason}${sent ? "" : "; request not sent"}`));
    return connection === null ? Promise.resolve() : connection.destroy();
  }

  /** Moves requests forward: connects when needed and allowed, writes while slots and the socket allow. */
  private pump(): void {
    if (this.closed || this.waiting.length === 0) return;
    if (this.connection === null) {
      this.connectWhenAllowed();
      return;
    }
    if (!this.connected) return;
    while (
      this.waiting.length > 0 &&
      this.inFlight.length < this.settings.inFlightRequestsMax &&
      !this.writeBlocked
    ) {
      this.write(this.connection, this.waiting.shift()!);
    }
  }

  private connectWhenAllowed(): void {
    if (this.reconnectTimer !== null) return;
    const waitMs = this.nextConnectAtMs - this.settings.clock.nowMs();
    if (waitMs > 0) {
      this.reconnectTimer = this.settings.clock.schedule(() => {
        this.reconnectTimer = null;
        this.pump();
      }, Math.ceil(waitMs));
      return;
    }
    this.connected = false;
    this.writeBlocked = false;
    const connection: PeerConnection = new PeerConnection(this.peer, this.settings, {
      connected: () => {
        this.connected = true;
        this.logger.info({ failuresBefore: this.consecutiveFailures }, "peer connected");
        this.pump();
      },
      frame: (frame) => this.deliver(frame),
      drained: () => {
        this.writeBlocked = false;
        this.pump();
      },
      ended: (reason, protocolViolation) => this.lose(connection, reason, protocolViolation),
    });
    this.connection = connection;
  }

  private write(connection: PeerConnection, pending: PendingRequest): void {
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & correlationIdMask;
    this.writeBlocked = !connection.write(requestFrame(pending, correlationId, this.settings.clientId));
    pending.body = [];
    pending.correlationId = correlationId;
    pending.stage = "inFlight";
    this.inFlight.push(pending);
  }

  /** Hands a response to the request it answers: the oldest in flight, as the peer answers in order. */
  private deliver(frame: Buffer): void {
    const pending = this.inFlight[0];
    let response: unknown;
    try {
      if (pending === undefined) throw new Error("a response arrived with no request in flight");
      response = decodeResponseFrame(pending, frame);
    } catch (error) {
      this.lose(this.connection!, `protocol error: ${(error as Error).message}`, true);
      return;
    }
    this.inFlight.shift();
    // The peer answered, so it is healthy: the next loss starts again from the shortest backoff.
    this.consecutiveFailures = 0;
    this.settle(pending, null, response);
    this.pump();
  }

  private timeOut(pending: PendingRequest, timeoutMs: number): void {
    pending.timer = undefined;
    if (pending.stage === "waiting") {
      this.waiting.splice(this.waiting.indexOf(pending), 1);
      const waitingFor = this.connected ? "a free in-flight slot" : "a connection";
      this.settle(
        pending,
        new PeerTimeoutError(
          this.peer,
          `${pending.description} not sent within ${timeoutMs} ms: waited for ${waitingFor}`,
        ),
      );
    } else if (pending.stage === "inFlight") {
      this.inFlight.splice(this.inFlight.indexOf(pending), 1);
      const reason = `${pending.description} (correlation id ${pending.correlationId}) got no response within ${timeoutMs} ms`;
      this.settle(pending, new PeerTimeoutError(this.peer, reason));
      this.lose(this.connection!, `connection closed because ${reason}`);
    }
  }

  /**
   * The connection is gone (or is being given up): everything pending fails,
   * and the next connect waits out a backoff that grows with each failure.
   */
  private lose(connection: PeerConnection, reason: string, protocolViolation = false): void {
    if (connection !== this.connection) return;
    const wasConnected = this.connected;
    this.connection = null;
    this.connected = false;
    this.writeBlocked = false;
    void connection.destroy();
    this.consecutiveFailures += 1;
    const retryInMs = reconnectDelayMs(this.settings.backoff, this.consecutiveFailures);
    this.nextConnectAtMs = this.settings.clock.nowMs() + retryInMs;
    this.logger.warn(
      {
        reason,
        retryInMs,
        consecutiveFailures: this.consecutiveFailures,
        inFlight: this.inFlight.length,
        waiting: this.waiting.length,
      },
      wasConnected ? "peer connection lost" : "peer connection failed",
    );
    this.failAll((sent) =>
      sent && protocolViolation
        ? new PeerProtocolError(this.peer, reason, true)
        : new PeerDisconnectedError(this.peer, sent ? reason : `${reason}; request not sent`, sent),
    );
  }

  private failAll(errorFor: (sent: boolean) => PeerError): void {
    for (const pending of this.inFlight.splice(0)) this.settle(pending, errorFor(true));
    for (const pending of this.waiting.splice(0)) this.settle(pending, errorFor(false));
  }

  private settle(pending: PendingRequest, error: PeerError | null, response?: unknown): void {
    pending.timer?.cancel();
    pending.timer = undefined;
    pending.stage = "settled";
    pending.body = [];
    if (error === null) pending.resolve(response);
    else pending.reject(error);
  }
}
