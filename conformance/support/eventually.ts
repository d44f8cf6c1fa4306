/**
 * Waiting in cluster tests for something that happens after an election, a
 * fence or a catch-up: the attempt is repeated until it returns a value, and
 * the wait only bounds how long the test may hang. It is never asserted as a
 * duration: timing belongs in the benchmarks.
 */

/** How long an election, a fence or a catch-up may take before a test gives up. */
export const settleMs = 30_000;
const attemptIntervalMs = 100;

/**
 * Resolves with the first value `attempt` returns (undefined means "not yet");
 * an attempt that throws is retried too, and its error is kept for the report.
 */
export async function eventually<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + settleMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, attemptIntervalMs));
  }
  throw new Error(`${what} did not happen within ${settleMs} ms (last error: ${String(lastError)})`);
}
