/**
 * The controller of a node under test, played by the test. The node starts
 * with `--voters` naming only this peer, so it is a broker observing a
 * metadata quorum whose one voter and leader is the test: it fetches
 * `__chronik_metadata` from here, registers here, and sends its
 * AlterPartition requests here. The controller
 * - answers the node's metadata fetches from its log (played-metadata-log.ts),
 *   holding them while nothing is new, as a Raft leader's long poll;
 * - registers the node (a RegisterBrokerRecord) and unfences it once its
 *   fetches have passed that record, as the liveness rule says;
 * - writes whatever else the test decides as records: brokers registered,
 *   fenced, unfenced or registered again; topics created and removed; ISR
 *   changes committed;
 * - keeps every AlterPartition for the test, which answers it as its path
 *   says: committed, refused, or its answer lost on the way.
 * Anything the node sends that a controller does not expect is a problem the
 * suite fails on.
 */
import { randomUUID } from "node:crypto";
import { clusterIdOfVoters, type VoterEndpoint } from "../../impl/cluster/voters.ts";
import {
  plaintextListenerName,
  plaintextSecurityProtocol,
  planBrokerRegistration,
} from "../../impl/metadata/broker-registrations.ts";
import { configResourceTopic, type PartitionImage } from "../../impl/metadata/image.ts";
import type { MetadataRecordInput } from "../../impl/metadata/records.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { settleMs } from "../support/eventually.ts";
import { PlayedMetadataLog } from "./played-metadata-log.ts";
import { PeerServer, type ReceivedRequest } from "./quorum-peer.ts";
import { fetchAnswer } from "./quorum-peer-answers.ts";

/** The quorum epoch the controller leads in: any past the node's first (0). */
const quorumEpoch = 1;
/** The port a played broker advertises; nothing listens there, and nothing connects to it. */
const advertisedPortUnused = 1;

export type AlterPartitionRequest = Extract<ReceivedRequest, { kind: "alterPartition" }>;
type FetchRequest = Extract<ReceivedRequest, { kind: "fetch" }>;
type RegistrationRequest = Extract<ReceivedRequest, { kind: "brokerRegistration" }>;

/** One partition's answer in an AlterPartition response: the committed state, or a refusal. */
export type AlterPartitionVerdict =
  | { errorCode: 0; partition: PartitionImage }
  | { errorCode: number; partition?: undefined };

export class PlayedController {
  readonly log: PlayedMetadataLog;
  /** What went wrong on the controller's side: a request it could not serve as a leader would. */
  private readonly problems: string[] = [];
  /** Requests from `received` looked at so far. */
  private seen = 0;
  private readonly heldFetches = new Map<FetchRequest, NodeJS.Timeout>();
  /** Per broker, the offset of the record that registered its current incarnation. */
  private readonly registrationOffsets = new Map<number, number>();
  private closed = false;

  private constructor(
    readonly nodeId: number,
    private readonly peer: PeerServer,
  ) {
    this.log = new PlayedMetadataLog(quorumEpoch, nodeId);
  }

  static async start(nodeId: number): Promise<PlayedController> {
    const controller = new PlayedController(nodeId, await PeerServer.listen(nodeId, "controller"));
    void controller.serve();
    return controller;
  }

  /** `--voters` for the node: this controller alone. */
  get voters(): VoterEndpoint[] {
    return [{ nodeId: this.nodeId, host: "127.0.0.1", port: this.peer.port }];
  }

  get clusterId(): string {
    return clusterIdOfVoters(this.voters);
  }

