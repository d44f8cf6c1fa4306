/**
 * How long to wait before connecting to a peer again: exponential in the
 * number of consecutive failures, capped, and jittered so that the nodes of a
 * cluster that lost the same peer do not all knock on its door in the same
 * millisecond when it comes back (as Kafka's reconnect.backoff.ms/max.ms).
 */

export interface BackoffSettings {
  /** The wait after the first failure (reconnect.backoff.ms). */
  backoffMsInitial: number;
  /** The longest wait, however many failures (reconnect.backoff.max.ms). */
  backoffMsMax: number;
  /** Each wait is scaled by a factor drawn from [1 - jitter, 1 + jitter]. */
  jitter: number;
  /** A number in [0, 1); injected so tests can make the jitter deterministic. */
  random: () => number;
}

/** Kafka's CommonClientConfigs.RECONNECT_BACKOFF_JITTER. */
export const reconnectJitter = 0.2;

export function validateBackoff(settings: BackoffSettings): void {
  const { backoffMsInitial, backoffMsMax, jitter } = settings;
  if (!Number.isFinite(backoffMsInitial) || backoffMsInitial < 0) {
    throw new RangeError(`reconnect backoff must be ≥ 0 ms, got ${backoffMsInitial}`);
  }
  if (!Number.isFinite(backoffMsMax) || backoffMsMax < backoffMsInitial) {
    throw new RangeError(
      `reconnect backoff max ${backoffMsMax} ms is below the initial ${backoffMsInitial} ms`,
    );
  }
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`jitter must be in [0, 1), got ${jitter}`);
}

/** The wait after `failures` consecutive failures (0 failures: no wait). */
export function reconnectDelayMs(settings: BackoffSettings, failures: number): number {
  if (failures <= 0) return 0;
  // The exponent stops growing once the cap is reached, so many failures cannot overflow to Infinity.
  const exponent = Math.min(failures - 1, 52);
  const term = settings.backoffMsInitial * 2 ** exponent;
  const factor = 1 - settings.jitter + 2 * settings.jitter * settings.random();
  return Math.min(settings.backoffMsMax, Math.round(term * factor));
}
