/**
 * Fetch (1) from a follower of a data partition (replica_id >= 0, from v15
 * replica_state.replica_id), answered as Kafka's partition leader answers it
 * (ReplicaManager.readFromLog, Partition.fetchRecords):
 *
 * 1. an unknown topic is UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by id);
 * 2. leadership and the epoch fence (replication/leadership.ts):
 *    FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER;
 * 3. a fetcher outside the partition's replicas (or this node itself) is
 *    UNKNOWN_LEADER_EPOCH when it named an epoch (the pair is not known yet,
 *    as during a reassignment: retry) and NOT_LEADER_OR_FOLLOWER when not;
 * 4. with last_fetched_epoch (v12+): where that epoch ends here; undefined,
 *    or a fetch offset below the log start, is OFFSET_OUT_OF_RANGE; an epoch
 *    that ends before the fetch offset, or that this log does not hold, is
 *    answered with that diverging epoch and no records;
 * 5. a fetch offset outside the log is OFFSET_OUT_OF_RANGE; otherwise the
 *    follower's position goes to the ISR machine and whole batches from it
 *    are served up to the log END (followers copy what is not committed
 *    yet), within max_bytes and the partition's max bytes but always the
 *    first batch (KIP-74), with the high watermark and log start taken
 *    before the read.
 *
 * Errors carry high watermark and log start -1, as Kafka's; from v16 a
 * NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH names the leader this node
 * knows and its endpoint (KIP-951). When nothing new is there (no records,
 * and no high watermark this follower has not been sent), the fetch is
 * held up to max_wait_ms (within the node's bound on held fetches) until a
 * watched log grows or a high watermark moves: followers learn a new high
 * watermark in the answer, so it completes a held fetch as Kafka's does.
 */
import type { LocalPartition } from "../../broker/replica-manager.ts";
import type { MetadataImage, TopicImage } from "../../metadata/image.ts";
import type { fetchApi } from "../../protocol/apis/fetch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import { type LeadershipView, ledPartition } from "../../replication/leadership.ts";

type Request = ReturnType<typeof fetchApi.request.read>;
type Response = InferInput<typeof fetchApi.response>;
type TopicRequest = Request["topics"][number];
type PartitionRequest = TopicRequest["partitions"][number];
type PartitionResponse = Response["responses"][number]["partitions"][number];
type NodeEndpoint = NonNullable<Response["nodeEndpoints"]>[number];

export interface ReplicaFetchServices extends LeadershipView {
  image: Pick<MetadataImage, "topicsByName" | "topicsById" | "brokers">;
  replicas: LeadershipView["replicas"] & {
    /** Hands a follower's fetch position to the partition's ISR machine. */
    followerFetched(local: LocalPartition, replicaId: number, fetchOffset: bigint): void;
    /** Whether this node leads a partition `replicaId` replicates that is not in `requested`. */
    leadsUnrequested(replicaId: number, requested: ReadonlySet<LocalPartition>): boolean;
    /** Calls `wake` once, when this node starts leading a partition `replicaId` replicates; returns a cancel. */
    onceLeadingFor(replicaId: number, wake: () => void): () => void;
  };
  reserveWaitingFetch(): boolean;
  releaseWaitingFetch(): void;
}

/**
 * How long a fetch is held that leaves out a partition this node leads for
 * the follower: its metadata is a moment behind, and its next fetch, with the
 * partition, should not wait replica.fetch.wait.max.ms.
 */
const followerBehindHoldMs = 10;

/** Topics are named up to v12 and by id from v13. */
const firstVersionById = 13;
/** current_leader and node_endpoints on a refusal come with v16 (KIP-951). */
const firstVersionWithLeaderHints = 16;

interface Watched {
  local: LocalPartition;
  /** What the read saw: a change between the read and the wait counts as one during it. */
  logEndOffset: bigint;
  highWatermark: bigint;
}

interface PartitionRead {
  answer: PartitionResponse;
  bytes: number;
  /** The partition to watch while the fetch is held; null for an error or a divergence, which answer at once. */
  watched: Watched | null;
}

function refusal(partitionIndex: number, errorCode: number): PartitionRead {
  const answer = {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    abortedTransactions: null,
    records: Buffer.alloc(0),
  };
  return { answer, bytes: 0, watched: null };
}

function resolveTopic(
  services: ReplicaFetchServices,
  version: number,
  topic: TopicRequest,
): TopicImage | undefined {
  return version >= firstVersionById
    ? services.image.topicsById.get(topic.topicId)
    : services.image.topicsByName.get(topic.topic);
}

interface ReadOptions {
  replicaId: number;
  bytesLeft: number;
  /** KIP-74: no partition has served a batch yet, so the first one goes whatever its size. */
  atLeastOneBatch: boolean;
  /** The first read of the request tells the ISR machine where the follower is; re-reads of a held fetch do not. */
  reportPosition: boolean;
}

