/**
 * For the quorum handlers' tests: a Raft node that answers what the test
 * scripts and records what it was asked, the services around it, and the
 * context a dispatcher hands a handler.
 */
import type {
  FetchRequest,
  FetchResponse,
  LeaderEpochRequest,
  LeaderEpochResponse,
  RaftRpcHandler,
  VoteRequest,
  VoteResponse,
} from "../../cluster/raft/raft-transport.ts";
import type { HandlerContext } from "../dispatcher.ts";
import type { QuorumServices } from "./quorum-request.ts";

type Asked =
  | { api: "vote"; request: VoteRequest }
  | { api: "beginQuorumEpoch" | "endQuorumEpoch"; request: LeaderEpochRequest }
  | { api: "fetch"; request: FetchRequest };

export class ScriptedQuorum implements RaftRpcHandler {
  asked: Asked[] = [];
  /** Thrown by every call instead of answering, when set. */
  failure: Error | null = null;
  vote: VoteResponse = { voterId: 1, epoch: 5, granted: true, leaderId: null };
  leaderEpoch: LeaderEpochResponse = { errorName: "NONE", epoch: 5, leaderId: 2 };
  fetch: FetchResponse = {
    errorName: "NONE",
    epoch: 5,
    leaderId: 1,
    highWatermark: 3,
    diverging: null,
    records: [],
  };

  handleVote(request: VoteRequest): Promise<VoteResponse> {
    return this.answer({ api: "vote", request }, this.vote);
  }

  handleBeginQuorumEpoch(request: LeaderEpochRequest): Promise<LeaderEpochResponse> {
    return this.answer({ api: "beginQuorumEpoch", request }, this.leaderEpoch);
  }

  handleEndQuorumEpoch(request: LeaderEpochRequest): Promise<LeaderEpochResponse> {
    return this.answer({ api: "endQuorumEpoch", request }, this.leaderEpoch);
  }

  handleFetch(request: FetchRequest): Promise<FetchResponse> {
    return this.answer({ api: "fetch", request }, this.fetch);
  }

  private answer<T>(asked: Asked, answer: T): Promise<T> {
    this.asked.push(asked);
    return this.failure === null ? Promise.resolve(answer) : Promise.reject(this.failure);
  }
}

/** Node 1 of cluster "cluster-a", its quorum scripted. */
export function quorumServices(
  quorum = new ScriptedQuorum(),
): QuorumServices & { quorum: { rpc: ScriptedQuorum } } {
  return { clusterId: "cluster-a", config: { nodeId: 1 }, quorum: { rpc: quorum } };
}

export function handlerContext(apiKey: number, version: number): HandlerContext {
  return {
    header: { apiKey, apiVersion: version, correlationId: 7, clientId: "chronik-node-2" },
    version,
    peer: "127.0.0.1:50000",
    forwarded: false,
    releaseNext: () => undefined,
    // The connection of a handler test never closes.
    connectionClosed: new Promise(() => {}),
  };
}

/** The response a handler gave; every quorum request has one. */
export async function responseOf<T>(pending: Promise<T | null> | T | null): Promise<T> {
  const response = await pending;
  if (response === null) throw new Error("the handler sent no response");
  return response;
}
