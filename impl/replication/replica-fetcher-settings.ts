/**
 * The limits and timings of data replication's fetchers, defaulting to
 * Kafka's broker settings of the same meaning.
 */
import { type PeerClock, systemClock } from "../cluster/peer-options.ts";

export interface ReplicaFetcherSettings {
  /** How long the leader may hold a fetch that finds nothing new (replica.fetch.wait.max.ms). */
  maxWaitMs: number;
  /** Bytes a fetch waits for before the leader answers (replica.fetch.min.bytes). */
  minBytes: number;
  /** Bytes of records one fetch answer carries at most, over all partitions (replica.fetch.response.max.bytes). */
  responseBytesMax: number;
  /** Bytes of records per partition in one answer (replica.fetch.max.bytes); KIP-74's first batch may exceed it. */
  partitionBytesMax: number;
  /** How long an answer may take beyond the leader's wait (replica.socket.timeout.ms). */
  requestTimeoutMs: number;
  /** The pause of one partition after a retriable refusal from its leader (replica.fetch.backoff.ms). */
  errorBackoffMs: number;
  /**
   * The first pause of a partition whose leader has not yet applied the
   * metadata this node has (UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID,
   * UNKNOWN_LEADER_EPOCH, as right after a topic is created); it doubles on
   * each such refusal in a row, up to errorBackoffMs.
   */
  catchUpBackoffMsInitial: number;
  /** The first pause of a leader's session after a failed request; it doubles on each failure in a row. */
  networkBackoffMsInitial: number;
  /** The longest pause after failed requests in a row. */
  networkBackoffMsMax: number;
  /** Partitions followed at once; more are refused with an error log (a guard, far above any real node). */
  partitionsMax: number;
  /** Time and timers; tests may drive them. */
  clock: PeerClock;
}

export const replicaFetcherDefaults: ReplicaFetcherSettings = {
  maxWaitMs: 500,
  minBytes: 1,
  responseBytesMax: 10 * 1024 * 1024,
  partitionBytesMax: 1024 * 1024,
  requestTimeoutMs: 30_000,
  errorBackoffMs: 1_000,
  catchUpBackoffMsInitial: 10,
  networkBackoffMsInitial: 100,
  networkBackoffMsMax: 1_000,
  partitionsMax: 100_000,
  clock: systemClock,
};

const int32Max = 0x7fffffff;

/** The settings with defaults filled in; RangeError for a value the wire or a timer cannot carry. */
export function resolveReplicaFetcherSettings(
  given: Partial<ReplicaFetcherSettings> = {},
): ReplicaFetcherSettings {
  const settings = { ...replicaFetcherDefaults, ...given };
  const integers: Array<[keyof ReplicaFetcherSettings, number]> = [
    ["maxWaitMs", 0],
    ["minBytes", 0],
    ["responseBytesMax", 1],
    ["partitionBytesMax", 1],
    ["requestTimeoutMs", 1],
    ["errorBackoffMs", 0],
    ["catchUpBackoffMsInitial", 0],
    ["networkBackoffMsInitial", 1],
    ["networkBackoffMsMax", 1],
    ["partitionsMax", 1],
  ];
  for (const [name, low] of integers) {
    const value = settings[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < low || value > int32Max) {
      throw new RangeError(`${name} must be an integer in ${low}..${int32Max}, got ${String(value)}`);
    }
  }
  if (settings.networkBackoffMsMax < settings.networkBackoffMsInitial) {
    throw new RangeError("networkBackoffMsMax must be at least networkBackoffMsInitial");
  }
  return settings;
}

/** `initialMs` doubled for each of `count` - 1 events in a row (at least one), at most `maxMs`. */
function doubling(initialMs: number, maxMs: number, count: number): number {
  const doublings = Math.min(Math.max(count - 1, 0), 30);
  return Math.min(maxMs, initialMs * 2 ** doublings);
}

/** The pause after `failures` failed requests in a row (at least one): doubling, bounded. */
export function networkBackoffMs(settings: ReplicaFetcherSettings, failures: number): number {
  return doubling(settings.networkBackoffMsInitial, settings.networkBackoffMsMax, failures);
}

/** The pause after `refusals` answers in a row saying the leader's metadata is behind: doubling, bounded. */
export function catchUpBackoffMs(settings: ReplicaFetcherSettings, refusals: number): number {
  return doubling(settings.catchUpBackoffMsInitial, settings.errorBackoffMs, refusals);
}
