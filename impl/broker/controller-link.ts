/**
 * How a node reaches the controller (the leader of the metadata quorum) when
 * it is not the controller itself: a client's metadata change is wrapped in an
 * Envelope (58) and sent to the leader as Kafka forwards it; the node answers
 * the client only once its own image has caught up with what the leader had
 * committed when it answered, so a Metadata request to this node right after
 * sees the change.
 *
 * A leader that moves while a request is on its way answers NOT_CONTROLLER
 * (or the connection fails); the link then waits for the next leader and sends
 * again, until the caller's deadline.
 */
import { isPeerFailure } from "../cluster/peer-errors.ts";
import type { PeerPool } from "../cluster/peer-pool.ts";
import type { Logger } from "../log.ts";
import { metadataTopicName } from "../metadata/internal-topics.ts";
import type { ApiDefinition } from "../protocol/api.ts";
import { describeQuorumApi } from "../protocol/apis/describe-quorum.ts";
import { envelopeApi } from "../protocol/apis/envelope.ts";
import { decodeEnvelopedResponse, encodeEnvelopedRequest } from "../protocol/enveloped.ts";
import { ErrorCode, errorName } from "../protocol/error-codes.ts";
import type { LeadershipView, MetadataQuorum } from "./metadata-quorum.ts";

/** The answer the controller gave, or why there is none. */
export type ForwardOutcome<Response> =
  | { ok: true; response: Response }
  | { ok: false; errorCode: number; errorMessage: string };

/** A wait between attempts when the controller is unreachable, so a dead leader is not hammered. */
const retryBackoffMs = 50;
/** The IPv4 loopback address: the Envelope's client address when the request is this node's own. */
const ownHostAddress = Buffer.from([127, 0, 0, 1]);

export class ControllerLink {
  private correlationId = 0;

  constructor(
    private readonly nodeId: number,
    private readonly quorum: MetadataQuorum,
    /** Connections to the other nodes for controller traffic, apart from the quorum's own long polls. */
    private readonly pool: PeerPool,
    private readonly logger: Logger,
  ) {}

  /** True when this node is the controller now; a decision may still find it has lost the role since. */
  isLocal(): boolean {
    return this.quorum.controllerId === this.nodeId;
  }

