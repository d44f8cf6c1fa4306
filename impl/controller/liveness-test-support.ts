/**
 * For the tests of broker liveness and heartbeats: node 1 controls a cluster
 * whose metadata log commits at once; the test sets the clock and each
 * node's last metadata fetch, which the controller reads as DescribeQuorum.
 */
import type { QuorumDescription, ReplicaDescription } from "../cluster/raft/describe-quorum.ts";
import { type Logger, silentLogger } from "../log.ts";
import { BrokerHeartbeats } from "./broker-heartbeats.ts";
import { BrokerLiveness } from "./broker-liveness.ts";
import { type ControllerFixture, controllerFixture } from "./controller-test-support.ts";

export const sessionTimeoutMs = 9_000;
const startMs = 1_700_000_000_000;

export function livenessFixture(brokerIds: number[], logger: Logger = silentLogger()) {
  const fixture: ControllerFixture = controllerFixture(brokerIds, logger);
  const clock = { nowMs: startMs };
  const fetches = new Map<number, ReplicaDescription>();
  const quorum = { leading: true };
  const describeQuorum = async (): Promise<QuorumDescription> => ({
    errorName: quorum.leading ? "NONE" : "NOT_LEADER_OR_FOLLOWER",
    leaderId: quorum.leading ? 1 : 2,
    epoch: fixture.log.epoch,
    highWatermark: appliedOffset(),
    voters: quorum.leading ? [...fetches.values()] : [],
    observers: [],
  });
  const liveness = new BrokerLiveness({
    nodeId: 1,
    image: fixture.image,
    lifecycles: fixture.lifecycles,
    describeQuorum,
    appliedOffset,
    nowMs: () => clock.nowMs,
    sessionTimeoutMs,
    logger,
  });
  const heartbeats = new BrokerHeartbeats({
    nodeId: 1,
    image: fixture.image,
    lifecycles: fixture.lifecycles,
    liveness,
    describeQuorum,
    appliedOffset,
    logger,
  });
  function appliedOffset() {
    return Number(fixture.image.appliedOffset) + 1;
  }
  /** Node `replicaId` fetched the metadata log now, up to `logEndOffset` (default: everything applied). */
  const fetched = (replicaId: number, logEndOffset = appliedOffset()) =>
    fetches.set(replicaId, {
      replicaId,
      logEndOffset,
      lastFetchTimestampMs: clock.nowMs,
      lastCaughtUpTimestampMs: clock.nowMs,
    });
  return { ...fixture, clock, liveness, heartbeats, fetched, quorum, appliedOffset };
}
