/**
 * Broker liveness on the controller, as Kafka's BrokerHeartbeatManager keeps
 * it, with a node's metadata fetch as its heartbeat: a registered node that
 * has not fetched the metadata log within broker.session.timeout.ms is fenced
 * (a FenceBrokerRecord, and broker.fenced to the lifecycle machine of every
 * partition it is a replica of, which moves its leaderships and takes it out
 * of ISRs); a fenced node that fetches again and has caught up is unfenced
 * (an UnfenceBrokerRecord, and broker.unfenced, which may elect it where no
 * one leads). A node registers fenced; a fenced node that still leads or
 * shares an ISR (a new incarnation, whose log may have lost its unflushed
 * tail) first loses them, as Kafka handles an unclean shutdown.
 *
 * The controller's own node is always alive and caught up. A new controller
 * starts every node's session afresh: it has not seen their fetches yet. A
 * node that does not fetch from it at all within brokerNewControllerGraceMs
 * of its leadership is fenced then (it went down with the old controller,
 * most likely); one that does keeps the full session. Times are the wall
 * clock, as the quorum reports them.
 */
import type { QuorumDescription, ReplicaDescription } from "../cluster/raft/describe-quorum.ts";
import { RaftStoppedError } from "../cluster/raft/errors.ts";
import type { Logger } from "../log.ts";
import { ControllerQueueFullError, NotControllerError } from "../metadata/controller.ts";
import type { BrokerImage, MetadataImage } from "../metadata/image.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import type { PartitionLifecycles } from "./partition-lifecycles.ts";

/** broker.session.timeout.ms: Kafka's default. */
export const brokerSessionTimeoutMsDefault = 9_000;

/**
 * How long a node whose metadata-fetch connection closed has to fetch again
 * before it is fenced. A live node's peer client reconnects within its first
 * backoff (50 ms, jittered) and fetches at once; a node that was killed never
 * does, and its partitions should not wait out the whole session for it.
 */
export const brokerReconnectGraceMs = 500;

/**
 * How long a new controller waits for a node's first metadata fetch in its
 * leadership. A live node hears of the election (BeginQuorumEpoch, or a
 * refused fetch naming the leader) and fetches within milliseconds; a node
 * that went down with the old controller never does, and its partitions
 * should not wait out a whole fresh session for it.
 */
export const brokerNewControllerGraceMs = 1_000;

export interface BrokerLivenessOptions {
  nodeId: number;
  image: MetadataImage;
  lifecycles: Pick<PartitionLifecycles, "decide">;
  /** The quorum as this node sees it; NONE only while it leads, with each replica's last metadata fetch. */
  describeQuorum(): Promise<QuorumDescription>;
  /** Every metadata record below this offset is applied here. */
  appliedOffset(): number;
  /** The wall clock, on which describeQuorum reports fetch times. */
  nowMs(): number;
  sessionTimeoutMs: number;
  logger: Logger;
}

export type LivenessAction =
  | {
      kind: "fence";
      brokerId: number;
      brokerEpoch: bigint;
      lastFetchMs: number;
      /**
       * The session ran out, the node's fetch connection closed and it did not come back, or it
       * never fetched from this controller after its election.
       */
      cause: "session" | "disconnected" | "not-following";
    }
  | { kind: "evict"; brokerId: number; brokerEpoch: bigint }
  | { kind: "unfence"; brokerId: number; brokerEpoch: bigint };

const fenceMessages: Record<Extract<LivenessAction, { kind: "fence" }>["cause"], string> = {
  session: "node fenced: no metadata fetch within its session",
  disconnected: `node fenced: its fetch connection closed and it did not fetch again within ${brokerReconnectGraceMs} ms`,
  "not-following": `node fenced: no metadata fetch from this controller within ${brokerNewControllerGraceMs} ms of its election`,
};

export class BrokerLiveness {
  /** This leadership's epoch and when it began: every node's session starts no earlier. */
  private session: { epoch: number; startMs: number } | null = null;
  /**
   * Per fenced node (and registration): the applied offset its metadata fetches must reach to be
   * unfenced, taken when this controller first sees it fenced, so past the record that fenced it.
   */
  private readonly catchUpTargets = new Map<number, { brokerEpoch: bigint; offset: number }>();
  private running = false;
  private again = false;
  /** Per node: the connection its latest metadata fetch came on (its close promise). */
  private readonly fetchConnections = new Map<number, Promise<void>>();
  /** Per node: when the connection of its latest metadata fetch closed, until it fetches on another. */
  private readonly disconnectedAtMs = new Map<number, number>();
  /** Per node: the broker epoch whose BrokerHeartbeat asked to stay fenced (want_fence). */
  private readonly fenceWanted = new Map<number, bigint>();

  constructor(private readonly options: BrokerLivenessOptions) {}

