/**
 * ApiVersions: exactly the APIs that have a handler, with the versions served.
 * No features are advertised, so the finalized-features epoch stays -1.
 */
import type { BrokerServices } from "../../broker/services.ts";
import type { apiVersionsApi } from "../../protocol/apis/api-versions.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof apiVersionsApi.request.read>;
type Response = InferInput<typeof apiVersionsApi.response>;

/** KIP-511: names and versions of client software are limited to these characters. */
const softwareIdentifier = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export function apiVersionsHandler(services: BrokerServices): Handler<Request, Response> {
  return (request, context) => {
    context.releaseNext();
    const invalid =
      context.version >= 3 &&
      (!softwareIdentifier.test(request.clientSoftwareName) ||
        !softwareIdentifier.test(request.clientSoftwareVersion));
    return {
      errorCode: invalid ? ErrorCode.INVALID_REQUEST : ErrorCode.NONE,
      apiKeys: services.supportedApis(),
      throttleTimeMs: 0,
    };
  };
}