async function readPartition(
  services: ReplicaFetchServices,
  topic: TopicImage | undefined,
  asked: PartitionRequest,
  unknownTopic: number,
  options: ReadOptions,
): Promise<PartitionRead> {
  const index = asked.partition;
  const led = ledPartition(services, topic, index, asked.currentLeaderEpoch, unknownTopic);
  if ("errorCode" in led) return refusal(index, led.errorCode);
  const { local, image } = led;
  const { replicaId } = options;
  if (replicaId === services.config.nodeId || !image.replicas.includes(replicaId)) {
    const unknown =
      asked.currentLeaderEpoch === -1 ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_LEADER_EPOCH;
    return refusal(index, unknown);
  }
  const log = local.log;
  const logEndOffset = log.logEndOffset;
  const highWatermark = local.highWatermark;
  const logStartOffset = log.logStartOffset;
  const fetchOffset = asked.fetchOffset;
  const common = { partitionIndex: index, highWatermark, lastStableOffset: highWatermark, logStartOffset };
  if (asked.lastFetchedEpoch >= 0) {
    const end = log.endOffsetForEpoch(asked.lastFetchedEpoch);
    if (end.epoch < 0 || end.endOffset < 0n || fetchOffset < logStartOffset) {
      return refusal(index, ErrorCode.OFFSET_OUT_OF_RANGE);
    }
    if (end.epoch < asked.lastFetchedEpoch || end.endOffset < fetchOffset) {
      const answer = {
        ...common,
        errorCode: ErrorCode.NONE,
        divergingEpoch: { epoch: end.epoch, endOffset: end.endOffset },
        abortedTransactions: null,
        records: Buffer.alloc(0),
      };
      return { answer, bytes: 0, watched: null };
    }
  }
  if (fetchOffset < logStartOffset || fetchOffset > logEndOffset) {
    return refusal(index, ErrorCode.OFFSET_OUT_OF_RANGE);
  }
  if (options.reportPosition) services.replicas.followerFetched(local, replicaId, fetchOffset);
  if (fetchOffset === logEndOffset) {
    // A follower that has everything: nothing to read (most partitions of a fetch, most of the time).
    const answer = { ...common, errorCode: ErrorCode.NONE, abortedTransactions: null, records: emptyRecords };
    return { answer, bytes: 0, watched: { local, logEndOffset, highWatermark } };
  }
  // Appends take their offsets before their bytes reach the file; reads see only the file.
  await log.appendsWritten();
  const partitionBytes = Math.min(Math.max(0, asked.partitionMaxBytes), options.bytesLeft);
  const read = await log.read(fetchOffset, partitionBytes, logEndOffset, options.atLeastOneBatch);
  // Retention may have moved the start past the offset since the check above.
  if ("error" in read) return refusal(index, ErrorCode.OFFSET_OUT_OF_RANGE);
  const answer = { ...common, errorCode: ErrorCode.NONE, abortedTransactions: null, records: read.records };
  return { answer, bytes: read.records.length, watched: { local, logEndOffset, highWatermark } };
}

const emptyRecords = Buffer.alloc(0);

interface Round {
  topics: Array<{ request: TopicRequest; partitions: PartitionRead[] }>;
  bytes: number;
  answerNow: boolean;
}

async function readRound(
  services: ReplicaFetchServices,
  request: Request,
  version: number,
  replicaId: number,
  reportPosition: boolean,
): Promise<Round> {
  let bytes = 0;
  let answerNow = false;
  const topics: Round["topics"] = [];
  for (const topicRequest of request.topics) {
    const topic = resolveTopic(services, version, topicRequest);
    const unknownTopic =
      version >= firstVersionById ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const partitions: PartitionRead[] = [];
    for (const asked of topicRequest.partitions) {
      const bytesLeft = Math.max(0, request.maxBytes - bytes);
      const options = { replicaId, bytesLeft, atLeastOneBatch: bytes === 0, reportPosition };
      const read = await readPartition(services, topic, asked, unknownTopic, options);
      bytes += read.bytes;
      if (read.watched === null) answerNow = true;
      // A follower that has not heard the current high watermark (it moved while this fetch was
      // on its way, through another follower's fetch) hears it now, not when the wait runs out.
      else if (
        reportPosition &&
        read.watched.highWatermark >
          sentHighWatermark(read.watched.local, replicaId, read.watched.highWatermark)
      )
        answerNow = true;
      partitions.push(read);
    }
    topics.push({ request: topicRequest, partitions });
  }
  return { topics, bytes, answerNow };
}

