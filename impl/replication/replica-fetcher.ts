/**
 * Data replication's follower side: every partition this node follows,
 * grouped into one fetch session per leader node (fetch-session.ts), as
 * Kafka runs one fetcher thread per source broker. The replica manager says
 * whom to follow (`follow` on every partition change it applies) and when to
 * stop (`stopFollowing` before it leads the partition or drops it).
 *
 * A partition that starts following in a leader epoch newer than the one it
 * last settled truncation in asks the leader first where its own latest
 * epoch ends (OffsetForLeaderEpoch) and truncates there; only then fetches.
 * A partition stopped by its leader (NOT_LEADER_OR_FOLLOWER,
 * FENCED_LEADER_EPOCH) or by a failed append waits for the next `follow`,
 * as Kafka's fetcher keeps failed partitions out until new metadata.
 */
import type { LocalPartition } from "../broker/replica-manager.ts";
import type { PeerPool } from "../cluster/peer-pool.ts";
import type { Logger } from "../log.ts";
import { LeaderSession, type SessionHost } from "./fetch-session.ts";
import { FollowedPartition } from "./followed-partition.ts";
import { LeaderRequests } from "./leader-requests.ts";
import { type ReplicaFetcherSettings, resolveReplicaFetcherSettings } from "./replica-fetcher-settings.ts";

export interface ReplicaFetchersOptions {
  nodeId: number;
  /** Connections to the other nodes, for data replication only; its owner keeps it and closes it. */
  pool: Pick<PeerPool, "send">;
  logger: Logger;
  settings?: Partial<ReplicaFetcherSettings>;
}

export class ReplicaFetchers implements SessionHost {
  readonly settings: ReplicaFetcherSettings;
  readonly requests: LeaderRequests;
  readonly logger: Logger;
  private readonly nodeId: number;
  private readonly followed = new Map<LocalPartition, FollowedPartition>();
  private readonly sessions = new Map<number, LeaderSession>();
  private readonly closeListeners = new Set<() => void>();
  private closed = false;

  constructor(options: ReplicaFetchersOptions) {
    if (!Number.isInteger(options.nodeId) || options.nodeId < 0) {
      throw new RangeError(`node id ${options.nodeId} is not a broker id`);
    }
    this.nodeId = options.nodeId;
    this.logger = options.logger;
    this.settings = resolveReplicaFetcherSettings(options.settings);
    this.requests = new LeaderRequests({ pool: options.pool, nodeId: options.nodeId, ...this.settings });
  }

  /** Starts fetching `local` from `leaderId` in `leaderEpoch`, or re-points it there; a no-op when already so. */
  follow(local: LocalPartition, leaderId: number, leaderEpoch: number): void {
    if (!Number.isInteger(leaderId) || leaderId < 0 || leaderId === this.nodeId) {
      throw new RangeError(`node ${this.nodeId} cannot follow ${local.name} from node ${leaderId}`);
    }
    if (!Number.isInteger(leaderEpoch) || leaderEpoch < 0) {
      throw new RangeError(`leader epoch ${leaderEpoch} of ${local.name} is not an epoch`);
    }
    if (this.closed) return;
    const current = this.followed.get(local);
    if (current === undefined) {
      if (this.followed.size >= this.settings.partitionsMax) {
        this.logger.error(
          { partition: local.name, partitionsMax: this.settings.partitionsMax },
          "too many followed partitions; not following this one",
        );
        return;
      }
      const partition = new FollowedPartition(local, leaderId, leaderEpoch, this.logger);
      this.followed.set(local, partition);
      this.join(partition);
      return;
    }
    if (leaderEpoch < current.leaderEpoch) {
      this.logger.warn(
        { partition: local.name, leaderEpoch, followingEpoch: current.leaderEpoch },
        "asked to follow an older leader epoch; ignored",
      );
      return;
    }
    const moved = leaderEpoch !== current.leaderEpoch || leaderId !== current.leaderId;
    if (!moved && current.phase !== "stopped") return;
    if (current.phase !== "stopped") this.sessions.get(current.leaderId)?.remove(current);
    current.advanceGeneration();
    current.leaderId = leaderId;
    current.leaderEpoch = leaderEpoch;
    current.delayedUntilMs = 0;
    current.leaderBehindRefusals = 0;
    const truncated = current.truncatedInEpoch !== null && current.truncatedInEpoch >= leaderEpoch;
    current.phase = truncated ? "fetching" : "truncating";
    this.join(current);
    if (truncated) this.logStarted(current, null);
  }

