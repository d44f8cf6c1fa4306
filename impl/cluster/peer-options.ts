/**
 * The limits and timings of a connection to a peer node, with defaults taken
 * from Kafka's client settings where Kafka has one.
 */
import type { Logger } from "../log.ts";
import { type BackoffSettings, reconnectJitter, validateBackoff } from "./peer-backoff.ts";

export interface PeerClientOptions {
  /** Sent in every request header so the peer's logs name this node; see peerClientId. */
  clientId: string;
  logger: Logger;
  /** Requests written and not yet answered (max.in.flight.requests.per.connection). */
  inFlightRequestsMax?: number;
  /**
   * Requests accepted beyond a full in-flight window, waiting to be written;
   * one more fails with PeerBusyError. Before the connection is up all
   * `inFlightRequestsMax + waitingRequestsMax` wait.
   */
  waitingRequestsMax?: number;
  /** The largest response frame accepted; a larger size prefix closes the connection. */
  responseBytesMax?: number;
  /** How long a TCP connect may take (socket.connection.setup.timeout.ms). */
  connectTimeoutMs?: number;
  /** Wait before reconnecting after the first failure (reconnect.backoff.ms). */
  reconnectBackoffMsInitial?: number;
  /** Longest wait before reconnecting (reconnect.backoff.max.ms). */
  reconnectBackoffMsMax?: number;
  /** Source of the backoff jitter, in [0, 1); tests pin it. */
  random?: () => number;
  /** Time and timers (request and connect timeouts, reconnect backoff); tests drive it by hand. */
  clock?: PeerClock;
}

export interface ScheduledTask {
  cancel(): void;
}

export interface PeerClock {
  /** Milliseconds on a clock that never goes backwards. */
  nowMs(): number;
  schedule(task: () => void, delayMs: number): ScheduledTask;
}

/** Monotonic, so a wall-clock step cannot shorten or stretch a backoff. */
export const systemClock: PeerClock = {
  nowMs: () => performance.now(),
  schedule(task, delayMs) {
    const timer = setTimeout(task, delayMs);
    return { cancel: () => clearTimeout(timer) };
  },
};

export const peerClientDefaults = {
  inFlightRequestsMax: 64,
  waitingRequestsMax: 1024,
  /** Kafka's socket.request.max.bytes, which bounds what a peer broker would accept from us too. */
  responseBytesMax: 100 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  reconnectBackoffMsInitial: 50,
  reconnectBackoffMsMax: 1000,
} as const;

/** The client id a node uses towards its peers. */
export function peerClientId(nodeId: number): string {
  return `chronik-node-${nodeId}`;
}

export interface PeerClientSettings {
  readonly clientId: string;
  readonly inFlightRequestsMax: number;
  readonly waitingRequestsMax: number;
  readonly responseBytesMax: number;
  readonly connectTimeoutMs: number;
  readonly backoff: BackoffSettings;
  readonly clock: PeerClock;
}

/** The options with defaults filled in, refused (RangeError) when a limit is not a positive integer. */
export function resolvePeerClientSettings(options: PeerClientOptions): PeerClientSettings {
  const backoff: BackoffSettings = {
    backoffMsInitial: options.reconnectBackoffMsInitial ?? peerClientDefaults.reconnectBackoffMsInitial,
    backoffMsMax: options.reconnectBackoffMsMax ?? peerClientDefaults.reconnectBackoffMsMax,
    jitter: reconnectJitter,
    random: options.random ?? Math.random,
  };
  validateBackoff(backoff);
  return {
    clientId: options.clientId,
    inFlightRequestsMax: positive("inFlightRequestsMax", options.inFlightRequestsMax),
    waitingRequestsMax: positive("waitingRequestsMax", options.waitingRequestsMax),
    responseBytesMax: positive("responseBytesMax", options.responseBytesMax),
    connectTimeoutMs: positive("connectTimeoutMs", options.connectTimeoutMs),
    backoff,
    clock: options.clock ?? systemClock,
  };
}

function positive(name: keyof typeof peerClientDefaults, value: number | undefined): number {
  const chosen = value ?? peerClientDefaults[name];
  if (!Number.isInteger(chosen) || chosen < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${chosen}`);
  }
  return chosen;
}
