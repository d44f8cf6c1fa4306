/**
 * What a broker asks for in its BrokerHeartbeat, decided as Kafka's
 * controller decides it: to stay fenced (want_fence), or to shut down
 * (want_shut_down). A node's session is kept by its metadata fetches
 * (broker-liveness.ts); this answers only what the broker wants.
 *
 * Controlled shutdown: a live broker that leads partitions and wants to shut
 * down enters controlled shutdown. A BrokerRegistrationChangeRecord marks it,
 * and broker.shutdownStarted goes to the lifecycle machine of every partition
 * it is a replica of, which moves its leaderships to other ISR replicas and
 * takes it out of ISRs. Once it leads nothing and every other live broker
 * has fetched the metadata that moved its leaderships, it is fenced and told
 * to shut down. A broker that leads nothing is fenced and told at once. The
 * mark stays until the node registers again, so the controller never
 * unfences a node that is on its way out.
 */
import type { QuorumDescription } from "../cluster/raft/describe-quorum.ts";
import type { Logger } from "../log.ts";
import type { BrokerImage, MetadataImage } from "../metadata/image.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import type { BrokerLiveness } from "./broker-liveness.ts";
import type { LifecycleDecision } from "./lifecycle-decision.ts";
import type { PartitionLifecycles } from "./partition-lifecycles.ts";

export interface HeartbeatRequest {
  brokerId: number;
  brokerEpoch: bigint;
  /** The metadata offset the broker has applied. */
  currentMetadataOffset: bigint;
  wantFence: boolean;
  wantShutDown: boolean;
}

export type HeartbeatReply =
  | { kind: "answered"; isCaughtUp: boolean; isFenced: boolean; shouldShutDown: boolean }
  /** No broker with this id is registered, or with another broker epoch: an older or newer incarnation. */
  | { kind: "stale"; registeredEpoch: bigint | null };

/** Where a broker stands with the controller, as Kafka's BrokerHeartbeatManager names it. */
export type BrokerStanding = "fenced" | "unfenced" | "controlledShutdown";
/** Where a heartbeat takes it: a standing, or fenced and told to shut down now. */
export type NextStanding = BrokerStanding | "shutdownNow";

export function standingOf(broker: BrokerImage): BrokerStanding {
  if (broker.fenced) return "fenced";
  return broker.inControlledShutdown ? "controlledShutdown" : "unfenced";
}

/**
 * Kafka's rules for a heartbeat: a fenced broker may shut down at once; a
 * live one that wants to be fenced is (and shuts down at once if it wants
 * that too); a live one that wants to shut down enters controlled shutdown
 * while it leads partitions, or shuts down at once when it leads none; one in
 * controlled shutdown shuts down once it leads nothing and the other brokers
 * have caught up with the move. Fenced brokers are unfenced by their
 * metadata fetches, not here.
 */
export function nextStanding(
  standing: BrokerStanding,
  request: Pick<HeartbeatRequest, "wantFence" | "wantShutDown">,
  leadsPartitions: boolean,
  othersCaughtUpWithShutdown: boolean,
): NextStanding {
  switch (standing) {
    case "fenced":
      return request.wantShutDown ? "shutdownNow" : "fenced";
    case "unfenced":
      if (request.wantFence) return request.wantShutDown ? "shutdownNow" : "fenced";
      if (!request.wantShutDown) return "unfenced";
      return leadsPartitions ? "controlledShutdown" : "shutdownNow";
    case "controlledShutdown":
      return !leadsPartitions && othersCaughtUpWithShutdown ? "shutdownNow" : "controlledShutdown";
  }
}

export function leadsAnyPartition(image: MetadataImage, brokerId: number): boolean {
  for (const topic of image.topicsById.values()) {
    for (const partition of topic.partitions.values()) if (partition.leader === brokerId) return true;
  }
  return false;
}

export interface BrokerHeartbeatsOptions {
  nodeId: number;
  image: MetadataImage;
  lifecycles: Pick<PartitionLifecycles, "decide">;
  liveness: Pick<BrokerLiveness, "setFenceWanted">;
  /** The quorum as this node sees it; while it leads, with each replica's metadata fetch offset. */
  describeQuorum(): Promise<QuorumDescription>;
  /** Every metadata record below this offset is applied here. */
  appliedOffset(): number;
  logger: Logger;
}

/** A heartbeat's decision: the reply, and the standing it changed (null for a stale incarnation). */
interface Decided {
  reply: HeartbeatReply;
  standing: BrokerStanding | null;
  next: NextStanding | null;
}

export class BrokerHeartbeats {
  /**
   * Per broker in controlled shutdown: the metadata offset just past the
   * records that moved its leaderships, which every other live broker must
   * have fetched before it may go (Kafka's controlledShutdownOffset).
   */
  private readonly shutdownOffsets = new Map<number, { brokerEpoch: bigint; offset: number }>();

  constructor(private readonly options: BrokerHeartbeatsOptions) {}

