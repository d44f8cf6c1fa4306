/**
 * What this machine can do at most, measured the way the broker uses it:
 * small appends each followed by fdatasync (a produce with --fsync always),
 * large sequential writes (segment files), and a TCP stream over loopback
 * (the client connection). The broker's figures are read against these.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { type LatencySummary, latencyHistogram, recordMilliseconds, summarise } from "./latency.ts";
import type { Progress } from "./progress.ts";

const syncedWriteBytes = 100;
const sequentialChunkBytes = 1024 * 1024;
const streamChunkBytes = 1024 * 1024;

export interface FdatasyncResult {
  syncsPerSecond: number;
  latency: LatencySummary;
}

export interface ThroughputResult {
  megabytesPerSecond: number;
  bytes: number;
  seconds: number;
}

function withScratchDirectory<T>(run: (directory: string) => T): T {
  const directory = mkdtempSync(path.join(tmpdir(), "chronik-bench-limits-"));
  try {
    return run(directory);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Appends of 100 B, each made durable with fdatasync before the next, as fast as the disk allows. */
export function measureFdatasync(durationMs: number, progress: Progress): FdatasyncResult {
  return withScratchDirectory((directory) => {
    const descriptor = openSync(path.join(directory, "fdatasync"), "a");
    const record = randomBytes(syncedWriteBytes);
    const histogram = latencyHistogram();
    const startMs = performance.now();
    let syncs = 0;
    let nowMs = startMs;
    try {
      while (nowMs - startMs < durationMs) {
        const beforeMs = nowMs;
        writeSync(descriptor, record);
        fdatasyncSync(descriptor);
        nowMs = performance.now();
        recordMilliseconds(histogram, nowMs - beforeMs);
        syncs++;
        progress.update(
          `machine: append + fdatasync, ${syncs} syncs in ${((nowMs - startMs) / 1000).toFixed(1)} s`,
        );
      }
    } finally {
      closeSync(descriptor);
    }
    return { syncsPerSecond: syncs / ((nowMs - startMs) / 1000), latency: summarise(histogram) };
  });
}

/**
 * 1 MiB writes until the time or byte budget runs out, then one fsync; the
 * fsync is inside the measured time so the page cache cannot flatter the disk.
 */
export function measureSequentialWrite(
  durationMs: number,
  bytesMax: number,
  progress: Progress,
): ThroughputResult {
  return withScratchDirectory((directory) => {
    const descriptor = openSync(path.join(directory, "sequential"), "w");
    const chunk = randomBytes(sequentialChunkBytes);
    const startMs = performance.now();
    let bytes = 0;
    try {
      while (bytes < bytesMax && performance.now() - startMs < durationMs) {
        bytes += writeSync(descriptor, chunk);
        progress.update(`machine: sequential write, ${Math.round(bytes / 1e6)} MB written`);
      }
      progress.update("machine: sequential write, final fsync", true);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    const seconds = (performance.now() - startMs) / 1000;
    return { megabytesPerSecond: bytes / seconds / 1e6, bytes, seconds };
  });
}

// The receiving end runs in its own process, as the broker does, so sender and receiver do not share one thread.
const discardServerSource = `
const net = require("node:net");
const server = net.createServer((socket) => {
  socket.on("data", () => {});
  socket.on("end", () => socket.end());
});
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
`;

async function startDiscardServer(): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, ["-e", discardServerSource], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolve(Number(line)));
    child.once("exit", (code) => reject(new Error(`discard server exited with ${code}`)));
  });
  return { port, stop: () => child.kill("SIGTERM") };
}

/** One connection writing 1 MiB buffers (respecting backpressure) to a server that discards them. */
export async function measureLoopbackTcp(durationMs: number, progress: Progress): Promise<ThroughputResult> {
  const server = await startDiscardServer();
  try {
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const chunk = randomBytes(streamChunkBytes);
    const startMs = performance.now();
    let bytes = 0;
    while (performance.now() - startMs < durationMs) {
      bytes += chunk.length;
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
      progress.update(`machine: loopback TCP, ${Math.round(bytes / 1e6)} MB sent`);
    }
    // The server closes its side only after reading everything, so the clock stops once every byte has arrived.
    await new Promise<void>((resolve, reject) => {
      socket.once("close", () => resolve());
      socket.once("error", reject);
      socket.end();
      socket.resume();
    });
    const seconds = (performance.now() - startMs) / 1000;
    return { megabytesPerSecond: bytes / seconds / 1e6, bytes, seconds };
  } finally {
    server.stop();
  }
}
