/**
 * The broker's static configuration, from `chronik start` flags and
 * CHRONIK_* environment variables, with Kafka's defaults where Kafka has one.
 */
import type { VoterEndpoint } from "../cluster/voters.ts";
import type { FsyncPolicy } from "../storage/log-config.ts";

export interface BrokerConfig {
  nodeId: number;
  listenHost: string;
  listenPort: number;
  advertisedHost: string;
  advertisedPort: number;
  dataDir: string;
  /** The metadata quorum's initial voters (--voters); null: this node is the only voter. */
  voters: VoterEndpoint[] | null;
  /** replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR. */
  replicaLagMsMax: number;
  /** broker.session.timeout.ms: a node that has not fetched the metadata log for this long is fenced. */
  brokerSessionTimeoutMs: number;
  /** controller.quorum.election.timeout.ms: a voter that hears from no leader for this long (to twice it, at random) stands. */
  quorumElectionTimeoutMs: number;
  /** controller.quorum.fetch.timeout.ms: a follower's trust in a quiet leader; the leader's check quorum is 1.5 times it. */
  quorumFetchTimeoutMs: number;
  /** controller.quorum.election.backoff.max.ms: the longest wait before standing after a leader resigned. */
  quorumElectionBackoffMaxMs: number;
  /** controller.quorum.request.timeout.ms: how long Vote, BeginQuorumEpoch and EndQuorumEpoch wait for an answer. */
  quorumRequestTimeoutMs: number;
  /** min.insync.replicas for topics that do not override it. */
  minInsyncReplicas: number;
  /** default.replication.factor for auto-created topics and CreateTopics with -1. */
  defaultReplicationFactor: number;
  /** num.partitions for auto-created topics and CreateTopics with -1. */
  numPartitions: number;
  fsync: FsyncPolicy;
  /** How often `--fsync interval` syncs. */
  fsyncIntervalMs: number;
  autoCreateTopicsEnable: boolean;
  /** message.max.bytes: the largest record batch accepted. */
  messageBytesMax: number;
  /** socket.request.max.bytes: the largest request frame accepted. */
  requestBytesMax: number;
  /** Requests decoded and unanswered per connection before reading pauses. */
  inFlightRequestsPerConnectionMax: number;
  connectionsMax: number;
  /** Fetch long polls parked at once, across all connections. */
  waitingFetchesMax: number;
  /** offsets.topic.num.partitions: partitions of `__consumer_offsets` when it is created. */
  offsetsTopicPartitions: number;
  /**
   * offsets.topic.replication.factor for `__consumer_offsets`, lowered to the
   * number of live nodes when it is created on a smaller cluster.
   */
  offsetsTopicReplicationFactor: number;
  /** group.initial.rebalance.delay.ms: how long an empty group's first rebalance waits for more members. */
  groupInitialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms and group.max.session.timeout.ms: the session timeouts a member may ask for. */
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** group.max.size: members a group may hold. */
  groupMaxSize: number;
  /** offset.metadata.max.bytes: the longest metadata string an offset commit may carry. */
  offsetMetadataMaxBytes: number;
  /** controlled.shutdown.enable: a stopping node first asks the controller to move its leaderships away. */
  controlledShutdownEnable: boolean;
  /** How long a stopping node waits for the controller to let it go. */
  controlledShutdownTimeoutMs: number;
  /** NDJSON file for machine transitions, or null. */
  traceFile: string | null;
}

export const defaultBrokerConfig: BrokerConfig = {
  nodeId: 1,
  listenHost: "127.0.0.1",
  listenPort: 9092,
  advertisedHost: "127.0.0.1",
  advertisedPort: 9092,
  dataDir: "./data",
  voters: null,
  replicaLagMsMax: 30_000,
  brokerSessionTimeoutMs: 9_000,
  quorumElectionTimeoutMs: 1_000,
  quorumFetchTimeoutMs: 2_000,
  quorumElectionBackoffMaxMs: 1_000,
  quorumRequestTimeoutMs: 2_000,
  minInsyncReplicas: 1,
  defaultReplicationFactor: 1,
  numPartitions: 1,
  fsync: "always",
  fsyncIntervalMs: 1000,
  autoCreateTopicsEnable: true,
  messageBytesMax: 1_048_588,
  requestBytesMax: 104_857_600,
  inFlightRequestsPerConnectionMax: 100,
  connectionsMax: 10_000,
  waitingFetchesMax: 10_000,
  offsetsTopicPartitions: 50,
  offsetsTopicReplicationFactor: 3,
  groupInitialRebalanceDelayMs: 3000,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  // Kafka leaves groups unbounded; here a bound keeps one group from holding unbounded state.
  groupMaxSize: 10_000,
  offsetMetadataMaxBytes: 4096,
  controlledShutdownEnable: true,
  controlledShutdownTimeoutMs: 30_000,
  traceFile: null,
};
