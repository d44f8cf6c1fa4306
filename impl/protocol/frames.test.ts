import { describe, expect, it } from "vitest";
import { DecodeError } from "../protocol/reader.ts";
import { FrameSplitter } from "./frames.ts";

function framed(...bodies: string[]): Buffer {
  return Buffer.concat(
    bodies.map((body) => {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(Buffer.byteLength(body), 0);
      return Buffer.concat([prefix, Buffer.from(body)]);
    }),
  );
}

describe("FrameSplitter", () => {
  it("returns every frame a chunk completes, and keeps the rest for the next chunk", () => {
    const splitter = new FrameSplitter(64);
    const bytes = framed("first", "second", "third");
    expect(splitter.push(bytes.subarray(0, 16)).map(String)).toEqual(["first"]);
    expect(splitter.bufferedBytes).toBe(3); // "second" minus its size prefix, already read
    expect(splitter.push(bytes.subarray(16)).map(String)).toEqual(["second", "third"]);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it("reassembles a frame and its size prefix delivered one byte at a time", () => {
    const splitter = new FrameSplitter(64);
    const bytes = framed("split", "up");
    const frames = [...bytes].flatMap((byte) => splitter.push(Buffer.from([byte])));
    expect(frames.map(String)).toEqual(["split", "up"]);
  });

  it("refuses a size above the maximum, or not positive, before collecting the frame", () => {
    const oversized = Buffer.alloc(4);
    oversized.writeInt32BE(65, 0);
    expect(() => new FrameSplitter(64).push(oversized)).toThrow(DecodeError);
    expect(() => new FrameSplitter(64).push(oversized)).toThrow(/65 bytes is outside 1\.\.64/);
    expect(() => new FrameSplitter(64).push(Buffer.alloc(4))).toThrow(/0 bytes is outside/);
    expect(() => new FrameSplitter(64).push(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(/-1 bytes/);
  });
});
