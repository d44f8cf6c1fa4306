/**
 * Followers of a data partition played by the test against its leader: each
 * sends what a follower's replica fetcher sends, a Fetch with its replica id,
 * on a connection of its own, and reads back the error and high watermark.
 * Their registration and liveness are the controller's records
 * (played-controller.ts), not requests to the leader: a follower that never
 * talks to the controller is as live as the controller says.
 */
import { fetchApi } from "../../impl/protocol/apis/fetch.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { RequestConnection } from "./kafka-requests.ts";

/** Fetch v12, as the node's own replica fetchers send it: topics by name, last_fetched_epoch given. */
const fetchVersion = 12;
const fetchBytesMax = 1_048_576;

export interface FollowerFetchAnswer {
  errorCode: number;
  highWatermark: bigint;
}

export class PlayedFollower {
  private connection: RequestConnection | null = null;

  constructor(
    readonly replicaId: number,
    private readonly leaderPort: number,
    private readonly clusterId: string,
  ) {}

  /**
   * One fetch of partition 0 of `topic` from `fetchOffset`, answered at once
   * (no long poll), as a follower that holds `fetchOffset` records sends it.
   */
  async fetch(
    topic: string,
    request: { leaderEpoch: number; fetchOffset: number; lastFetchedEpoch: number },
  ): Promise<FollowerFetchAnswer> {
    this.connection ??= await RequestConnection.open(this.leaderPort);
    const response = await this.connection.send(fetchApi, fetchVersion, {
      clusterId: this.clusterId,
      replicaId: this.replicaId,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: fetchBytesMax,
      topics: [
        {
          topic,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: request.leaderEpoch,
              fetchOffset: BigInt(request.fetchOffset),
              lastFetchedEpoch: request.lastFetchedEpoch,
              partitionMaxBytes: fetchBytesMax,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
    });
    if (response.errorCode !== ErrorCode.NONE) return { errorCode: response.errorCode, highWatermark: -1n };
    const partitions = response.responses.flatMap((answered) =>
      answered.topic === topic ? answered.partitions : [],
    );
    const partition = partitions[0];
    if (partitions.length !== 1 || partition === undefined || partition.partitionIndex !== 0) {
      throw new Error(`fetch of ${topic}-0 answered ${partitions.length} partitions`);
    }
    return { errorCode: partition.errorCode, highWatermark: partition.highWatermark };
  }

  close(): void {
    this.connection?.close();
    this.connection = null;
  }
}
