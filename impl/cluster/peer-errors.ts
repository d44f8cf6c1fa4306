/**
 * Why a request to a peer node got no response. Each failure is a type the
 * caller can branch on (retry after a disconnect, back off when busy, give up
 * on a closed client) and map to the Kafka error code it answers with:
 * PeerTimeoutError → REQUEST_TIMED_OUT, PeerDisconnectedError → NETWORK_EXCEPTION.
 */

export interface PeerAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export function describePeer(peer: PeerAddress): string {
  return `node ${peer.nodeId} (${peer.host}:${peer.port})`;
}

export abstract class PeerError extends Error {
  readonly nodeId: number;

  constructor(peer: PeerAddress, detail: string) {
    super(`${describePeer(peer)}: ${detail}`);
    this.nodeId = peer.nodeId;
  }
}

/** The in-flight window and the waiting queue are both full: this request was never queued. */
export class PeerBusyError extends PeerError {
  override readonly name = "PeerBusyError";
}

/** No response within the request's timeout (which counts from `send`, waiting included). */
export class PeerTimeoutError extends PeerError {
  override readonly name = "PeerTimeoutError";
}

/**
 * The connection failed or was lost before the response arrived. `requestSent`
 * says whether the request was written to the socket, so the peer may have
 * acted on it; a request that was not sent is always safe to retry.
 */
export class PeerDisconnectedError extends PeerError {
  override readonly name: string = "PeerDisconnectedError";

  constructor(
    peer: PeerAddress,
    detail: string,
    readonly requestSent: boolean,
  ) {
    super(peer, detail);
  }
}

/**
 * The peer broke the protocol (a frame too large or malformed, a response out
 * of order or undecodable), so the connection was closed. A disconnect like
 * any other to the caller, with the reason kept.
 */
export class PeerProtocolError extends PeerDisconnectedError {
  override readonly name = "PeerProtocolError";
}

/** The client was closed (shut down, or the node left the pool or moved): it sends nothing more. */
export class PeerClosedError extends PeerError {
  override readonly name = "PeerClosedError";
}

/** The pool holds no client for this node id. */
export class PeerUnknownError extends Error {
  override readonly name = "PeerUnknownError";

  constructor(readonly nodeId: number) {
    super(`no connection to node ${nodeId}: it is not a known peer`);
  }
}

/** A request that got no answer for a reason worth retrying: the peer failed, or is not known yet. */
export function isPeerFailure(error: unknown): error is PeerError | PeerUnknownError {
  return error instanceof PeerError || error instanceof PeerUnknownError;
}
