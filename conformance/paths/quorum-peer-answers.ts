/**
 * The answers the test's peers give the node's quorum requests: the one a
 * path asks for, and, for a request the path has no use for but that stands
 * before one it answers on the same connection, one that changes nothing on
 * the node (a refused vote of the request's own epoch, which no state counts;
 * an epoch answer naming no newer epoch; a fetch refused naming no leader,
 * which the fetch loop only backs off from).
 */
import { encodeLeaderChange, encodeVoters } from "../../impl/cluster/raft/raft-log.ts";
import { metadataTopicName } from "../../impl/metadata/internal-topics.ts";
import { encodeEntryBatches } from "../../impl/metadata/raft-entry-batches.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import type { ReceivedRequest } from "./quorum-peer.ts";
import type { ReplicatedEntry } from "./raft-quorum-steps.ts";

const nodeId = 1;

function partitionOf<P>(topics: ReadonlyArray<{ partitions: readonly P[] }>): P {
  const partition = topics[0]?.partitions[0];
  if (partition === undefined) throw new Error("a quorum request without its partition");
  return partition;
}

/** The epoch a node's request names. */
export function requestEpoch(request: ReceivedRequest): number {
  switch (request.kind) {
    case "vote":
      return partitionOf(request.body.topics).candidateEpoch;
    case "beginQuorumEpoch":
      return partitionOf(request.body.topics).leaderEpoch;
    case "endQuorumEpoch":
      return partitionOf(request.body.topics).leaderEpoch;
    case "fetch":
      return partitionOf(request.body.topics.map((topic) => ({ partitions: topic.partitions })))
        .currentLeaderEpoch;
    case "brokerRegistration":
    case "alterPartition":
      throw new Error(`${request.kind} is the controller's, not a quorum request: it names no quorum epoch`);
  }
}

export function voteAnswer(epoch: number, granted: boolean) {
  return {
    errorCode: ErrorCode.NONE,
    topics: [
      {
        topicName: metadataTopicName,
        partitions: [
          {
            partitionIndex: 0,
            errorCode: ErrorCode.NONE,
            leaderId: -1,
            leaderEpoch: epoch,
            voteGranted: granted,
          },
        ],
      },
    ],
  };
}

function leaderEpochAnswer(epoch: number) {
  return {
    errorCode: ErrorCode.NONE,
    topics: [
      {
        topicName: metadataTopicName,
        partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE, leaderId: nodeId, leaderEpoch: epoch }],
      },
    ],
  };
}

export interface FetchAnswerInput {
  errorCode: number;
  leaderId: number;
  epoch: number;
  highWatermark: number;
  /** Record batches, from the fetch offset on. */
  records: Buffer;
}

export function fetchAnswer(answer: FetchAnswerInput) {
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    sessionId: 0,
    responses: [
      {
        topic: metadataTopicName,
        partitions: [
          {
            partitionIndex: 0,
            errorCode: answer.errorCode,
            highWatermark: BigInt(answer.highWatermark),
            lastStableOffset: -1n,
            logStartOffset: 0n,
            divergingEpoch: { epoch: -1, endOffset: -1n },
            currentLeader: { leaderId: answer.leaderId, leaderEpoch: answer.epoch },
            snapshotId: { endOffset: -1n, epoch: -1 },
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: answer.records,
          },
        ],
      },
    ],
    nodeEndpoints: [],
  };
}

/** An answer to `request` that changes nothing on the node. */
export function answerChangingNothing(request: ReceivedRequest): unknown {
  const epoch = requestEpoch(request);
  switch (request.kind) {
    case "vote":
      return voteAnswer(epoch, false);
    case "beginQuorumEpoch":
    case "endQuorumEpoch":
      return leaderEpochAnswer(epoch);
    case "fetch":
      return fetchAnswer({
        errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
        leaderId: -1,
        epoch,
        highWatermark: -1,
        records: Buffer.alloc(0),
      });
    case "brokerRegistration":
    case "alterPartition":
      throw new Error(`${request.kind} is the controller's, not a quorum request`);
  }
}

/** The entries a leader hands the node, as record batches from `fetchOffset`. */
export function replicatedRecords(
  entries: readonly ReplicatedEntry[],
  fetchOffset: number,
  leaderId: number,
  voters: readonly number[],
): Buffer {
  return encodeEntryBatches(
    entries.map((entry, index) => ({
      offset: fetchOffset + index,
      epoch: entry.epoch,
      kind: entry.kind,
      payload:
        entry.kind === "voters"
          ? encodeVoters(entry.voters)
          : encodeLeaderChange({ leaderId, voters: [...voters] }),
    })),
  );
}
