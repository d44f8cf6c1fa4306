/**
 * One status line on stderr while the benchmark runs, so stdout carries only
 * the Markdown results and can be redirected into a file. On a terminal the
 * line is rewritten in place; in a log it is printed now and then instead.
 */

const terminalIntervalMs = 200;
const logIntervalMs = 5000;

export class Progress {
  private readonly terminal = process.stderr.isTTY === true;
  private lastWriteMs = Number.NEGATIVE_INFINITY;
  private showing = false;

  update(text: string, force = false): void {
    const now = performance.now();
    if (!force && now - this.lastWriteMs < (this.terminal ? terminalIntervalMs : logIntervalMs)) return;
    this.lastWriteMs = now;
    if (this.terminal) {
      process.stderr.write(`\r\x1b[K${text}`);
      this.showing = true;
    } else {
      process.stderr.write(`${text}\n`);
    }
  }

  clear(): void {
    if (this.showing) process.stderr.write("\r\x1b[K");
    this.showing = false;
  }
}