  /**
   * Sends the request to the controller inside an Envelope and resolves with
   * its answer, once this node has applied what the controller had committed.
   * Resolves `{ ok: false, errorCode: NOT_CONTROLLER }` as soon as this node
   * becomes the controller itself (the caller then decides locally), and
   * REQUEST_TIMED_OUT at the deadline.
   */
  async forward<Response, RequestInput>(
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
    options: {
      clientId: string | null;
      clientAddress: Buffer | null;
      timeoutMs: number;
      /** Wait for this node's image to hold what the controller had committed (false for reads). */
      catchUp: boolean;
    },
  ): Promise<ForwardOutcome<Response>> {
    const deadline = performance.now() + options.timeoutMs;
    let lastProblem = "no controller is known";
    for (;;) {
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) {
        return {
          ok: false,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage: `The controller did not answer within ${options.timeoutMs} ms: ${lastProblem}.`,
        };
      }
      const view = await this.leaderWithin(remainingMs);
      if (view === null) continue;
      const leaderId = view.leaderId!;
      if (leaderId === this.nodeId) {
        return {
          ok: false,
          errorCode: ErrorCode.NOT_CONTROLLER,
          errorMessage: "This node is the controller.",
        };
      }
      const correlationId = this.nextCorrelationId();
      try {
        const envelope = await this.pool.send(
          leaderId,
          envelopeApi,
          0,
          {
            requestData: encodeEnvelopedRequest(
              api,
              version,
              { correlationId, clientId: options.clientId },
              request,
            ),
            requestPrincipal: null,
            clientHostAddress: options.clientAddress ?? ownHostAddress,
          },
          { timeoutMs: remainingMs },
        );
        if (envelope.errorCode === ErrorCode.NOT_CONTROLLER) {
          lastProblem = `node ${leaderId} is no longer the controller`;
          await this.leadershipMoved(view, deadline);
          continue;
        }
        if (envelope.errorCode !== ErrorCode.NONE || envelope.responseData === null) {
          return {
            ok: false,
            errorCode:
              envelope.errorCode === ErrorCode.NONE ? ErrorCode.UNKNOWN_SERVER_ERROR : envelope.errorCode,
            errorMessage: `The controller (node ${leaderId}) refused the forwarded ${api.name}: ${errorName(envelope.errorCode)}.`,
          };
        }
        const response = decodeEnvelopedResponse(api, version, correlationId, envelope.responseData);
        if (options.catchUp) await this.catchUpWith(leaderId, deadline);
        return { ok: true, response };
      } catch (error) {
        if (!isPeerFailure(error)) throw error;
        lastProblem = `node ${leaderId}: ${error.message}`;
        this.logger.debug(
          { controllerId: leaderId, err: error },
          "forwarding to the controller failed; retrying",
        );
        await sleep(Math.min(retryBackoffMs, Math.max(0, deadline - performance.now())));
      }
    }
  }

  /**
   * Sends a request the controller answers itself, as it stands, to the
   * controller this node knows (Kafka's brokers send AllocateProducerIds so,
   * not in an Envelope). One attempt: NOT_CONTROLLER when this node is the
   * controller (the caller decides locally), REQUEST_TIMED_OUT when no
   * controller is known in time, NETWORK_EXCEPTION when it cannot be
   * reached; the response's own error codes are the caller's to read.
   */
  async sendToController<Response, RequestInput>(
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
    timeoutMs: number,
  ): Promise<ForwardOutcome<Response>> {
    const deadline = performance.now() + timeoutMs;
    const view = await withDeadline(this.quorum.whenLeaderKnown(), deadline);
    if (view === null) {
      return {
        ok: false,
        errorCode: ErrorCode.REQUEST_TIMED_OUT,
        errorMessage: `No controller became known within ${timeoutMs} ms.`,
      };
    }
    const leaderId = view.leaderId!;
    if (leaderId === this.nodeId) {
      return { ok: false, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: "This node is the controller." };
    }
    try {
      const remainingMs = Math.max(1, deadline - performance.now());
      const response = await this.pool.send(leaderId, api, version, request, { timeoutMs: remainingMs });
      return { ok: true, response };
    } catch (error) {
      if (!isPeerFailure(error)) throw error;
      return {
        ok: false,
        errorCode: ErrorCode.NETWORK_EXCEPTION,
        errorMessage: `The controller (node ${leaderId}) could not be reached: ${error.message}`,
      };
    }
  }

  /**
   * Waits until this node's image holds what the leader had committed when it
   * answered: the leader's high watermark now is at least that. When the
   * leader cannot say (it moved on, or is gone), the answer stands as the
   * controller gave it; this node applies the change when its fetch brings it.
   */
  private async catchUpWith(leaderId: number, deadline: number): Promise<void> {
    try {
      const described = await this.pool.send(
        leaderId,
        describeQuorumApi,
        1,
        { topics: [{ topicName: metadataTopicName, partitions: [{ partitionIndex: 0 }] }] },
        { timeoutMs: Math.max(1, deadline - performance.now()) },
      );
      const partition = described.topics[0]?.partitions[0];
      if (partition === undefined || partition.errorCode !== ErrorCode.NONE) return;
      const highWatermark = Number(partition.highWatermark);
      await withDeadline(this.quorum.whenApplied(highWatermark), deadline);
    } catch (error) {
      if (!isPeerFailure(error)) throw error;
      this.logger.debug(
        { controllerId: leaderId, err: error },
        "could not read the controller's commit point",
      );
    }
  }

  private async leaderWithin(remainingMs: number): Promise<LeadershipView | null> {
    return withDeadline(this.quorum.whenLeaderKnown(), performance.now() + remainingMs);
  }

  private async leadershipMoved(view: LeadershipView, deadline: number): Promise<void> {
    await withDeadline(this.quorum.whenLeadershipChanges(view), deadline);
  }

  private nextCorrelationId(): number {
    this.correlationId = (this.correlationId + 1) & 0x7fffffff;
    return this.correlationId;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The promise's value, or null once the deadline (performance.now() ms) passes. */
async function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | null> {
  const remaining = deadline - performance.now();
  if (remaining <= 0) return null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), remaining);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
