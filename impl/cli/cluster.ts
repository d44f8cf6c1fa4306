/**
 * `chronik cluster`: N local nodes for development, each a `chronik start`
 * child process with its own data directory, all voters of one metadata
 * quorum; and, against any running cluster, `status`, `add-voter` and
 * `remove-voter` (clients of DescribeQuorum, AddRaftVoter, RemoveRaftVoter).
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Command, InvalidArgumentError } from "commander";
import { formatVoters, type VoterEndpoint } from "../cluster/voters.ts";
import { addQuorumAdminCommands } from "./quorum-admin.ts";
import { parseHostPort } from "./start.ts";

const executable = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/chronik");
/** How long stopping waits for a node before it is killed. */
const stopWaitMs = 10_000;

interface ClusterOptions {
  nodes: number;
  basePort: number;
  host: string;
  dataDir: string;
}

function nodeCount(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 9) {
    throw new InvalidArgumentError(`expected 1 to 9 nodes, got "${text}"`);
  }
  return value;
}

function port(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new InvalidArgumentError(`expected a port from 1 to 65535, got "${text}"`);
  }
  return value;
}

export function addClusterCommand(program: Command): void {
  const cluster = program
    .command("cluster")
    .description("run N local nodes as one cluster (development), or manage a running cluster")
    .option("--nodes <N>", "how many nodes, all voters", nodeCount, 3)
    .option("--base-port <PORT>", "node i listens on PORT + i - 1", port, 9092)
    .option("--host <HOST>", "the address every node listens on", "127.0.0.1")
    .option("--data-dir <DIR>", "node i keeps its data in DIR/node-i", "./cluster-data")
    .action((options: ClusterOptions) => runLocalCluster(options));
  addQuorumAdminCommands(cluster, parseHostPort);
}

async function runLocalCluster(options: ClusterOptions): Promise<void> {
  if (options.basePort + options.nodes - 1 > 65_535) {
    throw new InvalidArgumentError(
      `ports ${options.basePort}..${options.basePort + options.nodes - 1} pass 65535`,
    );
  }
  const voters: VoterEndpoint[] = Array.from({ length: options.nodes }, (_, index) => ({
    nodeId: index + 1,
    host: options.host,
    port: options.basePort + index,
  }));
  const children = new Map<number, ChildProcess>();
  let stopping = false;
  const exited = voters.map(
    (voter) =>
      new Promise<void>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            executable,
            "start",
            "--node-id",
            String(voter.nodeId),
            "--listen",
            `${voter.host}:${voter.port}`,
            "--data-dir",
            path.join(options.dataDir, `node-${voter.nodeId}`),
            "--voters",
            formatVoters(voters),
          ],
          { stdio: ["ignore", "inherit", "pipe"] },
        );
        children.set(voter.nodeId, child);
        relayLog(child, voter);
        child.on("exit", (code, signal) => {
          children.delete(voter.nodeId);
          if (!stopping) {
            process.stdout.write(
              `node ${voter.nodeId} exited (${signal ?? `code ${code}`}); the others keep running\n`,
            );
          }
          resolve();
        });
      }),
  );
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`stopping ${children.size} nodes\n`);
    for (const child of children.values()) child.kill(signal);
    setTimeout(() => {
      for (const child of children.values()) child.kill("SIGKILL");
    }, stopWaitMs).unref();
  };
  process.on("SIGINT", () => stop("SIGTERM"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.stdout.write(
    `starting ${options.nodes} nodes, voters ${formatVoters(voters)}; logs go to stderr; Ctrl-C stops them\n`,
  );
  await Promise.all(exited);
}

/**
 * Passes each node's log lines through to stderr and, when a node reports it
 * has started, says where it listens on stdout: the line a developer looks for.
 */
function relayLog(child: ChildProcess, voter: VoterEndpoint): void {
  const lines = createInterface({ input: child.stderr! });
  lines.on("line", (line) => {
    process.stderr.write(`${line}\n`);
    if (line.includes('"msg":"broker started"')) {
      process.stdout.write(`node ${voter.nodeId} listening on ${voter.host}:${voter.port}\n`);
    }
  });
}
