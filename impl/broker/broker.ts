/**
 * A Chronik node: replays `__chronik_metadata` into its image, registers
 * itself, opens the replicas the image assigns it, then serves the Kafka
 * protocol. Stopping reverses that: no new connections, replicas flushed and
 * closed, the metadata log closed.
 */
import { mkdir } from "node:fs/promises";
import { raftSettingsOf } from "../cluster/raft/options.ts";
import { WireRaftTransport } from "../cluster/raft/wire-transport.ts";
import { type ControlPlane, startControlPlane } from "../controller/control-plane.ts";
import { GroupCoordinator } from "../groups/group-coordinator.ts";
import type { Logger } from "../log.ts";
import { plaintextListenerName, plaintextSecurityProtocol } from "../metadata/broker-registrations.ts";
import { Controller } from "../metadata/controller.ts";
import type { MetadataImage } from "../metadata/image.ts";
import { defaultDecodeLimits } from "../protocol/reader.ts";
import { alterPartitionSenderFor } from "../replication/alter-partition-sender.ts";
import { ReplicaFetchers } from "../replication/replica-fetcher.ts";
import { Dispatcher } from "../server/dispatcher.ts";
import { registerHandlers } from "../server/handlers/index.ts";
import { KafkaListener } from "../server/server.ts";
import { SyncScheduler } from "../storage/sync-scheduler.ts";
import { TransitionTrace } from "../trace/transition-trace.ts";
import { loadClusterIdentity } from "./cluster-identity.ts";
import { ClusterPeers } from "./cluster-peers.ts";
import type { BrokerConfig } from "./config.ts";
import { type ControlledShutdownOutcome, shutDownControlled } from "./controlled-shutdown.ts";
import { ControllerLink } from "./controller-link.ts";
import { DataDirLock } from "./data-dir-lock.ts";
import { MetadataQuorum } from "./metadata-quorum.ts";
import { ReplicaManager } from "./replica-manager.ts";
import { registerSelf } from "./self-registration.ts";
import type { BrokerServices } from "./services.ts";

/** log.retention.check.interval.ms */
const retentionCheckIntervalMs = 5 * 60 * 1000;
/** replica.high.watermark.checkpoint.interval.ms */
const highWatermarkCheckpointIntervalMs = 5000;

export class Broker {
  private readonly timers: NodeJS.Timeout[] = [];
  private controlPlane: ControlPlane | null = null;
  private fetchers: ReplicaFetchers | null = null;
  private trace: TransitionTrace | undefined;
  private controllerLink: ControllerLink | null = null;
  /** This incarnation's broker epoch, once registered. */
  private brokerEpoch: bigint | null = null;
  private waitingFetches = 0;

  private constructor(
    readonly config: BrokerConfig,
    readonly clusterId: string,
    readonly image: MetadataImage,
    private readonly quorum: MetadataQuorum,
    private readonly peers: ClusterPeers,
    private readonly sync: SyncScheduler,
    readonly replicas: ReplicaManager,
    private readonly listener: KafkaListener,
    private readonly lock: DataDirLock,
    private readonly logger: Logger,
  ) {}

  /** The port actually bound (differs from the configured one when that was 0); set once listening. */
  port = 0;

