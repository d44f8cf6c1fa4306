/**
 * The ordered, bounded queue between a machine and the world. Actions only put
 * descriptors here; one worker runs them strictly one after another, awaiting
 * each, so a persist is on disk before the send listed after it goes out, and
 * an answer queued behind a persist is given only once that persist is done.
 * The first effect that fails stops the queue for good: nothing after it runs
 * (never send after a failed persist), and what was waiting is discarded.
 */

export interface EffectQueueOptions<Effect> {
  /** Effects waiting at most; pushing beyond it throws (the caller treats it as fatal). */
  capacity: number;
  run(effect: Effect): Promise<void> | void;
  /** An effect that will never run, because an earlier one failed or the queue stopped. */
  discard(effect: Effect, reason: Error): void;
  /** The first failure, once; the queue is stopped by then. */
  onFailure(error: Error, effect: Effect): void;
}

export class EffectQueueFullError extends Error {
  constructor(capacity: number, adding: number) {
    super(`effect queue full: ${capacity} effects waiting at most, ${adding} more offered`);
    this.name = "EffectQueueFullError";
  }
}

export class EffectQueue<Effect> {
  private items: Effect[] = [];
  private running = false;
  private stopped: Error | null = null;
  private idleWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  /** Effects run so far: tests and the harness watch it move. */
  completed = 0;

  constructor(private readonly options: EffectQueueOptions<Effect>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new Error(`effect queue capacity must be a positive integer, not ${options.capacity}`);
    }
  }

  get size(): number {
    return this.items.length + (this.running ? 1 : 0);
  }

  get room(): number {
    return this.options.capacity - this.items.length;
  }

  get isStopped(): boolean {
    return this.stopped !== null;
  }

  /** Appends the effects in order; they run after everything pushed before them. */
  pushAll(effects: readonly Effect[]): void {
    if (effects.length === 0) return;
    if (this.stopped !== null) {
      for (const effect of effects) this.options.discard(effect, this.stopped);
      return;
    }
    if (effects.length > this.room) throw new EffectQueueFullError(this.options.capacity, effects.length);
    this.items.push(...effects);
    if (!this.running) {
      this.running = true;
      // Never run an effect inside the action that queued it: the machine's step finishes first.
      queueMicrotask(() => void this.drain());
    }
  }

  /** Resolves once every effect pushed so far has run; rejects if the queue stopped first. */
  idle(): Promise<void> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    if (!this.running && this.items.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  /** Stops the queue: what waits is discarded with `reason`, and nothing more runs. */
  stop(reason: Error): void {
    if (this.stopped !== null) return;
    this.stopped = reason;
    const left = this.items;
    this.items = [];
    for (const effect of left) this.options.discard(effect, reason);
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter.reject(reason);
  }

  private async drain(): Promise<void> {
    while (this.items.length > 0 && this.stopped === null) {
      const effect = this.items.shift()!;
      try {
        await this.options.run(effect);
        this.completed++;
      } catch (caught) {
        const error = caught instanceof Error ? caught : new Error(String(caught));
        this.options.discard(effect, error);
        this.stop(error);
        this.running = false;
        this.options.onFailure(error, effect);
        return;
      }
    }
    this.running = false;
    if (this.stopped !== null) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }
}