  /** Throws what went wrong so far, on the controller's side or in what the node sent it. */
  assertHealthy(): void {
    const problems = [...this.peer.problems, ...this.problems];
    if (problems.length > 0) throw new Error(`the played controller: ${problems.join("; ")}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.heldFetches.values()) clearTimeout(timer);
    await this.peer.close();
  }

  // ---- Decisions, as records ------------------------------------------------------------------

  /** Registers a broker the test plays (a new incarnation if it was registered); it starts fenced. */
  registerBroker(brokerId: number): void {
    const { record } = planBrokerRegistration(
      this.log.image,
      {
        brokerId,
        incarnationId: randomUUID().replaceAll("-", ""),
        endpoints: [
          {
            name: plaintextListenerName,
            host: "127.0.0.1",
            port: advertisedPortUnused,
            securityProtocol: plaintextSecurityProtocol,
          },
        ],
        rack: null,
      },
      Date.now(),
    );
    this.appendRegistration(brokerId, record);
  }

  private appendRegistration(brokerId: number, record: MetadataRecordInput): void {
    this.registrationOffsets.set(brokerId, this.log.endOffset);
    this.log.append([record]);
  }

  /** Fences or unfences a registered broker; nothing when it already is. */
  setLive(brokerId: number, live: boolean): void {
    const broker = this.log.image.brokers.get(brokerId);
    if (broker === undefined) throw new Error(`broker ${brokerId} is not registered`);
    if (broker.fenced === !live) return;
    const value = { id: brokerId, epoch: broker.brokerEpoch };
    this.log.append([
      live
        ? { type: "UnfenceBrokerRecord", version: 0, value }
        : { type: "FenceBrokerRecord", version: 0, value },
    ]);
  }

  isLive(brokerId: number): boolean {
    return this.log.image.brokers.get(brokerId)?.fenced === false;
  }

  /** Registered brokers that are not fenced, ascending: what Metadata lists. */
  liveBrokers(): number[] {
    return this.log.image.liveBrokers().map((broker) => broker.brokerId);
  }

  /** A topic of one partition, led by `leader` from leader and partition epoch 0, with its configs. */
  createTopic(
    name: string,
    partition: { replicas: number[]; isr: number[]; leader: number },
    configs: ReadonlyMap<string, string>,
  ): void {
    const topicId = randomUUID().replaceAll("-", "");
    const records: MetadataRecordInput[] = [
      { type: "TopicRecord", version: 0, value: { name, topicId } },
      ...[...configs].map(
        ([configName, value]): MetadataRecordInput => ({
          type: "ConfigRecord",
          version: 0,
          value: { resourceType: configResourceTopic, resourceName: name, name: configName, value },
        }),
      ),
      {
        type: "PartitionRecord",
        version: 0,
        value: {
          partitionId: 0,
          topicId,
          replicas: partition.replicas,
          isr: partition.isr,
          removingReplicas: [],
          addingReplicas: [],
          leader: partition.leader,
          leaderEpoch: 0,
          partitionEpoch: 0,
          directories: [],
        },
      },
    ];
    this.log.append(records);
  }

  /** Sets one config of `topic` (a ConfigRecord), as IncrementalAlterConfigs does. */
  setTopicConfig(topic: string, name: string, value: string): void {
    this.log.append([
      {
        type: "ConfigRecord",
        version: 0,
        value: { resourceType: configResourceTopic, resourceName: topic, name, value },
      },
    ]);
  }

  /** Partition 0 of `topic` as the controller has it. */
  partition(topic: string): PartitionImage {
    const partition = this.log.image.topicsByName.get(topic)?.partitions.get(0);
    if (partition === undefined) throw new Error(`the controller has no ${topic}-0`);
    return partition;
  }

  /** Commits a new ISR for partition 0 of `topic` (a PartitionChangeRecord: the partition epoch moves on). */
  changeIsr(topic: string, isr: number[]): PartitionImage {
    const topicId = this.log.image.topicsByName.get(topic)!.topicId;
    this.log.append([{ type: "PartitionChangeRecord", version: 0, value: { partitionId: 0, topicId, isr } }]);
    return this.partition(topic);
  }

  removeTopic(topic: string): void {
    const topicId = this.log.image.topicsByName.get(topic)?.topicId;
    if (topicId === undefined) throw new Error(`the controller has no topic ${topic}`);
    this.log.append([{ type: "RemoveTopicRecord", version: 0, value: { topicId } }]);
  }

  // ---- AlterPartition -------------------------------------------------------------------------

  /** The node's AlterPartition requests not answered yet, in arrival order. */
  heldAlterPartitions(): AlterPartitionRequest[] {
    return this.peer.received.filter(
      (request): request is AlterPartitionRequest => request.kind === "alterPartition" && !request.answered,
    );
  }

  /** Waits for an AlterPartition that arrived after the first `after` ones; fails after the settle time. */
  async nextAlterPartition(after: number): Promise<AlterPartitionRequest> {
    const deadline = Date.now() + settleMs;
    for (;;) {
      const arrived = this.peer.received.filter((request) => request.kind === "alterPartition");
      if (arrived.length > after) return arrived[after] as AlterPartitionRequest;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new Error(`the node sent no AlterPartition within ${settleMs} ms`);
      await withTimeout(this.peer.changed(), remainingMs);
    }
  }

  /** How many AlterPartition requests the node has sent so far. */
  alterPartitionsReceived(): number {
    return this.peer.received.filter((request) => request.kind === "alterPartition").length;
  }

  /** Answers the request about its one partition, committed or refused; the request-level error is NONE. */
  answerAlterPartition(request: AlterPartitionRequest, verdict: AlterPartitionVerdict): void {
    const topic = request.body.topics[0]!;
    const asked = topic.partitions[0]!;
    const partition = verdict.partition;
    this.peer.answer(request, {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      topics: [
        {
          topicName: topic.topicName,
          topicId: topic.topicId,
          partitions: [
            {
              partitionIndex: asked.partitionIndex,
              errorCode: verdict.errorCode,
              leaderId: partition?.leader ?? 0,
              leaderEpoch: partition?.leaderEpoch ?? 0,
              isr: partition?.isr ?? [],
              leaderRecoveryState: 0,
              partitionEpoch: partition?.partitionEpoch ?? 0,
            },
          ],
        },
      ],
    });
  }

  /** The request's answer never reaches the node: its connection closes, as when the network fails. */
  loseAnswer(request: AlterPartitionRequest): void {
    this.peer.dropConnectionOf(request);
  }

  // ---- Serving the node -----------------------------------------------------------------------

  private async serve(): Promise<void> {
    while (!this.closed) {
      // Asked for before looking, so that a request arriving meanwhile wakes the next round.
      const changed = this.peer.changed();
      const received = this.peer.received;
      for (; this.seen < received.length; this.seen++) {
        const request = received[this.seen]!;
        if (request.kind === "fetch") this.fetched(request);
        else if (request.kind === "brokerRegistration") this.registration(request);
        else if (request.kind !== "alterPartition") {
          this.problems.push(`the node sent ${request.kind}, which only a quorum voter gets`);
        }
      }
      await changed;
    }
  }

  /** A metadata fetch: answered now when it can bring something, otherwise held until it can or its wait ends. */
  private fetched(request: FetchRequest): void {
    const partition = request.body.topics[0]?.partitions[0];
    if (partition === undefined) {
      this.problems.push("a metadata fetch without its partition");
      return;
    }
    if (partition.currentLeaderEpoch < quorumEpoch) {
      // An observer that knows no leader yet: the refusal names this one, as a Raft leader's does.
      this.answerFetch(request, ErrorCode.FENCED_LEADER_EPOCH);
      return;
    }
    const fetchOffset = Number(partition.fetchOffset);
    const expectedEpoch = fetchOffset === 0 ? partition.lastFetchedEpoch : this.log.epochAt(fetchOffset - 1);
    if (partition.currentLeaderEpoch > quorumEpoch || expectedEpoch !== partition.lastFetchedEpoch) {
      this.problems.push(
        `a metadata fetch at epoch ${partition.currentLeaderEpoch} from offset ${fetchOffset} ` +
          `(last epoch ${partition.lastFetchedEpoch}) that this leader's log does not continue`,
      );
      return;
    }
    this.unfenceIfCaughtUp(request.body.replicaId, fetchOffset);
    if (fetchOffset < this.log.deliveredEnd) {
      this.answerFetch(request, ErrorCode.NONE);
      return;
    }
    const timer = setTimeout(() => {
      this.heldFetches.delete(request);
      this.answerFetch(request, ErrorCode.NONE);
    }, request.body.maxWaitMs);
    this.heldFetches.set(request, timer);
    this.log.onceDelivered(() => {
      if (!this.heldFetches.has(request)) return;
      clearTimeout(timer);
      this.heldFetches.delete(request);
      this.answerFetch(request, ErrorCode.NONE);
    });
  }

  private answerFetch(request: FetchRequest, errorCode: number): void {
    if (this.closed || !this.peer.isOpen(request)) return;
    const fetchOffset = Number(request.body.topics[0]!.partitions[0]!.fetchOffset);
    this.peer.answer(
      request,
      fetchAnswer({
        errorCode,
        leaderId: this.nodeId,
        epoch: quorumEpoch,
        highWatermark: errorCode === ErrorCode.NONE ? this.log.deliveredEnd : -1,
        records: errorCode === ErrorCode.NONE ? this.log.batchesFrom(fetchOffset) : Buffer.alloc(0),
      }),
    );
  }

  /** A fenced broker whose metadata fetch has passed its own registration has caught up: unfence it. */
  private unfenceIfCaughtUp(brokerId: number, fetchOffset: number): void {
    const registeredAt = this.registrationOffsets.get(brokerId);
    if (registeredAt === undefined || this.isLive(brokerId) || fetchOffset <= registeredAt) return;
    this.setLive(brokerId, true);
  }

  /** The node's own registration: a RegisterBrokerRecord for it, answered with the broker epoch it gives. */
  private registration(request: RegistrationRequest): void {
    const body = request.body;
    if (body.clusterId !== this.clusterId) {
      this.problems.push(`the node registered for cluster ${body.clusterId}, not ${this.clusterId}`);
      this.peer.answer(request, { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID });
      return;
    }
    const { record, brokerEpoch } = planBrokerRegistration(
      this.log.image,
      {
        brokerId: body.brokerId,
        incarnationId: body.incarnationId,
        endpoints: body.listeners,
        rack: body.rack,
      },
      Date.now(),
    );
    this.appendRegistration(body.brokerId, record);
    this.peer.answer(request, { throttleTimeMs: 0, errorCode: ErrorCode.NONE, brokerEpoch });
  }
}

/** Resolves when `promise` does, or after `ms` at the latest. */
async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