/** Resolves once a watched log grows or a watched high watermark moves, or after `waitMs`. */
function nextChange(
  services: ReplicaFetchServices,
  replicaId: number,
  round: Round,
  waitMs: number,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const cancels: Array<() => void> = [];
    const finish = () => {
      clearTimeout(timer);
      for (const cancel of cancels) cancel();
      resolve();
    };
    const timer = setTimeout(finish, waitMs);
    // A partition this follower replicates now led here: answer, so its next fetch can include it.
    cancels.push(services.replicas.onceLeadingFor(replicaId, finish));
    for (const { partitions } of round.topics) {
      for (const { watched } of partitions) {
        if (watched === null) continue;
        const { local } = watched;
        cancels.push(local.onceLogEndMoves(finish), local.onceHighWatermarkMoves(finish));
        if (
          local.log.logEndOffset !== watched.logEndOffset ||
          local.highWatermark !== watched.highWatermark
        ) {
          finish();
          return;
        }
      }
    }
  });
}

/** The partitions a round read as their leader, for the follower-behind check. */
function watchedPartitions(round: Round): Set<LocalPartition> {
  const partitions = new Set<LocalPartition>();
  for (const topic of round.topics) {
    for (const { watched } of topic.partitions) if (watched !== null) partitions.add(watched.local);
  }
  return partitions;
}

function highWatermarksMoved(before: Round, after: Round): boolean {
  return after.topics.some((topic, t) =>
    topic.partitions.some(
      (read, p) => read.answer.highWatermark !== before.topics[t]!.partitions[p]!.answer.highWatermark,
    ),
  );
}

function leaderHints(services: ReplicaFetchServices, round: Round, version: number): NodeEndpoint[] {
  if (version < firstVersionWithLeaderHints) return [];
  const endpoints = new Map<number, NodeEndpoint>();
  for (const { request, partitions } of round.topics) {
    const topic = resolveTopic(services, version, request);
    for (const { answer } of partitions) {
      if (
        answer.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER &&
        answer.errorCode !== ErrorCode.FENCED_LEADER_EPOCH
      ) {
        continue;
      }
      const image = topic?.partitions.get(answer.partitionIndex);
      answer.currentLeader = { leaderId: image?.leader ?? -1, leaderEpoch: image?.leaderEpoch ?? -1 };
      const broker = image === undefined ? undefined : services.image.brokers.get(image.leader);
      const endpoint = broker?.fenced === false ? broker.endpoints[0] : undefined;
      if (broker !== undefined && endpoint !== undefined) {
        endpoints.set(broker.brokerId, {
          nodeId: broker.brokerId,
          host: endpoint.host,
          port: endpoint.port,
          rack: broker.rack,
        });
      }
    }
  }
  return [...endpoints.values()];
}

/** The high watermark last sent to the follower; a first fetch in this leadership counts as told. */
function sentHighWatermark(local: LocalPartition, replicaId: number, current: bigint): bigint {
  return local.highWatermarksSent.get(replicaId) ?? current;
}

function respond(services: ReplicaFetchServices, round: Round, version: number, replicaId: number): Response {
  for (const topic of round.topics) {
    for (const read of topic.partitions) {
      if (read.watched !== null)
        read.watched.local.highWatermarksSent.set(replicaId, read.answer.highWatermark);
    }
  }
  const responses = round.topics.map(({ request, partitions }) => ({
    topic: request.topic,
    topicId: request.topicId,
    partitions: partitions.map((read) => read.answer),
  }));
  const nodeEndpoints = leaderHints(services, round, version);
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses, nodeEndpoints };
}

/** Answers a follower's sessionless fetch of data partitions; `replicaId` is the follower (>= 0). */
export async function answerReplicaFetch(
  services: ReplicaFetchServices,
  request: Request,
  version: number,
  replicaId: number,
): Promise<Response> {
  const receivedMs = Date.now();
  const first = await readRound(services, request, version, replicaId, true);
  if (first.answerNow || first.bytes >= request.minBytes || request.maxWaitMs <= 0) {
    return respond(services, first, version, replicaId);
  }
  // A follower that leaves out a partition this node leads for it has not applied that
  // leadership yet (or not taken it up): held for long, its next fetch, the one that
  // starts replicating the partition, would wait as long.
  const followerBehind = services.replicas.leadsUnrequested(replicaId, watchedPartitions(first));
  const deadline =
    receivedMs + (followerBehind ? Math.min(request.maxWaitMs, followerBehindHoldMs) : request.maxWaitMs);
  if (deadline <= Date.now()) return respond(services, first, version, replicaId);
  if (!services.reserveWaitingFetch()) return respond(services, first, version, replicaId);
  try {
    let round = first;
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) return respond(services, round, version, replicaId);
      await nextChange(services, replicaId, round, remainingMs);
      round = await readRound(services, request, version, replicaId, false);
      if (
        round.answerNow ||
        round.bytes >= request.minBytes ||
        highWatermarksMoved(first, round) ||
        services.replicas.leadsUnrequested(replicaId, watchedPartitions(round))
      ) {
        return respond(services, round, version, replicaId);
      }
    }
  } finally {
    services.releaseWaitingFetch();
  }
}
