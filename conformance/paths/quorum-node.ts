/**
 * The one real node a path runs against: `bin/chronik start` as node 1 of
 * voters whose other members are the test's peer servers, with the quorum's
 * timeouts small and known, and its transition trace (`--trace`) read as it
 * grows, so the test can wait until the node's quorum machine has taken a
 * step instead of guessing how long that takes. (The suite cannot use
 * broker-process.ts: a node whose peers elect no one never logs "broker
 * started".)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { open } from "node:fs/promises";
import { connect } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { StringDecoder } from "node:string_decoder";
import { formatVoters, type VoterEndpoint } from "../../impl/cluster/voters.ts";
import type { Context, Event } from "../../machines/raft-quorum.ts";
import { chronikBin } from "../support/broker-process.ts";

/** The quorum's timing, as Kafka's controller.quorum.* settings (impl/broker/config.ts). */
export interface QuorumTimeouts {
  electionTimeoutMs: number;
  fetchTimeoutMs: number;
  electionBackoffMaxMs: number;
  requestTimeoutMs: number;
}

/** One step of the node's quorum machine, from its trace. */
export interface NodeStep {
  /** Position in the node's trace of quorum steps, from 0 (the machine's start). */
  index: number;
  event: Event | { type: "xstate.init" };
  before: { value: string; context: Context } | null;
  after: { value: string; context: Context };
}

const startTimeoutMs = 30_000;
const tracePollMs = 15;
const connectRetryMs = 25;
/** Trace bytes read at once. */
const traceChunkBytes = 1 << 20;
const quorumMachine = "raft-quorum";

export class NodeUnderTest {
  /** Every step of the node's quorum machine read from the trace so far. */
  readonly steps: NodeStep[] = [];
  readonly logLines: Array<Record<string, unknown>> = [];
  readonly exited: Promise<number | null>;
  private traceOffset = 0;
  /** Decodes across chunk ends, where a character may be split. */
  private readonly decoder = new StringDecoder("utf8");
  private partialLine = "";
  private tracePoller: NodeJS.Timeout | null = null;
  /** The trace read under way: one at a time, so lines are taken in order. */
  private reading: Promise<void> | null = null;
  /** Why the trace could not be read (a line that is not JSON): every wait then fails with it. */
  private traceError: Error | null = null;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
    private readonly traceFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    createInterface({ input: child.stderr! }).on("line", (line) => {
      try {
        this.logLines.push(JSON.parse(line));
      } catch {
        this.logLines.push({ msg: line });
      }
    });
  }

  static async start(options: {
    dataDir: string;
    port: number;
    voters: readonly VoterEndpoint[];
    timeouts: QuorumTimeouts;
  }): Promise<NodeUnderTest> {
    const traceFile = path.join(options.dataDir, "trace.ndjson");
    const { timeouts } = options;
    const child = spawn(
      process.execPath,
      [
        chronikBin,
        "start",
        "--node-id",
        "1",
        "--listen",
        `127.0.0.1:${options.port}`,
        "--data-dir",
        options.dataDir,
        "--voters",
        formatVoters(options.voters),
        "--fsync",
        "never",
        "--trace",
        traceFile,
        "--controller-quorum-election-timeout-ms",
        String(timeouts.electionTimeoutMs),
        "--controller-quorum-fetch-timeout-ms",
        String(timeouts.fetchTimeoutMs),
        "--controller-quorum-election-backoff-max-ms",
        String(timeouts.electionBackoffMaxMs),
        "--controller-quorum-request-timeout-ms",
        String(timeouts.requestTimeoutMs),
        // SIGTERM is the quorum machine's node.shutdownRequested: a controlled shutdown first would
        // append the broker's own metadata (its fence) before it, a step of another machine.
        "--controlled-shutdown-enable",
        "false",
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CHRONIK_LOG_LEVEL: "info" } },
    );
    const node = new NodeUnderTest(child, options.port, options.dataDir, traceFile);
    node.tracePoller = setInterval(() => node.pollTrace(), tracePollMs);
    try {
      await node.untilListening();
    } catch (error) {
      await node.kill();
      throw error;
    }
    return node;
  }

  /** Resolves with the first step from `fromIndex` on that `matches`, or rejects after `timeoutMs`. */
  async waitForStep(
    what: string,
    fromIndex: number,
    matches: (step: NodeStep) => boolean,
    timeoutMs: number,
  ): Promise<NodeStep> {
    const deadline = Date.now() + timeoutMs;
    for (let index = fromIndex; ; ) {
      for (; index < this.steps.length; index++) if (matches(this.steps[index]!)) return this.steps[index]!;
      if (this.traceError !== null) throw this.traceError;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new Error(`the node's trace shows no ${what} within ${timeoutMs} ms`);
      await this.changed(remainingMs);
    }
  }

  /** Resolves when the trace grows, or after `timeoutMs`. */
  private changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** SIGTERM: the node shuts down gracefully; resolves with its exit code. */
  async stop(): Promise<number | null> {
    this.child.kill("SIGTERM");
    const code = await this.exited;
    this.stopPolling();
    // The node flushes its trace as it closes: take the last lines.
    await this.reading;
    await this.readTrace();
    return code;
  }

  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
    this.stopPolling();
    await this.reading;
  }

  private stopPolling(): void {
    if (this.tracePoller !== null) clearInterval(this.tracePoller);
    this.tracePoller = null;
  }

  private async untilListening(): Promise<void> {
    const deadline = Date.now() + startTimeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => {
      exitCode = code;
    });
    while (!(await canConnect(this.port))) {
      if (exitCode !== undefined) {
        const messages = this.logLines.map((line) => line.msg).join(" | ");
        throw new Error(`node 1 exited with ${exitCode} before listening: ${messages}`);
      }
      if (Date.now() > deadline) throw new Error(`node 1 did not listen within ${startTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, connectRetryMs));
    }
  }

  private pollTrace(): void {
    if (this.reading !== null) return;
    this.reading = this.readTrace()
      .catch((error: unknown) => {
        this.traceError = error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        this.reading = null;
      });
  }

  /** Reads the trace's new complete lines; the node writes them every 50 ms. */
  private async readTrace(): Promise<void> {
    const file = await open(this.traceFile, "r").catch(() => null);
    if (file === null) return;
    try {
      const buffer = Buffer.alloc(traceChunkBytes);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, this.traceOffset);
        if (bytesRead === 0) break;
        this.traceOffset += bytesRead;
        this.takeLines(this.decoder.write(buffer.subarray(0, bytesRead)));
      }
    } finally {
      await file.close();
    }
  }

  private takeLines(text: string): void {
    const lines = (this.partialLine + text).split("\n");
    this.partialLine = lines.pop()!;
    let grew = false;
    for (const line of lines) {
      if (line === "") continue;
      const parsed = JSON.parse(line) as {
        kind: string;
        machine?: string;
        event?: NodeStep["event"];
        before?: NodeStep["before"];
        after?: NodeStep["after"];
      };
      if (parsed.kind !== "transition" || parsed.machine !== quorumMachine) continue;
      // A step that continues the one before it in the file leaves its snapshot out.
      const before =
        parsed.before === undefined ? (this.steps[this.steps.length - 1]?.after ?? null) : parsed.before;
      this.steps.push({ index: this.steps.length, event: parsed.event!, before, after: parsed.after! });
      grew = true;
    }
    if (!grew) return;
    for (const waiter of [...this.waiters]) waiter();
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