  static async start(config: BrokerConfig, logger: Logger): Promise<Broker> {
    await mkdir(config.dataDir, { recursive: true });
    const lock = await DataDirLock.acquire(config.dataDir);
    const clusterId = await loadClusterIdentity(config.dataDir, config.nodeId, config.voters);
    const sync = new SyncScheduler(config.fsync, config.fsyncIntervalMs);
    const trace =
      config.traceFile === null ? undefined : TransitionTrace.open(config.traceFile, config.nodeId, logger);
    const traced = trace === undefined ? {} : { trace };
    const peers = new ClusterPeers(config.nodeId, config.voters ?? [], logger);
    const quorum = await MetadataQuorum.open({
      dataDir: config.dataDir,
      nodeId: config.nodeId,
      initialVoters: config.voters === null ? [config.nodeId] : config.voters.map((voter) => voter.nodeId),
      // With no peers (a sole voter) every send fails at once, which the quorum takes as a lost message.
      transport: new WireRaftTransport({
        pool: peers.quorumPool,
        clusterId,
        nodeId: config.nodeId,
        requestTimeoutMs: config.quorumRequestTimeoutMs,
      }),
      raftSettings: raftSettingsOf({
        electionTimeoutMs: config.quorumElectionTimeoutMs,
        fetchTimeoutMs: config.quorumFetchTimeoutMs,
        electionBackoffMaxMs: config.quorumElectionBackoffMaxMs,
      }),
      sync,
      logger,
      // A metadata log that can no longer be written cannot be served: stop as Kafka does.
      onFatal: (error) => {
        logger.fatal({ err: error }, "metadata quorum failed; exiting");
        process.exit(1);
      },
      ...traced,
    });
    const image = quorum.image;
    await peers.update(image);
    const controller = new Controller(image, quorum, logger);
    const controlPlane = startControlPlane({ config, quorum, controller, logger, ...traced });
    const controllerLink = new ControllerLink(config.nodeId, quorum, peers.controllerPool, logger);
    const replicas = new ReplicaManager(config, sync, logger, trace);
    // Before any role is taken: the coordinator loads each `__consumer_offsets` partition this node comes to lead.
    const groups = new GroupCoordinator({ config, image, logger, ...traced });
    replicas.onLeadership(groups.partitions);
    const fetchers = new ReplicaFetchers({
      nodeId: config.nodeId,
      pool: peers.replicationPool,
      logger: logger.child({ component: "replica-fetchers" }),
    });
    const alterPartitionRoute = {
      nodeId: config.nodeId,
      quorum,
      lifecycles: controlPlane.lifecycles,
      pool: peers.controllerPool,
    };
    await replicas.takeRoles({
      fetching: fetchers,
      alterPartitionSenderFor: (local) => alterPartitionSenderFor(alterPartitionRoute, local),
      isrIneligible: (replicaIds) => image.isrIneligible(replicaIds),
    });
    await replicas.openAll(image);
    quorum.onApplied(async (changes) => {
      await replicas.apply(changes);
      if (changes.some((change) => change.kind === "broker-changed")) {
        peers.update(image).catch((error: unknown) => logger.error({ err: error }, "peer update failed"));
      }
    });

    // Client requests wait at the dispatcher until this node has registered
    // itself, so no client ever sees a cluster without this broker in it; the
    // quorum's own requests are served from the start, or no node would finish starting.
    let opened!: () => void;
    const openedPromise = new Promise<void>((resolve) => (opened = resolve));
    const dispatcher = new Dispatcher(defaultDecodeLimits, logger, openedPromise);
    const listener = new KafkaListener(
      {
        host: config.listenHost,
        port: config.listenPort,
        connectionsMax: config.connectionsMax,
        requestBytesMax: config.requestBytesMax,
        inFlightRequestsMax: config.inFlightRequestsPerConnectionMax,
      },
      dispatcher,
      logger,
    );
    const broker = new Broker(
      config,
      clusterId,
      image,
      quorum,
      peers,
      sync,
      replicas,
      listener,
      lock,
      logger,
    );
    broker.controlPlane = controlPlane;
    broker.fetchers = fetchers;
    broker.trace = trace;
    broker.controllerLink = controllerLink;
    registerHandlers(
      dispatcher,
      broker.services(controller, controlPlane, controllerLink, dispatcher, groups),
      openedPromise,
    );
    // Bind first: with port 0 the advertised port is only known once bound.
    broker.port = await listener.listen();
    const advertisedPort = config.advertisedPort === 0 ? broker.port : config.advertisedPort;
    broker.brokerEpoch = await registerSelf({
      nodeId: config.nodeId,
      clusterId,
      endpoints: [
        {
          name: plaintextListenerName,
          host: config.advertisedHost,
          port: advertisedPort,
          securityProtocol: plaintextSecurityProtocol,
        },
      ],
      quorum,
      controller,
      pool: peers.controllerPool,
      logger,
    });
    // A node registers fenced; it serves clients once the controller has seen it caught up and unfenced it.
    await quorum.whenImage((image) => image.brokers.get(config.nodeId)?.fenced === false);
    opened();
    // Kafka checks for followers out of sync every replica.lag.time.max.ms / 2.
    broker.every(config.replicaLagMsMax / 2, "ISR check", async () => replicas.tickLeaders());
    broker.every(retentionCheckIntervalMs, "retention check", () => replicas.applyRetention(Date.now()));
    broker.every(highWatermarkCheckpointIntervalMs, "high watermark checkpoint", () =>
      replicas.checkpointHighWatermarks(),
    );
    logger.info(
      {
        listen: `${config.listenHost}:${broker.port}`,
        dataDir: config.dataDir,
        clusterId,
        voters: config.voters === null ? [config.nodeId] : config.voters.map((voter) => voter.nodeId),
        fsync: config.fsync,
      },
      "broker started",
    );
    return broker;
  }

