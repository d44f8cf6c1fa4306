/**
 * What AddRaftVoter and RemoveRaftVoter share: the controller asks its quorum
 * to change the voter set and answers once the change is committed, refused,
 * or out of time. On another node the request is forwarded to the controller
 * (at-controller.ts), as Kafka's brokers forward them.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { NotControllerError } from "../../metadata/controller.ts";
import { ErrorCode, errorName } from "../../protocol/error-codes.ts";
import type { HandlerContext } from "../dispatcher.ts";

export interface VoterChangeAnswer {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
}

export function voterChangeRefusal(
  _request: unknown,
  _context: HandlerContext,
  errorCode: number,
  errorMessage: string,
): VoterChangeAnswer {
  return { throttleTimeMs: 0, errorCode, errorMessage };
}

/** The request's cluster id, when it names one, must be this cluster's. */
export function clusterMismatch(
  services: BrokerServices,
  clusterId: string | null,
): VoterChangeAnswer | null {
  if (clusterId === null || clusterId === services.clusterId) return null;
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID,
    errorMessage: `This is cluster ${services.clusterId}, not ${clusterId}.`,
  };
}

export async function changeVoters(
  services: BrokerServices,
  kind: "add" | "remove",
  nodeId: number,
  timeoutMs: number,
): Promise<VoterChangeAnswer> {
  if (!services.controllerLink.isLocal()) {
    throw new NotControllerError(services.quorum.controllerId, `${kind} voter ${nodeId}`);
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([services.quorum.changeVoters(kind, nodeId), timedOut]);
    if (outcome === "timeout") {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.REQUEST_TIMED_OUT,
        errorMessage: `The voter change was not committed within ${timeoutMs} ms.`,
      };
    }
    const errorCode = ErrorCode[outcome];
    services.logger.info({ kind, nodeId, outcome }, "voter change answered");
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: errorCode === ErrorCode.NONE ? null : explain(kind, nodeId, outcome),
    };
  } finally {
    clearTimeout(timer);
  }
}

function explain(kind: "add" | "remove", nodeId: number, outcome: string): string {
  switch (outcome) {
    case "DUPLICATE_VOTER":
      return `Node ${nodeId} is already a voter.`;
    case "VOTER_NOT_FOUND":
      return `Node ${nodeId} is not a voter, or is the last one.`;
    case "REQUEST_TIMED_OUT":
      return kind === "add"
        ? `Node ${nodeId} is not caught up with the metadata log yet, or another voter change is in flight, or this leader has not committed in its epoch yet; retry.`
        : "Another voter change is in flight, or this leader has not committed in its epoch yet; retry.";
    default:
      return errorName(ErrorCode[outcome as keyof typeof ErrorCode]);
  }
}
