/**
 * RaftNodes connected in one process, for tests: a request is a call to the
 * receiving node's handler, its answer the handler's answer. Links can be cut
 * in either direction (a request over a cut link rejects; a request in flight
 * when its link is cut rejects at once and its answer is lost), so tests drop
 * messages the way a partition would.
 */
import type {
  FetchRequest,
  FetchResponse,
  LeaderEpochRequest,
  LeaderEpochResponse,
  RaftRpcHandler,
  RaftTransport,
  VoteRequest,
  VoteResponse,
} from "./raft-transport.ts";

export class LinkDownError extends Error {
  constructor(from: number, to: number, why: string) {
    super(`n${from} → n${to}: ${why}`);
    this.name = "LinkDownError";
  }
}

interface InFlight {
  from: number;
  to: number;
  reject(error: Error): void;
}

export class InProcessNetwork {
  private handlers = new Map<number, RaftRpcHandler>();
  private cut = new Set<string>();
  private inFlight = new Set<InFlight>();
  /** Requests delivered so far. */
  delivered = 0;

  register(nodeId: number, handler: RaftRpcHandler): void {
    this.handlers.set(nodeId, handler);
  }

  unregister(nodeId: number): void {
    this.handlers.delete(nodeId);
    for (const call of [...this.inFlight]) {
      if (call.to === nodeId || call.from === nodeId)
        call.reject(new LinkDownError(call.from, call.to, "node gone"));
    }
  }

  transportFor(from: number): RaftTransport {
    return {
      vote: (to, request: VoteRequest) => this.call<VoteResponse>(from, to, (h) => h.handleVote(request)),
      beginQuorumEpoch: (to, request: LeaderEpochRequest) =>
        this.call<LeaderEpochResponse>(from, to, (h) => h.handleBeginQuorumEpoch(request)),
      endQuorumEpoch: (to, request: LeaderEpochRequest) =>
        this.call<LeaderEpochResponse>(from, to, (h) => h.handleEndQuorumEpoch(request)),
      fetch: (to, request: FetchRequest) => this.call<FetchResponse>(from, to, (h) => h.handleFetch(request)),
    };
  }

  /** Cuts both directions between `a` and `b`. */
  cutLink(a: number, b: number): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  cutOneWay(from: number, to: number): void {
    this.cut.add(`${from}>${to}`);
    for (const call of [...this.inFlight]) {
      if (call.from === from && call.to === to) call.reject(new LinkDownError(from, to, "link cut"));
      if (call.from === to && call.to === from) call.reject(new LinkDownError(from, to, "link cut"));
    }
  }

  /** Cuts every link of `nodeId`. */
  isolate(nodeId: number, others: readonly number[]): void {
    for (const other of others) if (other !== nodeId) this.cutLink(nodeId, other);
  }

  healAll(): void {
    this.cut.clear();
  }

  isCut(from: number, to: number): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  private call<T>(from: number, to: number, send: (handler: RaftRpcHandler) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const handler = this.handlers.get(to);
      if (handler === undefined) return reject(new LinkDownError(from, to, "no such node"));
      if (this.isCut(from, to)) return reject(new LinkDownError(from, to, "link cut"));
      const call: InFlight = { from, to, reject: () => undefined };
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(call);
        settle();
      };
      call.reject = (error) => finish(() => reject(error));
      this.inFlight.add(call);
      this.delivered++;
      send(handler).then(
        (answer) =>
          finish(() =>
            this.isCut(to, from)
              ? reject(new LinkDownError(to, from, "answer lost: link cut"))
              : resolve(answer),
          ),
        (error) => finish(() => reject(error)),
      );
    });
  }
}
