/**
 * The node's mailbox: every step of its machine, and every change to its log
 * that the machine must hear of in the same breath, runs as one task here, one
 * task at a time. A task may await (a follower's append is durable before its
 * log.appended is stepped); no other event reaches the machine meanwhile, so
 * the machine's idea of the log never lags behind a decision made on it.
 */

export class SerialExecutor {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  /** Tasks waiting or running. */
  get size(): number {
    return this.queued;
  }

  run<T>(task: () => T | Promise<T>): Promise<T> {
    this.queued++;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => {
        this.queued--;
      },
      () => {
        this.queued--;
      },
    );
    return result;
  }
}
