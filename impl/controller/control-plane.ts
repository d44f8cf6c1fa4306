/**
 * What every node runs of the controller's own decisions, active only while
 * it leads the metadata quorum: the partition lifecycle machines (which
 * request handlers decide through) and the broker liveness checks. A
 * liveness check runs on a timer and as soon as a registration is applied,
 * so that a node registering fenced is unfenced once it has caught up.
 */
import type { BrokerConfig } from "../broker/config.ts";
import type { MetadataQuorum } from "../broker/metadata-quorum.ts";
import type { Logger } from "../log.ts";
import type { Controller } from "../metadata/controller.ts";
import type { TransitionTrace } from "../trace/transition-trace.ts";
import { BrokerHeartbeats } from "./broker-heartbeats.ts";
import { BrokerLiveness } from "./broker-liveness.ts";
import { PartitionLifecycles } from "./partition-lifecycles.ts";

/**
 * How often the controller looks at every node's last metadata fetch. Kafka's
 * brokers heartbeat every 2 s (broker.heartbeat.interval.ms); a shorter look
 * unfences a caught-up node sooner, and costs one read of the quorum's state.
 */
export const livenessCheckIntervalMs = 200;

export interface ControlPlane {
  lifecycles: PartitionLifecycles;
  liveness: BrokerLiveness;
  heartbeats: BrokerHeartbeats;
  stop(): void;
}

export function startControlPlane(options: {
  config: BrokerConfig;
  quorum: MetadataQuorum;
  controller: Controller;
  logger: Logger;
  trace?: TransitionTrace;
}): ControlPlane {
  const { config, quorum, controller } = options;
  const logger = options.logger.child({ component: "controller" });
  const lifecycles = new PartitionLifecycles({
    controller,
    leadershipEpoch: () => quorum.status().epoch,
    config,
    logger,
    ...(options.trace === undefined ? {} : { trace: options.trace }),
  });
  const liveness = new BrokerLiveness({
    nodeId: config.nodeId,
    image: quorum.image,
    lifecycles,
    describeQuorum: () => quorum.describe(),
    appliedOffset: () => quorum.applied,
    nowMs: () => Date.now(),
    sessionTimeoutMs: config.brokerSessionTimeoutMs,
    logger,
  });
  const heartbeats = new BrokerHeartbeats({
    nodeId: config.nodeId,
    image: quorum.image,
    lifecycles,
    liveness,
    describeQuorum: () => quorum.describe(),
    appliedOffset: () => quorum.applied,
    logger,
  });
  let stopped = false;
  // Outside the applier's turn: the check waits for decisions, which wait for the applier.
  const checkSoon = () => {
    if (!stopped) setImmediate(() => void liveness.check());
  };
  quorum.onApplied(async (changes) => {
    if (changes.some((change) => change.kind === "broker-changed")) checkSoon();
  });
  const timer = setInterval(checkSoon, livenessCheckIntervalMs);
  timer.unref();
  return {
    lifecycles,
    liveness,
    heartbeats,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
