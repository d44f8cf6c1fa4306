/**
 * Splits the bytes a connection receives into Kafka's size-prefixed frames:
 * the server's requests and the peer client's responses alike. The size is
 * checked against a maximum before a single byte of the frame is kept, so a
 * sender that announces a huge frame costs nothing but its connection. A
 * frame that arrived in one chunk is a view into it (no copy); only bytes
 * spanning chunks are joined, and then only the chunks they span.
 */
import { DecodeError } from "./reader.ts";

export const frameSizeBytes = 4;

export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Size of the frame being collected, or -1 while its size prefix is not complete. */
  private expectedFrameBytes = -1;

  /** `limitName` names the setting behind `frameBytesMax` in the error a bad size raises. */
  constructor(
    private readonly frameBytesMax: number,
    private readonly limitName?: string,
  ) {
    if (!Number.isInteger(frameBytesMax) || frameBytesMax < 1) {
      throw new RangeError(`frameBytesMax must be a positive integer, got ${frameBytesMax}`);
    }
  }

  /** Bytes held for frames not yet complete (size prefixes already read excluded); at most one frame plus one read. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** The frames that `chunk` completes (without their size prefix); throws DecodeError on a bad size. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.expectedFrameBytes < 0) {
        if (this.pendingBytes < frameSizeBytes) return frames;
        const size = this.take(frameSizeBytes).readInt32BE(0);
        if (size <= 0 || size > this.frameBytesMax) {
          const limit = this.limitName === undefined ? "" : ` (${this.limitName})`;
          throw new DecodeError(`frame of ${size} bytes is outside 1..${this.frameBytesMax}${limit}`);
        }
        this.expectedFrameBytes = size;
      }
      if (this.pendingBytes < this.expectedFrameBytes) return frames;
      frames.push(this.take(this.expectedFrameBytes));
      this.expectedFrameBytes = -1;
    }
  }

  /**
   * The next `count` bytes: a view when they lie in one chunk, otherwise a
   * copy of just the chunks they span, so a size prefix never copies a backlog.
   */
  private take(count: number): Buffer {
    const first = this.pending[0]!;
    let taken: Buffer;
    if (first.length >= count) {
      taken = first.subarray(0, count);
      if (first.length === count) this.pending.shift();
      else this.pending[0] = first.subarray(count);
    } else {
      const parts: Buffer[] = [];
      let collected = 0;
      while (collected < count) {
        const chunk = this.pending[0]!;
        const needed = count - collected;
        if (chunk.length <= needed) {
          parts.push(chunk);
          collected += chunk.length;
          this.pending.shift();
        } else {
          parts.push(chunk.subarray(0, needed));
          this.pending[0] = chunk.subarray(needed);
          collected = count;
        }
      }
      taken = Buffer.concat(parts, count);
    }
    this.pendingBytes -= count;
    return taken;
  }
}
