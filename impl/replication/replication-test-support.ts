/**
 * For the replication tests: partitions hosted on real logs in temporary
 * directories, a leader's appends, and the node services the replica-side
 * handlers read (which partitions are hosted and led, where followers fetched).
 */
import { LocalPartition } from "../broker/replica-manager.ts";
import type { BrokerImage, PartitionImage, TopicImage } from "../metadata/image.ts";
import type { fetchApi } from "../protocol/apis/fetch.ts";
import type { ReplicaFetchServices } from "../server/handlers/replica-fetch.ts";
import type { SyncScheduler } from "../storage/sync-scheduler.ts";
import { batchOf, openTestLog, produced, withTemporaryDirectory } from "../storage/test-support.ts";

type FetchRequest = ReturnType<typeof fetchApi.request.read>;
export type FetchPartitionRequest = FetchRequest["topics"][number]["partitions"][number];

export const topicName = "orders";
export const topicId = "0123456789abcdef0123456789abcdef";

export function topicImage(partition: Partial<PartitionImage> = {}): TopicImage {
  const image: PartitionImage = {
    partitionId: 0,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    leader: 1,
    leaderEpoch: 3,
    partitionEpoch: 5,
    ...partition,
  };
  return { name: topicName, topicId, partitions: new Map([[image.partitionId, image]]), configs: new Map() };
}

const openPartitions: LocalPartition[] = [];

/** Partition 0 of `topic`, on a log in `directory`; withPartitions closes it. */
export async function hostedPartition(
  directory: string,
  topic: TopicImage,
  sync?: SyncScheduler,
): Promise<LocalPartition> {
  const log = await openTestLog(directory, {}, { sync });
  const local = new LocalPartition(topic, 0, log);
  openPartitions.push(local);
  return local;
}

/** Runs `action` in a temporary directory and closes the partitions it hosted before the directory goes. */
export function withPartitions<T>(action: (directory: string) => Promise<T>): Promise<T> {
  return withTemporaryDirectory(async (directory) => {
    try {
      return await action(directory);
    } finally {
      for (const local of openPartitions.splice(0)) await local.log.close();
    }
  });
}

/**
 * Appends one batch per label (`count` records each) as the leader in
 * `epoch`, records the epoch's start first as a new leader does, waits until
 * durable and tells waiting replica fetches, as the ISR runtime does.
 */
export async function leaderAppends(local: LocalPartition, epoch: number, labels: string[], count = 3) {
  const log = local.log;
  const latest = log.leaderEpochs[log.leaderEpochs.length - 1];
  if (latest === undefined || latest.epoch < epoch) log.recordEpochStart(epoch, log.logEndOffset);
  for (const label of labels) {
    const { records, batches } = produced(batchOf(label, count));
    const appended = log.append(records, batches, epoch);
    local.logEndMoved();
    await appended.durable;
  }
}

export interface FollowerPosition {
  replicaId: number;
  fetchOffset: bigint;
}

/**
 * Node `nodeId`'s view for the replica handlers: `partitions` hosted, led
 * when the image says so and `leading` holds, positions reported to the ISR
 * machine recorded in `positions`.
 */
export class NodeRoles implements ReplicaFetchServices {
  readonly config: { nodeId: number };
  readonly positions: FollowerPosition[] = [];
  leading = true;
  waitingFetchesMax = 16;
  waitingFetches = 0;
  readonly image: ReplicaFetchServices["image"];
  readonly replicas: ReplicaFetchServices["replicas"];

  constructor(
    nodeId: number,
    readonly partitions: LocalPartition[],
    brokers: BrokerImage[] = [],
  ) {
    this.config = { nodeId };
    const topics = new Map(partitions.map((local) => [local.topic.name, local.topic]));
    this.image = {
      topicsByName: topics,
      topicsById: new Map([...topics.values()].map((topic) => [topic.topicId, topic])),
      brokers: new Map(brokers.map((broker) => [broker.brokerId, broker])),
    };
    this.replicas = {
      get: (topic, partitionId) =>
        this.partitions.find((local) => local.topic.name === topic && local.partitionId === partitionId),
      leaderOf: (local) =>
        this.leading && local.image.leader === nodeId ? { leaderEpoch: local.image.leaderEpoch } : undefined,
      followerFetched: (_local, replicaId, fetchOffset) => {
        this.positions.push({ replicaId, fetchOffset });
      },
      leadsUnrequested: (replicaId, requested) =>
        this.partitions.some(
          (local) =>
            this.replicas.leaderOf(local) !== undefined &&
            local.image.replicas.includes(replicaId) &&
            !requested.has(local),
        ),
      onceLeadingFor: (replicaId, wake) => {
        const entry = { replicaId, wake };
        this.leadingWaiters.add(entry);
        return () => this.leadingWaiters.delete(entry);
      },
    };
  }

  private readonly leadingWaiters = new Set<{ replicaId: number; wake: () => void }>();

  /** This node now leads `local` (already in `partitions`): held fetches of its replicas are woken. */
  startedLeading(local: LocalPartition): void {
    for (const entry of [...this.leadingWaiters]) {
      if (!local.image.replicas.includes(entry.replicaId)) continue;
      this.leadingWaiters.delete(entry);
      entry.wake();
    }
  }

  reserveWaitingFetch(): boolean {
    if (this.waitingFetches >= this.waitingFetchesMax) return false;
    this.waitingFetches += 1;
    return true;
  }

  releaseWaitingFetch(): void {
    this.waitingFetches -= 1;
  }
}

/** A follower's fetch request as the Fetch grammar decodes it. */
export function replicaFetchRequest(
  partitions: Array<Partial<FetchPartitionRequest>>,
  options: { replicaId?: number; maxWaitMs?: number; minBytes?: number; maxBytes?: number } = {},
): FetchRequest {
  return {
    clusterId: null,
    replicaId: options.replicaId ?? 2,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes ?? 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: topicName,
        topicId,
        partitions: partitions.map((partition) => ({
          partition: 0,
          currentLeaderEpoch: 3,
          fetchOffset: 0n,
          lastFetchedEpoch: -1,
          logStartOffset: 0n,
          partitionMaxBytes: 1 << 20,
          ...partition,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  };
}