  private services(
    controller: Controller,
    controlPlane: ControlPlane,
    controllerLink: ControllerLink,
    dispatcher: Dispatcher,
    groups: GroupCoordinator,
  ): BrokerServices {
    return {
      config: this.config,
      clusterId: this.clusterId,
      image: this.image,
      controller,
      lifecycles: controlPlane.lifecycles,
      brokerHeartbeats: controlPlane.heartbeats,
      replicaConnections: controlPlane.liveness,
      controllerLink,
      // A forwarded request has no connection of its own: nothing follows it to release.
      dispatchForwarded: (frame, peer) =>
        dispatcher.handle(
          frame,
          peer,
          { releaseNext: () => {}, connectionClosed: new Promise(() => {}) },
          true,
        ),
      quorum: this.quorum,
      replicas: this.replicas,
      groups,
      logger: this.logger,
      supportedApis: () => dispatcher.supportedApis(),
      reserveWaitingFetch: () => {
        if (this.waitingFetches >= this.config.waitingFetchesMax) return false;
        this.waitingFetches += 1;
        return true;
      },
      releaseWaitingFetch: () => {
        this.waitingFetches -= 1;
      },
    };
  }

  private async shutDownControlled(abandon: Promise<void>): Promise<void> {
    const { brokerEpoch, controllerLink, controlPlane, config } = this;
    if (brokerEpoch === null || controllerLink === null || controlPlane === null) return;
    // With no controller answering, waiting longer than an election and a request could take is pointless.
    const unansweredGiveUpMs = config.quorumElectionTimeoutMs * 2 + config.quorumRequestTimeoutMs;
    const outcome = await shutDownControlled({
      nodeId: config.nodeId,
      brokerEpoch,
      appliedOffset: () => this.quorum.applied,
      controllerLink,
      heartbeats: controlPlane.heartbeats,
      requestTimeoutMs: config.quorumRequestTimeoutMs,
      timeoutMs: config.controlledShutdownTimeoutMs,
      unansweredGiveUpMs,
      abandon,
      logger: this.logger,
    });
    if (outcome !== "granted") {
      this.logger.warn(
        { outcome, timeoutMs: config.controlledShutdownTimeoutMs, unansweredGiveUpMs },
        controlledShutdownFailures[outcome],
      );
    }
  }

  /** A periodic background task; a run that fails is logged and the next one still happens. */
  private every(intervalMs: number, what: string, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((error: unknown) => this.logger.error({ err: error }, `${what} failed`));
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  /**
   * Stops the node: first a controlled shutdown (unless disabled), while
   * everything still serves, then no new connections, replicas flushed and
   * closed, the metadata log closed. `abandonControlledShutdown` settling
   * stops the controlled shutdown's wait at once.
   */
  async stop(abandonControlledShutdown: Promise<void> = new Promise(() => {})): Promise<void> {
    if (this.config.controlledShutdownEnable) await this.shutDownControlled(abandonControlledShutdown);
    for (const timer of this.timers) clearInterval(timer);
    this.controlPlane?.stop();
    await this.listener.close();
    await this.replicas.closeAll();
    await this.fetchers?.close();
    await this.quorum.close();
    await this.peers.close();
    await this.sync.close();
    this.trace?.close();
    await this.lock.release();
    this.logger.info("broker stopped");
  }
}

const controlledShutdownFailures: Record<Exclude<ControlledShutdownOutcome, "granted">, string> = {
  "no-controller":
    "controlled shutdown abandoned: no controller answered; stopping with this node's leaderships in place",
  "timed-out": "controlled shutdown timed out; stopping with what the controller has moved so far",
  "not-registered": "controlled shutdown refused: the controller does not know this incarnation; stopping",
  abandoned: "controlled shutdown abandoned on request; stopping now",
};