  /** Stops following `local`; resolves once no change of its log is running or queued. */
  stopFollowing(local: LocalPartition): Promise<void> {
    const partition = this.followed.get(local);
    if (partition === undefined) return Promise.resolve();
    this.followed.delete(local);
    if (partition.phase !== "stopped") {
      this.sessions.get(partition.leaderId)?.remove(partition);
      this.logger.info(
        { partition: partition.name, leader: partition.leaderId, leaderEpoch: partition.leaderEpoch },
        "stopped following: no longer a follower here",
      );
    }
    partition.advanceGeneration();
    partition.phase = "stopped";
    return partition.idle();
  }

  /** Stops every session; resolves once no request is awaited and no log change runs. */
  async close(): Promise<void> {
    this.closed = true;
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const abandon of listeners) abandon();
    const sessions = [...this.sessions.values()];
    for (const session of sessions) session.wake();
    await Promise.all(sessions.map((session) => session.done));
    await Promise.all([...this.followed.values()].map((partition) => partition.idle()));
  }

  /** The phase of `local` (for tests and status): undefined when not followed. */
  phaseOf(local: LocalPartition): FollowedPartition["phase"] | undefined {
    return this.followed.get(local)?.phase;
  }

  isClosed(): boolean {
    return this.closed;
  }

  onClose(abandon: () => void): () => void {
    if (this.closed) {
      abandon();
      return () => undefined;
    }
    this.closeListeners.add(abandon);
    return () => this.closeListeners.delete(abandon);
  }

  sessionEnded(session: LeaderSession): void {
    if (this.sessions.get(session.leaderId) === session) this.sessions.delete(session.leaderId);
  }

  startedFetching(partition: FollowedPartition, generation: number, truncationOffset: bigint): void {
    if (!partition.isCurrent(generation, "truncating")) return;
    partition.phase = "fetching";
    partition.truncatedInEpoch = partition.leaderEpoch;
    this.logStarted(partition, truncationOffset);
  }

  stop(partition: FollowedPartition, generation: number, reason: string, error?: unknown): void {
    if (partition.generation !== generation || partition.phase === "stopped") return;
    this.sessions.get(partition.leaderId)?.remove(partition);
    partition.advanceGeneration();
    partition.phase = "stopped";
    const fields = {
      partition: partition.name,
      leader: partition.leaderId,
      leaderEpoch: partition.leaderEpoch,
      reason,
    };
    if (error === undefined)
      this.logger.info(fields, "stopped following until the partition's metadata changes");
    else this.logger.error({ ...fields, err: error }, "stopped following: replication failed");
  }

  private join(partition: FollowedPartition): void {
    let session = this.sessions.get(partition.leaderId);
    if (session === undefined) {
      session = new LeaderSession(partition.leaderId, this);
      this.sessions.set(partition.leaderId, session);
    }
    session.add(partition);
  }

  private logStarted(partition: FollowedPartition, truncationOffset: bigint | null): void {
    this.logger.info(
      {
        partition: partition.name,
        leader: partition.leaderId,
        leaderEpoch: partition.leaderEpoch,
        truncationOffset: truncationOffset === null ? null : String(truncationOffset),
        logEndOffset: String(partition.local.log.logEndOffset),
      },
      "following leader",
    );
  }
}