  /** Decides the heartbeat and resolves once what it decided is committed and applied. */
  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatReply> {
    const { brokerId, brokerEpoch } = request;
    // Read before the decision, which cannot wait: a slightly old view only delays a shutdown to the next heartbeat.
    const othersFetchedOffset = request.wantShutDown ? await this.lowestOtherFetchOffset(brokerId) : 0;
    const decided = await this.options.lifecycles.decide<Decided>((decision) => {
      const broker = decision.image.brokers.get(brokerId);
      if (broker === undefined || broker.brokerEpoch !== brokerEpoch) {
        const reply: HeartbeatReply = { kind: "stale", registeredEpoch: broker?.brokerEpoch ?? null };
        return { records: [], result: { reply, standing: null, next: null } };
      }
      const standing = standingOf(broker);
      const shutdownOffset = this.shutdownOffsetOf(broker);
      const next = nextStanding(
        standing,
        request,
        leadsAnyPartition(decision.image, brokerId),
        shutdownOffset <= othersFetchedOffset,
      );
      const reply: HeartbeatReply = {
        kind: "answered",
        isCaughtUp: request.currentMetadataOffset >= broker.registrationOffset,
        isFenced: next === "fenced" || next === "shutdownNow",
        shouldShutDown: next === "shutdownNow",
      };
      return { records: recordsFor(decision, broker, standing, next), result: { reply, standing, next } };
    });
    const { reply, standing, next } = decided;
    if (standing === null || next === null) return reply;
    if (standing === "fenced" && next === "fenced") {
      this.options.liveness.setFenceWanted(brokerId, brokerEpoch, request.wantFence);
    }
    if (next === "fenced" && standing === "unfenced") {
      this.options.liveness.setFenceWanted(brokerId, brokerEpoch, true);
    }
    if (next === "controlledShutdown" && standing === "unfenced") {
      this.shutdownOffsets.set(brokerId, { brokerEpoch, offset: this.options.appliedOffset() });
    }
    if (next === "shutdownNow") this.shutdownOffsets.delete(brokerId);
    this.log(request, standing, next);
    return reply;
  }

  /**
   * The broker's controlled shutdown offset. One this controller did not
   * record (the broker entered controlled shutdown under another) is taken
   * as everything applied here now, which holds the records that moved it.
   */
  private shutdownOffsetOf(broker: BrokerImage): number {
    const known = this.shutdownOffsets.get(broker.brokerId);
    if (known !== undefined && known.brokerEpoch === broker.brokerEpoch) return known.offset;
    const offset = this.options.appliedOffset();
    if (broker.inControlledShutdown && !broker.fenced) {
      this.shutdownOffsets.set(broker.brokerId, { brokerEpoch: broker.brokerEpoch, offset });
    }
    return offset;
  }

  /**
   * How far every other active broker (live, not in controlled shutdown) has
   * fetched the metadata log, the controller's own node counting what it has
   * applied: Infinity when there is none, -1 when one has not fetched from
   * this controller (or this node no longer leads).
   */
  private async lowestOtherFetchOffset(brokerId: number): Promise<number> {
    const description = await this.options.describeQuorum();
    if (description.errorName !== "NONE") return -1;
    const fetched = new Map(
      [...description.voters, ...description.observers].map((replica) => [
        replica.replicaId,
        replica.logEndOffset,
      ]),
    );
    let lowest = Number.POSITIVE_INFINITY;
    for (const other of this.options.image.usableBrokers()) {
      if (other.brokerId === brokerId) continue;
      const offset =
        other.brokerId === this.options.nodeId
          ? this.options.appliedOffset()
          : (fetched.get(other.brokerId) ?? -1);
      lowest = Math.min(lowest, offset);
    }
    return lowest;
  }

  private log(request: HeartbeatRequest, standing: BrokerStanding, next: NextStanding): void {
    if (standing === next) return;
    const logged = { brokerId: request.brokerId, brokerEpoch: String(request.brokerEpoch) };
    const message = transitionMessages[`${standing}->${next}`];
    if (message !== undefined) this.options.logger.info(logged, message);
  }
}

const transitionMessages: Record<string, string> = {
  "fenced->shutdownNow": "fenced broker asked to shut down: granted at once",
  "unfenced->fenced": "broker asked to be fenced: fenced",
  "unfenced->shutdownNow": "broker asked to shut down and leads no partition: fenced and granted at once",
  "unfenced->controlledShutdown":
    "broker asked to shut down: in controlled shutdown, its leaderships moved to other ISR replicas (leaderless where there is none) and it taken out of every ISR it shared",
  "controlledShutdown->shutdownNow":
    "broker in controlled shutdown leads nothing and the other brokers have caught up: fenced and granted",
};

function changeRecord(broker: BrokerImage, change: { fenced?: number; inControlledShutdown?: number }) {
  return {
    type: "BrokerRegistrationChangeRecord",
    version: 1,
    value: {
      brokerId: broker.brokerId,
      brokerEpoch: broker.brokerEpoch,
      fenced: change.fenced ?? 0,
      inControlledShutdown: change.inControlledShutdown ?? 0,
      logDirs: [],
    },
  } satisfies MetadataRecord;
}

/**
 * The records of a change of standing, in Kafka's order: a fence moves the
 * partitions first and then marks the broker; entering controlled shutdown
 * marks the broker first. A broker that leaves for good is marked as in
 * controlled shutdown too, so that no later fetch of its unfences it.
 */
function recordsFor(
  decision: LifecycleDecision,
  broker: BrokerImage,
  standing: BrokerStanding,
  next: NextStanding,
): MetadataRecord[] {
  const { brokerId } = broker;
  const marked = broker.inControlledShutdown ? 0 : 1;
  switch (next) {
    case "unfenced":
      return [];
    case "fenced":
      if (standing === "fenced") return [];
      return [
        ...decision.brokerLivenessChanged("broker.fenced", brokerId),
        changeRecord(broker, { fenced: 1 }),
      ];
    case "controlledShutdown":
      if (standing === "controlledShutdown") return [];
      return [
        changeRecord(broker, { inControlledShutdown: 1 }),
        ...decision.brokerLivenessChanged("broker.shutdownStarted", brokerId),
      ];
    case "shutdownNow":
      if (standing === "fenced") return marked ? [changeRecord(broker, { inControlledShutdown: 1 })] : [];
      return [
        ...decision.brokerLivenessChanged("broker.fenced", brokerId),
        changeRecord(broker, { fenced: 1, inControlledShutdown: marked }),
      ];
  }
}
