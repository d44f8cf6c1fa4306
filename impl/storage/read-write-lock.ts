/**
 * Reads of a log share it; the operations that remove bytes or close files
 * (truncation, retention, close) take it alone, after the reads in flight
 * finish, so that a read never sees a file shrink or its descriptor close
 * under it. Appends do not take it: they only add bytes past what readers see.
 * A waiting writer holds back new readers, so it cannot starve.
 */
export class ReadWriteLock {
  private readers = 0;
  private writer: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  async read<T>(action: () => Promise<T>): Promise<T> {
    while (this.writer !== null) await this.writer;
    this.readers += 1;
    try {
      return await action();
    } finally {
      this.readers -= 1;
      if (this.readers === 0 && this.drained !== null) {
        const wake = this.drained;
        this.drained = null;
        wake();
      }
    }
  }

  async write<T>(action: () => Promise<T>): Promise<T> {
    while (this.writer !== null) await this.writer;
    let release!: () => void;
    this.writer = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      if (this.readers > 0) {
        await new Promise<void>((resolve) => {
          this.drained = resolve;
        });
      }
      return await action();
    } finally {
      this.writer = null;
      release();
    }
  }
}
