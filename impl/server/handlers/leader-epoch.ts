/**
 * The leader-epoch fence of KIP-320, shared by Fetch and ListOffsets: a client
 * that names an epoch older than the leader's has stale metadata
 * (FENCED_LEADER_EPOCH); one that names a newer epoch knows of a change this
 * node has not applied yet (UNKNOWN_LEADER_EPOCH). -1 means "not checked".
 */
import { ErrorCode } from "../../protocol/error-codes.ts";

export function leaderEpochError(requestedEpoch: number, currentEpoch: number): number {
  if (requestedEpoch === -1) return ErrorCode.NONE;
  if (requestedEpoch < currentEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (requestedEpoch > currentEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return ErrorCode.NONE;
}
