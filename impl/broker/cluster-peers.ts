/**
 * The other nodes of the cluster and how this node reaches them. Addresses
 * come from `--voters` first and from the registrations in the applied image
 * as nodes register (a registration is the address a node itself
 * advertises, so it wins); this node is never its own peer.
 *
 * Three pools, each one connection per peer, because a long-poll fetch holds
 * up whatever is queued behind it on its connection: the quorum's (votes,
 * leader announcements, the metadata fetch), the controller's (forwarded
 * requests, registrations, AlterPartition, commit-point reads) and data
 * replication's (followers' fetches and OffsetForLeaderEpoch).
 */

import type { PeerAddress } from "../cluster/peer-errors.ts";
import { peerClientId } from "../cluster/peer-options.ts";
import { PeerPool } from "../cluster/peer-pool.ts";
import type { VoterEndpoint } from "../cluster/voters.ts";
import type { Logger } from "../log.ts";
import { plaintextListenerName } from "../metadata/broker-registrations.ts";
import type { MetadataImage } from "../metadata/image.ts";

export class ClusterPeers {
  readonly quorumPool: PeerPool;
  readonly controllerPool: PeerPool;
  readonly replicationPool: PeerPool;
  private known = new Map<number, PeerAddress>();

  constructor(
    private readonly nodeId: number,
    private readonly voters: readonly VoterEndpoint[],
    logger: Logger,
  ) {
    const clientId = peerClientId(nodeId);
    this.quorumPool = new PeerPool({ clientId, logger: logger.child({ pool: "quorum" }) });
    this.controllerPool = new PeerPool({ clientId, logger: logger.child({ pool: "controller" }) });
    this.replicationPool = new PeerPool({ clientId, logger: logger.child({ pool: "replication" }) });
  }

  /** Brings every pool in step with --voters and the image's registrations; resolves once replaced clients closed. */
  async update(image: MetadataImage): Promise<void> {
    const wanted = new Map<number, PeerAddress>();
    for (const voter of this.voters) wanted.set(voter.nodeId, { ...voter });
    for (const broker of image.brokers.values()) {
      const endpoint = broker.endpoints.find((candidate) => candidate.name === plaintextListenerName);
      if (endpoint !== undefined) {
        wanted.set(broker.brokerId, { nodeId: broker.brokerId, host: endpoint.host, port: endpoint.port });
      }
    }
    wanted.delete(this.nodeId);
    if (sameAddresses(wanted, this.known)) return;
    this.known = wanted;
    await Promise.all(this.pools().map((pool) => pool.update(wanted.values())));
  }

  async close(): Promise<void> {
    await Promise.all(this.pools().map((pool) => pool.close()));
  }

  private pools(): PeerPool[] {
    return [this.quorumPool, this.controllerPool, this.replicationPool];
  }
}

function sameAddresses(left: Map<number, PeerAddress>, right: Map<number, PeerAddress>): boolean {
  if (left.size !== right.size) return false;
  for (const [nodeId, address] of left) {
    const other = right.get(nodeId);
    if (other === undefined || other.host !== address.host || other.port !== address.port) return false;
  }
  return true;
}