  /**
   * A metadata fetch from `replicaId` came on the connection that `closed`
   * settles for. When that connection closes and no fetch comes on another
   * within brokerReconnectGraceMs, the node is fenced without waiting for
   * its session to run out: kill -9 closes a process's sockets at once.
   */
  fetchedOver(replicaId: number, closed: Promise<void>): void {
    if (this.fetchConnections.get(replicaId) === closed) return;
    this.fetchConnections.set(replicaId, closed);
    this.disconnectedAtMs.delete(replicaId);
    void closed.then(() => {
      if (this.fetchConnections.get(replicaId) !== closed) return;
      this.disconnectedAtMs.set(replicaId, this.options.nowMs());
      setTimeout(() => void this.check(), brokerReconnectGraceMs + 1).unref();
    });
  }

  /**
   * Checks every registered node now and carries out what is due. One check
   * runs at a time; a call during one asks for one more after it, so calls
   * never pile up.
   */
  async check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.checkOnce();
      } while (this.again);
    } catch (error) {
      this.logFailure(error);
    } finally {
      this.running = false;
    }
  }

  private async checkOnce(): Promise<void> {
    const description = await this.options.describeQuorum();
    if (description.errorName !== "NONE" || description.leaderId !== this.options.nodeId) {
      this.session = null;
      this.catchUpTargets.clear();
      return;
    }
    const nowMs = this.options.nowMs();
    if (this.session?.epoch !== description.epoch) {
      this.session = { epoch: description.epoch, startMs: nowMs };
      this.catchUpTargets.clear();
      this.options.logger.info(
        { epoch: description.epoch, sessionTimeoutMs: this.options.sessionTimeoutMs },
        "controller started a fresh session for every registered node",
      );
    }
    const fetches = new Map(
      [...description.voters, ...description.observers].map((replica) => [replica.replicaId, replica]),
    );
    // Each action changes one node's standing, so twice the nodes (evict, then unfence) bounds the loop.
    for (let actions = 0; actions <= 2 * this.options.image.brokers.size; actions++) {
      const action = this.nextAction(fetches, nowMs, this.session.startMs);
      if (action === null) return;
      await this.carryOut(action, description.epoch);
    }
  }

  /** The first thing due, by node id: a fence, an eviction, or an unfence. */
  nextAction(
    fetches: ReadonlyMap<number, ReplicaDescription>,
    nowMs: number,
    sessionStartMs: number,
  ): LivenessAction | null {
    const brokers = [...this.options.image.brokers.values()].sort((a, b) => a.brokerId - b.brokerId);
    for (const broker of brokers) {
      const { brokerId, brokerEpoch } = broker;
      const fetch = fetches.get(brokerId);
      if (!broker.fenced) {
        // A target is per fencing: the next fence sets one past its own record, which a fetch
        // from before it (a node that died since) cannot reach.
        this.catchUpTargets.delete(brokerId);
        if (brokerId === this.options.nodeId) continue;
        const lastFetchMs = fetch?.lastFetchTimestampMs ?? -1;
        if (nowMs - Math.max(lastFetchMs, sessionStartMs) > this.options.sessionTimeoutMs) {
          return { kind: "fence", brokerId, brokerEpoch, lastFetchMs, cause: "session" };
        }
        if (lastFetchMs < sessionStartMs && nowMs - sessionStartMs >= brokerNewControllerGraceMs) {
          return { kind: "fence", brokerId, brokerEpoch, lastFetchMs, cause: "not-following" };
        }
        const disconnectedAtMs = this.disconnectedAtMs.get(brokerId);
        if (
          disconnectedAtMs !== undefined &&
          lastFetchMs <= disconnectedAtMs &&
          nowMs - disconnectedAtMs >= brokerReconnectGraceMs
        ) {
          return { kind: "fence", brokerId, brokerEpoch, lastFetchMs, cause: "disconnected" };
        }
        continue;
      }
      const target = this.catchUpTarget(broker);
      if (stillServes(this.options.image, brokerId)) return { kind: "evict", brokerId, brokerEpoch };
      if (this.staysFenced(broker)) continue;
      if (this.caughtUp(broker, fetch, nowMs, target)) return { kind: "unfence", brokerId, brokerEpoch };
    }
    return null;
  }

  /**
   * A broker's BrokerHeartbeat asked (want_fence) for this incarnation to be
   * kept fenced, or, false, no longer: Kafka's brokers ask so until they are
   * ready to serve. Held by this node only, as Kafka's heartbeat state is, and
   * for the incarnation that asked: a new registration is a new broker epoch.
   */
  setFenceWanted(brokerId: number, brokerEpoch: bigint, wanted: boolean): void {
    if (wanted) this.fenceWanted.set(brokerId, brokerEpoch);
    else if (this.fenceWanted.get(brokerId) === brokerEpoch) this.fenceWanted.delete(brokerId);
  }

  /**
   * A fenced broker that is not unfenced however well it follows: one that
   * shut down (until it registers again, as a new incarnation) or that asked
   * to stay fenced.
   */
  private staysFenced(broker: BrokerImage): boolean {
    return broker.inControlledShutdown || this.fenceWanted.get(broker.brokerId) === broker.brokerEpoch;
  }

  /**
   * How far a fenced node's metadata must reach: what was applied when this
   * controller first saw it fenced since it was last live, which holds the
   * record that fenced it (the registration itself, as Kafka waits for the
   * registration record's offset, or the FenceBrokerRecord): a fetch from
   * before that, by a node that has since died, never reaches it.
   */
  private catchUpTarget(broker: BrokerImage): number {
    const known = this.catchUpTargets.get(broker.brokerId);
    if (known !== undefined && known.brokerEpoch === broker.brokerEpoch) return known.offset;
    const offset = this.options.appliedOffset();
    this.catchUpTargets.set(broker.brokerId, { brokerEpoch: broker.brokerEpoch, offset });
    return offset;
  }

  /** Fetched within its session and up to its target; the controller's own node always is. */
  private caughtUp(
    broker: BrokerImage,
    fetch: ReplicaDescription | undefined,
    nowMs: number,
    targetOffset: number,
  ): boolean {
    if (broker.brokerId === this.options.nodeId) return true;
    if (fetch === undefined || fetch.lastFetchTimestampMs < 0) return false;
    const fetchedRecently = nowMs - fetch.lastFetchTimestampMs <= this.options.sessionTimeoutMs;
    return fetchedRecently && fetch.logEndOffset >= targetOffset;
  }

  /** One decision per node, as Kafka fences one stale broker at a time; re-checked against the image it runs on. */
  private async carryOut(action: LivenessAction, controllerEpoch: number): Promise<void> {
    const { brokerId, brokerEpoch } = action;
    const partitionRecords = await this.options.lifecycles.decide((decision) => {
      const broker = decision.image.brokers.get(brokerId);
      const stillDue =
        broker !== undefined &&
        broker.brokerEpoch === brokerEpoch &&
        broker.fenced === (action.kind !== "fence") &&
        (action.kind !== "evict" || stillServes(decision.image, brokerId));
      if (!stillDue) return { records: [], result: null };
      const brokerRecord = { id: brokerId, epoch: brokerEpoch };
      let records: MetadataRecord[];
      switch (action.kind) {
        case "fence":
          // Kafka's order: the partitions' changes, then the fence.
          records = [
            ...decision.brokerLivenessChanged("broker.fenced", brokerId),
            { type: "FenceBrokerRecord", version: 0, value: brokerRecord },
          ];
          break;
        case "evict":
          records = decision.brokerLivenessChanged("broker.fenced", brokerId);
          break;
        case "unfence":
          records = [
            { type: "UnfenceBrokerRecord", version: 0, value: brokerRecord },
            ...decision.brokerLivenessChanged("broker.unfenced", brokerId),
          ];
          break;
      }
      return { records, result: records.filter((record) => record.type === "PartitionChangeRecord").length };
    });
    if (partitionRecords === null) return;
    const logged = { brokerId, brokerEpoch: String(brokerEpoch), controllerEpoch, partitionRecords };
    switch (action.kind) {
      case "fence":
        this.options.logger.info(
          { ...logged, lastFetchMs: action.lastFetchMs, sessionTimeoutMs: this.options.sessionTimeoutMs },
          fenceMessages[action.cause],
        );
        break;
      case "evict":
        this.options.logger.info(logged, "fenced node taken out of the leaderships and ISRs it still held");
        break;
      case "unfence":
        this.options.logger.info(logged, "node unfenced: fetching and caught up with the metadata log");
        break;
    }
  }

  private logFailure(error: unknown): void {
    if (error instanceof NotControllerError || error instanceof RaftStoppedError) {
      this.options.logger.debug({ err: error }, "liveness check stopped: no longer the controller");
    } else if (error instanceof ControllerQueueFullError) {
      this.options.logger.warn({ err: error }, "liveness check deferred: the controller is busy");
    } else {
      this.options.logger.error({ err: error }, "liveness check failed");
    }
  }
}

/**
 * Whether a fenced node still leads a partition or shares its ISR with
 * another replica: what broker.fenced takes from it. (The last member of an
 * ISR with no leader stays, so that a clean election can pick it when it returns.)
 */
export function stillServes(image: MetadataImage, brokerId: number): boolean {
  for (const topic of image.topicsById.values()) {
    for (const partition of topic.partitions.values()) {
      if (partition.leader === brokerId) return true;
      if (partition.leader !== -1 && partition.isr.length > 1 && partition.isr.includes(brokerId))
        return true;
    }
  }
  return false;
}
