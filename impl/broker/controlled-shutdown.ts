/**
 * A stopping node's controlled shutdown, as Kafka's brokers do it: before it
 * closes anything, it tells the controller it wants to shut down
 * (BrokerHeartbeat want_shut_down) and keeps serving while the controller
 * moves its leaderships to other ISR replicas, asking again every 50 ms until
 * the controller answers should_shut_down. Clients then find the new leaders
 * at once instead of waiting for this node's session to run out.
 *
 * The controller may be this node itself (its decision is made here), another
 * node (asked over the wire), or nowhere: with no quorum nothing can move, so
 * the node stops waiting once no controller has answered for a while, and in
 * any case at the configured timeout.
 */
import type { BrokerHeartbeats, HeartbeatReply, HeartbeatRequest } from "../controller/broker-heartbeats.ts";
import type { Logger } from "../log.ts";
import { ControllerQueueFullError, NotControllerError } from "../metadata/controller.ts";
import { brokerHeartbeatApi } from "../protocol/apis/broker-heartbeat.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import type { ControllerLink } from "./controller-link.ts";

/** Kafka's brokers ask again this soon while their leaderships are being moved. */
const askAgainMs = 50;
/** The BrokerHeartbeat version sent: v1, whose only addition (offline log dirs) this node never sets. */
const heartbeatVersion = 1;

export type ControlledShutdownOutcome =
  /** The controller let the node go: it leads nothing, and it is fenced. */
  | "granted"
  /** No controller answered for `unansweredGiveUpMs`: nothing could be moved. */
  | "no-controller"
  /** The controller kept the node waiting past the timeout. */
  | "timed-out"
  /** The controller does not know this incarnation: another registered since, or it was never registered. */
  | "not-registered"
  /** Stopped waiting on request (a second signal). */
  | "abandoned";

export interface ControlledShutdownOptions {
  nodeId: number;
  brokerEpoch: bigint;
  /** The metadata offset this node has applied. */
  appliedOffset(): number;
  controllerLink: Pick<ControllerLink, "isLocal" | "sendToController">;
  /** This node's own controller, for when it is the controller. */
  heartbeats: Pick<BrokerHeartbeats, "heartbeat">;
  /** How long one request may wait for its answer. */
  requestTimeoutMs: number;
  /** How long the whole shutdown may wait. */
  timeoutMs: number;
  /** How long it goes on with no controller answering at all. */
  unansweredGiveUpMs: number;
  /** Settles when waiting should stop at once. */
  abandon: Promise<void>;
  logger: Logger;
}

type Attempt = { answered: true; reply: HeartbeatReply } | { answered: false; why: string };

export async function shutDownControlled(
  options: ControlledShutdownOptions,
): Promise<ControlledShutdownOutcome> {
  const { logger } = options;
  const startedAt = performance.now();
  const deadline = startedAt + options.timeoutMs;
  let lastAnsweredAt = startedAt;
  let abandoned = false;
  void options.abandon.then(() => {
    abandoned = true;
  });
  logger.info(
    { brokerEpoch: String(options.brokerEpoch) },
    "controlled shutdown: asking the controller to move this node's leaderships",
  );
  for (;;) {
    if (abandoned) return "abandoned";
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) return "timed-out";
    const attempt = await Promise.race([
      ask(options, Math.min(options.requestTimeoutMs, remainingMs)),
      options.abandon.then((): null => null),
    ]);
    if (attempt === null) return "abandoned";
    if (attempt.answered) {
      lastAnsweredAt = performance.now();
      if (attempt.reply.kind === "stale") return "not-registered";
      if (attempt.reply.shouldShutDown) {
        logger.info({ waitedMs: Math.round(lastAnsweredAt - startedAt) }, "controlled shutdown granted");
        return "granted";
      }
    } else {
      logger.debug({ why: attempt.why }, "controlled shutdown: the controller did not answer");
      if (performance.now() - lastAnsweredAt >= options.unansweredGiveUpMs) return "no-controller";
    }
    await sleep(askAgainMs);
  }
}

/** One heartbeat to whoever is the controller now. */
async function ask(options: ControlledShutdownOptions, timeoutMs: number): Promise<Attempt> {
  const request: HeartbeatRequest = {
    brokerId: options.nodeId,
    brokerEpoch: options.brokerEpoch,
    currentMetadataOffset: BigInt(options.appliedOffset()),
    wantFence: false,
    wantShutDown: true,
  };
  if (options.controllerLink.isLocal()) return askHere(options, request, timeoutMs);
  const outcome = await options.controllerLink.sendToController(
    brokerHeartbeatApi,
    heartbeatVersion,
    { ...request, offlineLogDirs: [] },
    timeoutMs,
  );
  if (!outcome.ok) return { answered: false, why: outcome.errorMessage };
  const response = outcome.response;
  switch (response.errorCode) {
    case ErrorCode.NONE:
      return {
        answered: true,
        reply: {
          kind: "answered",
          isCaughtUp: response.isCaughtUp,
          isFenced: response.isFenced,
          shouldShutDown: response.shouldShutDown,
        },
      };
    case ErrorCode.STALE_BROKER_EPOCH:
      return { answered: true, reply: { kind: "stale", registeredEpoch: null } };
    default:
      return { answered: false, why: `the controller answered ${errorName(response.errorCode)}` };
  }
}

/** The decision on this node, when it is the controller; one that cannot commit in time is no answer. */
async function askHere(
  options: ControlledShutdownOptions,
  request: HeartbeatRequest,
  timeoutMs: number,
): Promise<Attempt> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Attempt>((resolve) => {
    timer = setTimeout(
      () => resolve({ answered: false, why: `no commit within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  // Never rejects: a decision still running when the race is lost must not fail unobserved.
  const decided = options.heartbeats.heartbeat(request).then(
    (reply): Attempt => ({ answered: true, reply }),
    (error: unknown): Attempt => {
      if (!(error instanceof NotControllerError || error instanceof ControllerQueueFullError)) {
        options.logger.warn({ err: error }, "controlled shutdown: this node's controller failed to decide");
      }
      return { answered: false, why: (error as Error).message };
    },
  );
  try {
    return await Promise.race([decided, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
