/**
 * A Chronik node: replays `__chronik_metadata` into its image, registers
 * itself, opens the replicas the image assigns it, then serves the Kafka
 * protocol. Stopping reverses that: no new connections, replicas flushed and
 * closed, the metadata log closed.
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import type { Logger } from "../log.ts";
import { Controller } from "../metadata/controller.ts";
import type { MetadataImage } from "../metadata/image.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import { defaultDecodeLimits } from "../protocol/reader.ts";
import { Dispatcher } from "../server/dispatcher.ts";
import { registerHandlers } from "../server/handlers/index.ts";
import { KafkaListener } from "../server/server.ts";
import { SyncScheduler } from "../storage/sync-scheduler.ts";
import { loadClusterIdentity } from "./cluster-identity.ts";
import type { BrokerConfig } from "./config.ts";
import { DataDirLock } from "./data-dir-lock.ts";
import { MetadataQuorum } from "./metadata-quorum.ts";
import { ReplicaManager } from "./replica-manager.ts";
import type { BrokerServices } from "./services.ts";

/** log.retention.check.interval.ms */
const retentionCheckIntervalMs = 5 * 60 * 1000;
/** replica.high.watermark.checkpoint.interval.ms */
const highWatermarkCheckpointIntervalMs = 5000;
const plaintextSecurityProtocol = 0;

export class Broker {
  private readonly timers: NodeJS.Timeout[] = [];
  private waitingFetches = 0;

  private constructor(
    readonly config: BrokerConfig,
    readonly clusterId: string,
    readonly image: MetadataImage,
    private readonly quorum: MetadataQuorum,
    private readonly sync: SyncScheduler,
    readonly replicas: ReplicaManager,
    private readonly listener: KafkaListener,
    /** The port actually bound (differs from the configured one when that was 0). */
    readonly port: number,
    private readonly lock: DataDirLock,
    private readonly logger: Logger,
  ) {}

  static async start(config: BrokerConfig, logger: Logger): Promise<Broker> {
    await mkdir(config.dataDir, { recursive: true });
    const lock = await DataDirLock.acquire(config.dataDir);
    const clusterId = await loadClusterIdentity(config.dataDir, config.nodeId);
    const sync = new SyncScheduler(config.fsync, config.fsyncIntervalMs);
    const quorum = await MetadataQuorum.open({
      dataDir: config.dataDir,
      nodeId: config.nodeId,
      sync,
      logger,
      // A metadata log that can no longer be written cannot be served: stop as Kafka does.
      onFatal: (error) => {
        logger.fatal({ err: error }, "metadata quorum failed; exiting");
        process.exit(1);
      },
    });
    const image = quorum.image;
    const controller = new Controller(image, quorum, logger);
    const replicas = new ReplicaManager(config, sync, logger);
    await replicas.openAll(image);
    quorum.onApplied((changes) => replicas.apply(changes));
    await quorum.leadership;

    // Requests wait at the dispatcher until this node has registered itself,
    // so no client ever sees a cluster without this broker in it.
    let opened!: () => void;
    const dispatcher = new Dispatcher(
      defaultDecodeLimits,
      logger,
      new Promise<void>((resolve) => (opened = resolve)),
    );
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
    // Bind first: with port 0 the advertised port is only known once bound.
    const port = await listener.listen();
    const advertisedPort = config.advertisedPort === 0 ? port : config.advertisedPort;
    const broker = new Broker(config, clusterId, image, quorum, sync, replicas, listener, port, lock, logger);
    registerHandlers(dispatcher, broker.services(controller, dispatcher));
    await controller.decide(() => ({ records: [registration(config, advertisedPort)], result: undefined }));
    opened();
    broker.every(retentionCheckIntervalMs, "retention check", () => replicas.applyRetention(Date.now()));
    broker.every(highWatermarkCheckpointIntervalMs, "high watermark checkpoint", () =>
      replicas.checkpointHighWatermarks(),
    );
    logger.info(
      { listen: `${config.listenHost}:${port}`, dataDir: config.dataDir, clusterId, fsync: config.fsync },
      "broker started",
    );
    return broker;
  }

  private services(controller: Controller, dispatcher: Dispatcher): BrokerServices {
    return {
      config: this.config,
      clusterId: this.clusterId,
      image: this.image,
      controller,
      quorum: this.quorum,
      replicas: this.replicas,
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

  /** A periodic background task; a run that fails is logged and the next one still happens. */
  private every(intervalMs: number, what: string, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((error: unknown) => this.logger.error({ err: error }, `${what} failed`));
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.listener.close();
    await this.replicas.closeAll();
    await this.quorum.close();
    await this.sync.close();
    await this.lock.release();
    this.logger.info("broker stopped");
  }
}

/** Each start registers a new incarnation with the endpoint clients should use. */
function registration(config: BrokerConfig, advertisedPort: number): MetadataRecord {
  return {
    type: "RegisterBrokerRecord",
    version: 0,
    value: {
      brokerId: config.nodeId,
      isMigratingZkBroker: false,
      incarnationId: randomUUID().replaceAll("-", ""),
      brokerEpoch: BigInt(Date.now()),
      endPoints: [
        {
          name: "PLAINTEXT",
          host: config.advertisedHost,
          port: advertisedPort,
          securityProtocol: plaintextSecurityProtocol,
        },
      ],
      features: [],
      rack: null,
      fenced: false,
      inControlledShutdown: false,
      logDirs: [],
    },
  } as MetadataRecord;
}
