/**
 * The Raft runtime's typed failures. Domain refusals carry the Kafka error
 * name an API handler answers with; a RaftInvariantError is a broken internal
 * invariant, fatal for the node (DESIGN, "Bad input").
 */

/** The node does not lead (or stopped leading before the request completed). */
export class NotLeaderError extends Error {
  readonly errorName = "NOT_LEADER_OR_FOLLOWER";
  constructor(
    readonly leaderId: number | null,
    readonly epoch: number,
    detail: string,
  ) {
    super(`not the quorum leader (leader ${leaderId ?? "unknown"}, epoch ${epoch}): ${detail}`);
    this.name = "NotLeaderError";
  }
}

/** A bound was hit (effect queue, waiting appends): the caller retries later. */
export class RaftBusyError extends Error {
  readonly errorName = "REQUEST_TIMED_OUT";
  constructor(detail: string) {
    super(`raft node busy: ${detail}`);
    this.name = "RaftBusyError";
  }
}

/** The node stopped (shut down, or failed); nothing more is answered. */
export class RaftStoppedError extends Error {
  constructor(
    readonly nodeId: number,
    readonly reason: string,
  ) {
    super(`raft node ${nodeId} stopped: ${reason}`);
    this.name = "RaftStoppedError";
  }
}

export class RaftInvariantError extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`raft invariant "${invariant}" broken: ${detail}`);
    this.name = "RaftInvariantError";
  }
}

export function assertRaft(condition: boolean, invariant: string, detail: () => string): asserts condition {
  if (!condition) throw new RaftInvariantError(invariant, detail());
}
