/**
 * What the node shows, read and compared with what a planned step expects:
 * its answers to the test's requests, the requests it sends the test's peers,
 * DescribeQuorum while it leads (the leader's own view of the quorum), the
 * epoch, leader and high watermark its refusal of a stale fetch names while
 * it does not, and its quorum-state file. Each comparison returns what
 * differs, or null.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { quorumStateFileName } from "../../impl/cluster/quorum-state-file.ts";
import { decodeEntryBatches } from "../../impl/metadata/raft-entry-batches.ts";
import type { Context, Event } from "../../machines/raft-quorum.ts";
import type { NodeClient } from "./quorum-node-client.ts";
import type { ReceivedRequest } from "./quorum-peer.ts";
import type { ExpectedAnswer, NodeRequest, PlannedStep } from "./raft-quorum-steps.ts";
import { sameView, viewDifference } from "./raft-quorum-views.ts";

const nodeId = 1;
const errorCodes = { NOT_LEADER_OR_FOLLOWER: 6, FENCED_LEADER_EPOCH: 74 } as const;

/** The node's answer to the test's request against the plan's. */
export function answerMismatch(expected: ExpectedAnswer, answer: unknown): string | null {
  const got = answer as Record<string, unknown>;
  const actual: Record<string, unknown> =
    expected.kind === "fetch"
      ? {
          kind: "fetch",
          errorCode: got.errorCode,
          leaderId: got.leaderId,
          epoch: got.epoch,
          highWatermark: got.highWatermark,
          diverging: got.diverging !== null,
          entries: entriesIn(got.records as Buffer),
        }
      : { kind: expected.kind, ...got };
  if (sameView<unknown>(expected, actual)) return null;
  return `the node answered ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
}

function entriesIn(records: Buffer): number {
  return records.length === 0 ? 0 : decodeEntryBatches(records).length;
}

/** DescribeQuorum of a leader: its epoch, high watermark, and each voter's and observer's log end. */
export function describedMismatch(
  step: PlannedStep,
  described: Awaited<ReturnType<NodeClient["describeQuorum"]>>,
): string | null {
  const context = step.after.context;
  // -1 for a replica that has not fetched in this leadership, as Kafka reports it.
  const logEndOf = (id: number) =>
    id === nodeId
      ? context.log.endOffset
      : step.fetchedThisLeadership.includes(id)
        ? (context.replicaProgress.find((replica) => replica.id === id)?.endOffset ?? -1)
        : -1;
  const want = {
    errorCode: 0,
    leaderId: nodeId,
    epoch: context.epoch,
    highWatermark: context.highWatermark,
    voters: context.voters.map((id) => ({ id, logEndOffset: logEndOf(id) })),
    observers: context.replicaProgress
      .filter((replica) => !context.voters.includes(replica.id) && replica.id !== nodeId)
      .map((replica) => ({ id: replica.id, logEndOffset: logEndOf(replica.id) })),
  };
  const replicas = (list: typeof described.currentVoters) =>
    list.map((replica) => ({ id: replica.replicaId, logEndOffset: Number(replica.logEndOffset) }));
  const got = {
    errorCode: described.errorCode,
    leaderId: described.leaderId,
    epoch: described.leaderEpoch,
    highWatermark: Number(described.highWatermark),
    voters: replicas(described.currentVoters),
    observers: replicas(described.observers),
  };
  return sameView(want, got) ? null : `DescribeQuorum: ${viewDifference(want, got)}`;
}

/** The refusal of the test's probe (a fetch at epoch 0) by a node that does not lead. */
export function probedMismatch(
  context: Context,
  probe: Awaited<ReturnType<NodeClient["probe"]>>,
): string | null {
  const want = {
    // Epoch 0 is the node's own epoch only before its first election.
    errorCode: context.epoch > 0 ? errorCodes.FENCED_LEADER_EPOCH : errorCodes.NOT_LEADER_OR_FOLLOWER,
    leaderId: context.leaderId ?? -1,
    epoch: context.epoch,
    highWatermark: context.highWatermark,
  };
  const { errorCode, leaderId, epoch, highWatermark } = probe;
  const got = { errorCode, leaderId, epoch, highWatermark };
  return sameView(want, got) ? null : `the refusal of a stale fetch: ${viewDifference(want, got)}`;
}

/** The quorum-state file without its format version; null when there is none yet. */
export async function readQuorumState(dataDir: string): Promise<unknown> {
  const text = await readFile(path.join(dataDir, quorumStateFileName), "utf8").catch(() => null);
  if (text === null) return null;
  const { version: _version, ...state } = JSON.parse(text) as Record<string, unknown>;
  return state;
}

/** The same event, but for the clock readings the node takes itself. */
export function sameEvent(expected: Event, actual: { type: string }): boolean {
  const withoutClock = (event: object) => {
    const { nowMs: _nowMs, ...rest } = event as { nowMs?: number };
    return rest;
  };
  return sameView(withoutClock(expected), withoutClock(actual));
}

export function describeEvent(event: { type: string }): string {
  const { type, nowMs: _nowMs, ...fields } = event as { type: string; nowMs?: number };
  const shown = Object.entries(fields)
    .map(([key, value]) => `${key} ${JSON.stringify(value)}`)
    .join(", ");
  return shown === "" ? type : `${type} (${shown})`;
}

/** A request the node sent to a peer, as the plan describes one; `unreadable` when it does not name node 1. */
export function requestOf(request: ReceivedRequest): NodeRequest | { kind: string; unreadable: true } {
  const unreadable = { kind: request.kind, unreadable: true as const };
  switch (request.kind) {
    case "vote": {
      const partition = request.body.topics[0]?.partitions[0];
      if (partition === undefined || partition.candidateId !== nodeId) return unreadable;
      const { candidateEpoch: epoch, preVote, lastOffsetEpoch: lastEpoch, lastOffset } = partition;
      return { kind: "vote", epoch, preVote, lastEpoch, endOffset: Number(lastOffset) };
    }
    case "beginQuorumEpoch": {
      const partition = request.body.topics[0]?.partitions[0];
      if (partition === undefined || partition.leaderId !== nodeId) return unreadable;
      return { kind: "beginQuorumEpoch", epoch: partition.leaderEpoch };
    }
    case "endQuorumEpoch": {
      const partition = request.body.topics[0]?.partitions[0];
      if (partition === undefined || partition.leaderId !== nodeId) return unreadable;
      return { kind: "endQuorumEpoch", epoch: partition.leaderEpoch };
    }
    case "fetch": {
      const partition = request.body.topics[0]?.partitions[0];
      if (partition === undefined || request.body.replicaId !== nodeId) return unreadable;
      const { currentLeaderEpoch: epoch, fetchOffset, lastFetchedEpoch } = partition;
      return { kind: "fetch", epoch, fetchOffset: Number(fetchOffset), lastFetchedEpoch };
    }
    case "brokerRegistration":
    case "alterPartition":
      // Only a peer playing the controller keeps these; a voter peer answers them at once.
      return unreadable;
  }
}
