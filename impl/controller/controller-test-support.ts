/**
 * For the controller's tests: a metadata log that commits at once into an
 * image (through the records codec, as the real log does), the controller and
 * partition lifecycles over it, and brokers registered in it.
 */

import { pino } from "pino";
import { defaultBrokerConfig } from "../broker/config.ts";
import { type Logger, silentLogger } from "../log.ts";
import { Controller, type MetadataWriter, NotControllerError } from "../metadata/controller.ts";
import { MetadataImage } from "../metadata/image.ts";
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from "../metadata/records.ts";
import { PartitionLifecycles } from "./partition-lifecycles.ts";

/** A metadata log of one voter that commits each append at once; leadership and failures are the test's. */
export class InstantMetadataLog implements MetadataWriter {
  leading = true;
  /** The leadership epoch the lifecycles see. */
  epoch = 1;
  /** Set to make the next append fail as an uncommitted one would. */
  failNextAppend: Error | null = null;
  readonly batches: MetadataRecord[][] = [];

  constructor(readonly image: MetadataImage) {}

  async whenWritable(): Promise<void> {
    if (!this.leading) throw new NotControllerError(null, "the test took leadership away");
  }

  async append(records: MetadataRecord[]): Promise<{ firstOffset: number; lastOffset: number }> {
    const failure = this.failNextAppend;
    if (failure !== null) {
      this.failNextAppend = null;
      throw failure;
    }
    this.commit(records);
    const lastOffset = Number(this.image.appliedOffset);
    return { firstOffset: lastOffset - records.length + 1, lastOffset };
  }

  /** Commits records no controller decided here: another controller's, or the test's setup. */
  commit(records: MetadataRecord[]): void {
    const decoded = records.map((record) => decodeMetadataRecord(encodeMetadataRecord(record)));
    for (const record of decoded) this.image.apply(record, this.image.appliedOffset + 1n);
    this.batches.push(decoded);
  }
}

export interface ControllerFixture {
  image: MetadataImage;
  log: InstantMetadataLog;
  controller: Controller;
  lifecycles: PartitionLifecycles;
}

/** Brokers registered unfenced, each with broker epoch 100 + its id. */
export function controllerFixture(brokerIds: number[], logger: Logger = silentLogger()): ControllerFixture {
  const image = new MetadataImage();
  const log = new InstantMetadataLog(image);
  log.commit(brokerIds.map((brokerId) => registration(brokerId, 100n + BigInt(brokerId), false)));
  log.batches.length = 0;
  const controller = new Controller(image, log, logger);
  const lifecycles = new PartitionLifecycles({
    controller,
    leadershipEpoch: () => log.epoch,
    config: defaultBrokerConfig,
    logger,
  });
  return { image, log, controller, lifecycles };
}

export function registration(brokerId: number, brokerEpoch: bigint, fenced: boolean): MetadataRecord {
  return {
    type: "RegisterBrokerRecord",
    version: 0,
    value: {
      brokerId,
      isMigratingZkBroker: false,
      incarnationId: brokerId.toString(16).padStart(32, "0"),
      brokerEpoch,
      endPoints: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 9000 + brokerId, securityProtocol: 0 }],
      features: [],
      rack: null,
      fenced,
      inControlledShutdown: false,
      logDirs: [],
    },
  };
}

/** Creates `name` through the lifecycle machines with these replica lists; returns its topic id. */
export async function createTopic(
  fixture: ControllerFixture,
  name: string,
  assignments: number[][],
  configs: Map<string, string> = new Map(),
): Promise<string> {
  const topicId = Buffer.from(name.padEnd(16, "-").slice(0, 16)).toString("hex");
  await fixture.lifecycles.decide((decision) => {
    const created = decision.createPartitions({ topicId, configs }, assignments, 0, { validateOnly: false });
    if ("errorCode" in created) throw new Error(created.errorMessage);
    const topicRecord: MetadataRecord = { type: "TopicRecord", version: 0, value: { name, topicId } };
    const configRecords = [...configs].map(
      ([configName, value]): MetadataRecord => ({
        type: "ConfigRecord",
        version: 0,
        value: { resourceType: 2, resourceName: name, name: configName, value },
      }),
    );
    return { records: [topicRecord, ...configRecords, ...created.records], result: null };
  });
  return topicId;
}

/** The image's partition as [leader, leaderEpoch, partitionEpoch, isr]. */
export function partitionState(fixture: ControllerFixture, topicId: string, partitionId: number) {
  const partition = fixture.image.topicsById.get(topicId)?.partitions.get(partitionId);
  if (partition === undefined) throw new Error(`no partition ${topicId}-${partitionId} in the image`);
  return {
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch,
    isr: partition.isr,
  };
}

/** A logger that keeps its info lines (and above) as objects, for tests that read the log. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A broker fenced or unfenced as the liveness check decides it: the machines told, then the record. */
export function changeLiveness(fixture: ControllerFixture, brokerId: number, fenced: boolean) {
  const value = { id: brokerId, epoch: 100n + BigInt(brokerId) };
  return fixture.lifecycles.decide((decision) => ({
    records: fenced
      ? [
          ...decision.brokerLivenessChanged("broker.fenced", brokerId),
          { type: "FenceBrokerRecord" as const, version: 0, value },
        ]
      : [
          { type: "UnfenceBrokerRecord" as const, version: 0, value },
          ...decision.brokerLivenessChanged("broker.unfenced", brokerId),
        ],
    result: null,
  }));
}

/**
 * Topic `name` on brokers 1 and 2 left leaderless with only broker 1 in its
 * ISR while broker 2 is live again: the follower left the ISR, then the
 * leader went, then the follower came back. Where an unclean election can
 * act. Returns the topic id.
 */
export async function leaderlessTopicWithLiveFollower(
  fixture: ControllerFixture,
  name: string,
): Promise<string> {
  const topicId = await createTopic(fixture, name, [[1, 2]]);
  await changeLiveness(fixture, 2, true);
  await changeLiveness(fixture, 1, true);
  await changeLiveness(fixture, 2, false);
  return topicId;
}
