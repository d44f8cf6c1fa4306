/**
 * `chronik cluster status | add-voter | remove-voter`: a client of the
 * metadata quorum's admin APIs. Any node answers: one that does not lead
 * forwards the request to the controller, as Kafka's brokers do.
 */
import { type Command, InvalidArgumentError } from "commander";
import { PeerClient } from "../cluster/peer-client.ts";
import { createLogger } from "../log.ts";
import { metadataTopicName } from "../metadata/internal-topics.ts";
import { addRaftVoterApi } from "../protocol/apis/add-raft-voter.ts";
import { describeQuorumApi } from "../protocol/apis/describe-quorum.ts";
import { metadataApi } from "../protocol/apis/metadata.ts";
import { removeRaftVoterApi } from "../protocol/apis/remove-raft-voter.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import { zeroUuid } from "../protocol/schema.ts";

type HostPort = { host: string; port: number };

const requestTimeoutMs = 30_000;
/** How long add-voter lets the controller wait for the new voter to catch up. */
const addVoterTimeoutMs = 30_000;

function nodeIdArgument(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new InvalidArgumentError(`expected a node id, got "${text}"`);
  return value;
}

export function addQuorumAdminCommands(cluster: Command, parseHostPort: (text: string) => HostPort): void {
  const bootstrap = (command: Command) =>
    command.requiredOption("--bootstrap <HOST:PORT>", "any node of the cluster", parseHostPort);
  bootstrap(
    cluster
      .command("status")
      .description("the metadata quorum: leader, epoch, voters, observers and their lag"),
  ).action((options: { bootstrap: HostPort }) => withClient(options.bootstrap, printStatus));
  bootstrap(cluster.command("add-voter").description("make a running node (an observer) a voter"))
    .requiredOption("--node-id <N>", "the node to add", nodeIdArgument)
    .action((options: { bootstrap: HostPort; nodeId: number }) =>
      withClient(options.bootstrap, async (client) => {
        const response = await client.send(
          addRaftVoterApi,
          0,
          {
            clusterId: null,
            timeoutMs: addVoterTimeoutMs,
            voterId: options.nodeId,
            voterDirectoryId: zeroUuid,
            listeners: [],
          },
          { timeoutMs: addVoterTimeoutMs + requestTimeoutMs },
        );
        report(`node ${options.nodeId} added as a voter`, response);
      }),
    );
  bootstrap(cluster.command("remove-voter").description("take a voter out of the metadata quorum"))
    .requiredOption("--node-id <N>", "the voter to remove", nodeIdArgument)
    .action((options: { bootstrap: HostPort; nodeId: number }) =>
      withClient(options.bootstrap, async (client) => {
        const response = await client.send(
          removeRaftVoterApi,
          0,
          { clusterId: null, voterId: options.nodeId, voterDirectoryId: zeroUuid },
          { timeoutMs: requestTimeoutMs },
        );
        report(`node ${options.nodeId} removed from the voters`, response);
      }),
    );
}

async function withClient(address: HostPort, use: (client: PeerClient) => Promise<void>): Promise<void> {
  const client = new PeerClient(
    { nodeId: -1, ...address },
    { clientId: "chronik-cli", logger: createLogger("chronik-cli", "warn") },
  );
  try {
    await use(client);
  } finally {
    await client.close("done");
  }
}

function report(done: string, response: { errorCode: number; errorMessage: string | null }): void {
  if (response.errorCode !== ErrorCode.NONE) {
    throw new Error(`${errorName(response.errorCode)}: ${response.errorMessage ?? "refused"}`);
  }
  process.stdout.write(`${done}\n`);
}

async function printStatus(client: PeerClient): Promise<void> {
  const response = await client.send(
    describeQuorumApi,
    2,
    { topics: [{ topicName: metadataTopicName, partitions: [{ partitionIndex: 0 }] }] },
    { timeoutMs: requestTimeoutMs },
  );
  const partition = response.topics[0]?.partitions[0];
  if (response.errorCode !== ErrorCode.NONE || partition === undefined) {
    throw new Error(`DescribeQuorum: ${errorName(response.errorCode)} ${response.errorMessage ?? ""}`);
  }
  if (partition.errorCode !== ErrorCode.NONE) {
    throw new Error(`DescribeQuorum: ${errorName(partition.errorCode)} ${partition.errorMessage ?? ""}`);
  }
  // DescribeQuorum names the voters' listeners; the brokers in Metadata cover observers too.
  const metadata = await client.send(
    metadataApi,
    12,
    { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false },
    { timeoutMs: requestTimeoutMs },
  );
  const endpoints = new Map<number, string>(
    metadata.brokers.map((broker) => [broker.nodeId, `${broker.host}:${broker.port}`]),
  );
  for (const node of response.nodes) {
    if (!endpoints.has(node.nodeId) && node.listeners[0] !== undefined) {
      endpoints.set(node.nodeId, `${node.listeners[0].host}:${node.listeners[0].port}`);
    }
  }
  const now = Date.now();
  const rows = [
    ...partition.currentVoters.map((replica) => ({ replica, role: "voter" })),
    ...partition.observers.map((replica) => ({ replica, role: "observer" })),
  ].map(({ replica, role }) => {
    const isLeader = replica.replicaId === partition.leaderId;
    const lag =
      replica.logEndOffset < 0n ? "unknown" : String(partition.highWatermark - replica.logEndOffset);
    const fetched =
      isLeader || replica.lastFetchTimestamp < 0n
        ? "-"
        : `${Math.max(0, now - Number(replica.lastFetchTimestamp))} ms ago`;
    return [
      String(replica.replicaId),
      isLeader ? "leader" : role,
      endpoints.get(replica.replicaId) ?? "-",
      String(replica.logEndOffset),
      lag,
      fetched,
    ];
  });
  const lines = [
    `cluster metadata quorum: leader ${partition.leaderId}, epoch ${partition.leaderEpoch}, high watermark ${partition.highWatermark}`,
    table([["node", "role", "address", "log end", "lag", "last fetch"], ...rows]),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
