/**
 * One PeerClient per peer node, kept in step with where the nodes are. The
 * caller feeds it the endpoints it learns (the voters set, the brokers in the
 * metadata image); a node that moved gets a fresh client on its new address,
 * and a node that left has its client closed so nothing reconnects to it.
 */
import type { ApiDefinition } from "../protocol/api.ts";
import { PeerClient, type PeerClientOptions, type SendOptions } from "./peer-client.ts";
import { type PeerAddress, PeerUnknownError } from "./peer-errors.ts";

export class PeerPool {
  private readonly clients = new Map<number, PeerClient>();
  private closed = false;

  /** `options` apply to every client; the caller excludes its own node from the endpoints it passes. */
  constructor(private readonly options: PeerClientOptions) {}

  get nodeIds(): number[] {
    return [...this.clients.keys()].sort((left, right) => left - right);
  }

  client(nodeId: number): PeerClient | undefined {
    return this.clients.get(nodeId);
  }

  /** Sends through the node's client; rejects with PeerUnknownError for a node the pool does not hold. */
  send<Response, RequestInput>(
    nodeId: number,
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
    options: SendOptions,
  ): Promise<Response> {
    const client = this.clients.get(nodeId);
    if (client === undefined) return Promise.reject(new PeerUnknownError(nodeId));
    return client.send(api, version, request, options);
  }

  /**
   * Makes the pool hold exactly these peers. Clients of unchanged endpoints
   * keep their connection; the promise resolves once the clients this
   * replaced or removed have closed (their pending requests fail at once).
   */
  update(endpoints: Iterable<PeerAddress>): Promise<void> {
    if (this.closed) throw new Error("peer pool is closed");
    const wanted = new Map<number, PeerAddress>();
    for (const endpoint of endpoints) {
      if (wanted.has(endpoint.nodeId)) throw new RangeError(`node ${endpoint.nodeId} listed twice`);
      wanted.set(endpoint.nodeId, endpoint);
    }
    const closing: Array<Promise<void>> = [];
    for (const nodeId of this.clients.keys()) {
      if (!wanted.has(nodeId)) closing.push(this.remove(nodeId));
    }
    for (const endpoint of wanted.values()) closing.push(this.upsert(endpoint));
    return Promise.all(closing).then(() => undefined);
  }

  /** Adds a peer, or moves it to a new address; resolves once a replaced client has closed. */
  upsert(endpoint: PeerAddress): Promise<void> {
    if (this.closed) throw new Error("peer pool is closed");
    const current = this.clients.get(endpoint.nodeId);
    if (current !== undefined && sameAddress(current.peer, endpoint)) return Promise.resolve();
    this.clients.set(endpoint.nodeId, new PeerClient({ ...endpoint }, this.options));
    if (current === undefined) return Promise.resolve();
    return current.close(`node ${endpoint.nodeId} moved to ${endpoint.host}:${endpoint.port}`);
  }

  /** Forgets a peer and closes its client. */
  remove(nodeId: number): Promise<void> {
    const current = this.clients.get(nodeId);
    if (current === undefined) return Promise.resolve();
    this.clients.delete(nodeId);
    return current.close(`node ${nodeId} is no longer a peer`);
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.close("peer pool closed")));
  }
}

function sameAddress(left: PeerAddress, right: PeerAddress): boolean {
  return left.host === right.host && left.port === right.port;
}
