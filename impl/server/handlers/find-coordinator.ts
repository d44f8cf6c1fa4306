/**
 * FindCoordinator: where a group's coordinator is (impl/groups/coordinator-lookup.ts).
 * Versions 0-3 ask for one key and get one answer; v4 asks for many keys of
 * one type and answers each. Only group keys are served: this broker has no
 * transaction coordinator, so a transactional id is INVALID_REQUEST, as a
 * Kafka broker answers a coordinator type it does not run.
 */
import type { CoordinatorLocator, CoordinatorLookup } from "../../groups/coordinator-lookup.ts";
import type { findCoordinatorApi } from "../../protocol/apis/find-coordinator.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof findCoordinatorApi.request.read>;
type Response = InferInput<typeof findCoordinatorApi.response>;

const groupKeyType = 0;
const firstBatchedVersion = 4;
const noNode = { nodeId: -1, host: "", port: -1 };

function lookup(locator: CoordinatorLocator, keyType: number, key: string): CoordinatorLookup {
  if (keyType !== groupKeyType) {
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Coordinator key type ${keyType} is not served: this broker coordinates consumer groups only.`,
    };
  }
  return locator.find(key);
}

function answer(found: CoordinatorLookup) {
  return found.errorCode === ErrorCode.NONE && "nodeId" in found
    ? {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        nodeId: found.nodeId,
        host: found.host,
        port: found.port,
      }
    : {
        ...noNode,
        errorCode: found.errorCode,
        errorMessage: "errorMessage" in found ? found.errorMessage : null,
      };
}

export function findCoordinatorHandler(locator: CoordinatorLocator): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    if (context.version >= firstBatchedVersion) {
      return {
        throttleTimeMs: 0,
        coordinators: request.coordinatorKeys.map((key) => ({
          key,
          ...answer(lookup(locator, request.keyType, key)),
        })),
      };
    }
    return { throttleTimeMs: 0, ...answer(lookup(locator, request.keyType, request.key)) };
  };
}
