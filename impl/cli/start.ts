/** `chronik start`: one node, in the foreground, until SIGTERM or SIGINT. */
import { type Command, InvalidArgumentError, Option } from "commander";
import { Broker } from "../broker/broker.ts";
import { type BrokerConfig, defaultBrokerConfig } from "../broker/config.ts";
import { InvalidVotersError, parseVoters, type VoterEndpoint } from "../cluster/voters.ts";
import { createLogger } from "../log.ts";
import type { FsyncPolicy } from "../storage/log-config.ts";

export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || match[1] === "" || port > 65_535) {
    throw new InvalidArgumentError(`expected HOST:PORT, got "${text}"`);
  }
  return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

/** How long shutdown waits for the last log lines to be written. */
const logFlushWaitMs = 1000;

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${text}"`);
  return value;
}

function nonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new InvalidArgumentError(`expected an integer ≥ 0, got "${text}"`);
  return value;
}

function votersArgument(text: string): VoterEndpoint[] {
  try {
    return parseVoters(text);
  } catch (error) {
    if (error instanceof InvalidVotersError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

function option(flags: string, description: string, environment: string): Option {
  return new Option(flags, description).env(environment);
}

interface StartOptions {
  nodeId: number;
  listen: { host: string; port: number };
  advertise?: { host: string; port: number };
  dataDir: string;
  voters?: VoterEndpoint[];
  minInsyncReplicas: number;
  brokerSessionTimeoutMs: number;
  replicaLagTimeMaxMs: number;
  controllerQuorumElectionTimeoutMs: number;
  controllerQuorumFetchTimeoutMs: number;
  controllerQuorumElectionBackoffMaxMs: number;
  controllerQuorumRequestTimeoutMs: number;
  defaultReplicationFactor: number;
  numPartitions: number;
  fsync: FsyncPolicy;
  offsetsTopicPartitions: number;
  offsetsTopicReplicationFactor: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  controlledShutdownEnable: "true" | "false";
  controlledShutdownTimeoutMs: number;
  trace?: string;
}

export function addStartCommand(program: Command): void {
  program
    .command("start")
    .description("run one node in the foreground")
    .addOption(
      option("--node-id <N>", "this node's id", "CHRONIK_NODE_ID")
        .argParser(nonNegativeInteger)
        .default(defaultBrokerConfig.nodeId),
    )
    .addOption(
      option(
        "--listen <HOST:PORT>",
        "where to listen for Kafka clients (port 0 picks a free one)",
        "CHRONIK_LISTEN",
      )
        .argParser(parseHostPort)
        .default(parseHostPort("127.0.0.1:9092"), "127.0.0.1:9092"),
    )
    .addOption(
      option(
        "--advertise <HOST:PORT>",
        "the address given to clients (default: --listen)",
        "CHRONIK_ADVERTISE",
      ).argParser(parseHostPort),
    )
    .addOption(
      option("--data-dir <DIR>", "where logs and metadata live", "CHRONIK_DATA_DIR").default(
        defaultBrokerConfig.dataDir,
      ),
    )
    .addOption(
      option(
        "--voters <ID@HOST:PORT,...>",
        "the metadata quorum's initial voters, the same on every node (default: this node alone)",
        "CHRONIK_VOTERS",
      ).argParser(votersArgument),
    )
    .addOption(
      option("--min-insync-replicas <N>", "min.insync.replicas default", "CHRONIK_MIN_INSYNC_REPLICAS")
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.minInsyncReplicas),
    )
    .addOption(
      option(
        "--broker-session-timeout-ms <MS>",
        "broker.session.timeout.ms: a node silent this long is fenced",
        "CHRONIK_BROKER_SESSION_TIMEOUT_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.brokerSessionTimeoutMs),
    )
    .addOption(
      option(
        "--replica-lag-time-max-ms <MS>",
        "replica.lag.time.max.ms: a follower not caught up with the leader for this long leaves the ISR",
        "CHRONIK_REPLICA_LAG_TIME_MAX_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.replicaLagMsMax),
    )
    .addOption(
      option(
        "--controller-quorum-election-timeout-ms <MS>",
        "controller.quorum.election.timeout.ms: a voter that hears from no leader for this long (up to twice it) stands",
        "CHRONIK_CONTROLLER_QUORUM_ELECTION_TIMEOUT_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.quorumElectionTimeoutMs),
    )
    .addOption(
      option(
        "--controller-quorum-fetch-timeout-ms <MS>",
        "controller.quorum.fetch.timeout.ms: how long a follower trusts a quiet leader (check quorum: 1.5 times it)",
        "CHRONIK_CONTROLLER_QUORUM_FETCH_TIMEOUT_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.quorumFetchTimeoutMs),
    )
    .addOption(
      option(
        "--controller-quorum-election-backoff-max-ms <MS>",
        "controller.quorum.election.backoff.max.ms: the longest wait before standing after a leader resigned",
        "CHRONIK_CONTROLLER_QUORUM_ELECTION_BACKOFF_MAX_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.quorumElectionBackoffMaxMs),
    )
    .addOption(
      option(
        "--controller-quorum-request-timeout-ms <MS>",
        "controller.quorum.request.timeout.ms: how long a quorum request waits for its answer",
        "CHRONIK_CONTROLLER_QUORUM_REQUEST_TIMEOUT_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.quorumRequestTimeoutMs),
    )
    .addOption(
      option(
        "--default-replication-factor <N>",
        "replicas of auto-created topics",
        "CHRONIK_DEFAULT_REPLICATION_FACTOR",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.defaultReplicationFactor),
    )
    .addOption(
      option("--num-partitions <N>", "partitions of auto-created topics", "CHRONIK_NUM_PARTITIONS")
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.numPartitions),
    )
    .addOption(
      option("--fsync <POLICY>", "when appends reach the disk before they are acknowledged", "CHRONIK_FSYNC")
        .choices(["always", "interval", "never"])
        .default(defaultBrokerConfig.fsync),
    )
    .addOption(
      option(
        "--offsets-topic-partitions <N>",
        "offsets.topic.num.partitions: partitions of __consumer_offsets when it is created",
        "CHRONIK_OFFSETS_TOPIC_PARTITIONS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.offsetsTopicPartitions),
    )
    .addOption(
      option(
        "--offsets-topic-replication-factor <N>",
        "offsets.topic.replication.factor (at most the live nodes when it is created)",
        "CHRONIK_OFFSETS_TOPIC_REPLICATION_FACTOR",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.offsetsTopicReplicationFactor),
    )
    .addOption(
      option(
        "--group-initial-rebalance-delay-ms <MS>",
        "group.initial.rebalance.delay.ms: how long an empty group's first rebalance waits for members",
        "CHRONIK_GROUP_INITIAL_REBALANCE_DELAY_MS",
      )
        .argParser(nonNegativeInteger)
        .default(defaultBrokerConfig.groupInitialRebalanceDelayMs),
    )
    .addOption(
      option(
        "--group-min-session-timeout-ms <MS>",
        "group.min.session.timeout.ms: the shortest session timeout a member may ask for",
        "CHRONIK_GROUP_MIN_SESSION_TIMEOUT_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.groupMinSessionTimeoutMs),
    )
    .addOption(
      option(
        "--group-max-session-timeout-ms <MS>",
        "group.max.session.timeout.ms: the longest session timeout a member may ask for",
        "CHRONIK_GROUP_MAX_SESSION_TIMEOUT_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.groupMaxSessionTimeoutMs),
    )
    .addOption(
      option("--group-max-size <N>", "group.max.size: members a group may hold", "CHRONIK_GROUP_MAX_SIZE")
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.groupMaxSize),
    )
    .addOption(
      option(
        "--controlled-shutdown-enable <BOOL>",
        "controlled.shutdown.enable: a stopping node first has the controller move its leaderships away",
        "CHRONIK_CONTROLLED_SHUTDOWN_ENABLE",
      )
        .choices(["true", "false"])
        .default(String(defaultBrokerConfig.controlledShutdownEnable)),
    )
    .addOption(
      option(
        "--controlled-shutdown-timeout-ms <MS>",
        "how long a stopping node waits for the controller to let it go (a second SIGTERM or SIGINT stops waiting)",
        "CHRONIK_CONTROLLED_SHUTDOWN_TIMEOUT_MS",
      )
        .argParser(positiveInteger)
        .default(defaultBrokerConfig.controlledShutdownTimeoutMs),
    )
    .addOption(option("--trace <FILE>", "record machine transitions as NDJSON", "CHRONIK_TRACE"))
    .action(async (options: StartOptions) => {
      if (options.groupMinSessionTimeoutMs > options.groupMaxSessionTimeoutMs) {
        throw new InvalidArgumentError(
          `--group-min-session-timeout-ms ${options.groupMinSessionTimeoutMs} is above --group-max-session-timeout-ms ${options.groupMaxSessionTimeoutMs}`,
        );
      }
      const advertise = options.advertise ?? options.listen;
      const config: BrokerConfig = {
        ...defaultBrokerConfig,
        nodeId: options.nodeId,
        listenHost: options.listen.host,
        listenPort: options.listen.port,
        advertisedHost: advertise.host,
        advertisedPort: options.advertise ? advertise.port : options.listen.port,
        dataDir: options.dataDir,
        voters: options.voters ?? null,
        minInsyncReplicas: options.minInsyncReplicas,
        brokerSessionTimeoutMs: options.brokerSessionTimeoutMs,
        replicaLagMsMax: options.replicaLagTimeMaxMs,
        quorumElectionTimeoutMs: options.controllerQuorumElectionTimeoutMs,
        quorumFetchTimeoutMs: options.controllerQuorumFetchTimeoutMs,
        quorumElectionBackoffMaxMs: options.controllerQuorumElectionBackoffMaxMs,
        quorumRequestTimeoutMs: options.controllerQuorumRequestTimeoutMs,
        defaultReplicationFactor: options.defaultReplicationFactor,
        numPartitions: options.numPartitions,
        fsync: options.fsync,
        offsetsTopicPartitions: options.offsetsTopicPartitions,
        offsetsTopicReplicationFactor: options.offsetsTopicReplicationFactor,
        groupInitialRebalanceDelayMs: options.groupInitialRebalanceDelayMs,
        groupMinSessionTimeoutMs: options.groupMinSessionTimeoutMs,
        groupMaxSessionTimeoutMs: options.groupMaxSessionTimeoutMs,
        groupMaxSize: options.groupMaxSize,
        controlledShutdownEnable: options.controlledShutdownEnable === "true",
        controlledShutdownTimeoutMs: options.controlledShutdownTimeoutMs,
        traceFile: options.trace ?? null,
      };
      const logger = createLogger("chronik").child({ nodeId: config.nodeId });
      // The log flush gets a bounded wait: with stderr gone (a closed pipe)
      // its callback may never come, and the process must still exit.
      const exitAfterFlush = (code: number) => {
        setTimeout(() => process.exit(code), logFlushWaitMs).unref();
        logger.flush(() => process.exit(code));
      };
      // Starting may wait as long as there is no quorum (registration needs one). A stop asked
      // for meanwhile has nothing to stop gracefully: the node says so and exits as the signal
      // would have ended it (128 + 15), everything it wrote being durable already.
      const stopWhileStarting = (signal: string) => {
        logger.warn(
          { signal },
          "stop requested before the broker finished starting; exiting without a graceful shutdown",
        );
        exitAfterFlush(143);
      };
      let broker: Broker | null = null;
      let stopping = false;
      let abandonControlledShutdown!: () => void;
      const controlledShutdownAbandoned = new Promise<void>((resolve) => {
        abandonControlledShutdown = resolve;
      });
      const stop = (signal: string) => {
        if (broker === null) {
          stopWhileStarting(signal);
          return;
        }
        if (stopping) {
          // A second signal: the operator will not wait for leaderships to move.
          logger.info({ signal }, "second stop signal: no longer waiting for the controlled shutdown");
          abandonControlledShutdown();
          return;
        }
        stopping = true;
        logger.info({ signal }, "shutting down");
        broker.stop(controlledShutdownAbandoned).then(
          () => exitAfterFlush(0),
          (error: unknown) => {
            logger.error({ err: error }, "shutdown failed");
            exitAfterFlush(1);
          },
        );
      };
      // One listener per signal for the node's whole life: a listener removed and another added
      // in its place would lose a signal that arrives in between.
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
      broker = await Broker.start(config, logger);
    });
}
