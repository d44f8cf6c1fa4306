/**
 * Routes a request frame to the handler of its API: parses the header,
 * checks the version against what this broker serves, decodes the body with
 * the API's grammar, and encodes the handler's answer with the right
 * response header.
 */
import type { Logger } from "../log.ts";
import { type AnyApi, type ApiDefinition, contextFor, supports } from "../protocol/api.ts";
import { apiVersionsApi } from "../protocol/apis/api-versions.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import {
  type RequestHeader,
  readRequestHeaderStart,
  responseHeaderIsFlexible,
  skipHeaderTaggedFields,
  writeResponseHeader,
} from "../protocol/headers.ts";
import { type DecodeLimits, Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import type { FrameHandler, RequestSequencing } from "./connection.ts";

export interface HandlerContext extends RequestSequencing {
  header: RequestHeader;
  version: number;
  peer: string;
  /** The request came inside an Envelope from another node: it is answered here, never forwarded again. */
  forwarded: boolean;
}

/** A handler returns the response, or null when the protocol sends none (produce with acks=0). */
export type Handler<Request, ResponseInput> = (
  request: Request,
  context: HandlerContext,
) => ResponseInput | null | Promise<ResponseInput | null>;

interface Registration {
  api: AnyApi;
  handler: Handler<unknown, unknown>;
  servedBeforeOpen: boolean;
}

export interface RegistrationOptions {
  /**
   * Served while the node is still starting: the quorum's own traffic (votes,
   * metadata fetches, registrations), without which the node never finishes
   * starting. A handler registered so waits itself for what needs the node open.
   */
  servedBeforeOpen?: boolean;
}

export class Dispatcher implements FrameHandler {
  private readonly registrations = new Map<number, Registration>();

  constructor(
    private readonly decodeLimits: DecodeLimits,
    private readonly logger: Logger,
    /** Requests are held until this resolves (the node has finished starting), but for those served before. */
    private readonly open: Promise<void> = Promise.resolve(),
  ) {}

  register<Request, RequestInput, Response, ResponseInput>(
    api: ApiDefinition<Request, RequestInput, Response, ResponseInput>,
    handler: Handler<Request, ResponseInput>,
    options: RegistrationOptions = {},
  ): void {
    if (this.registrations.has(api.key)) throw new Error(`API ${api.name} registered twice`);
    this.registrations.set(api.key, {
      api,
      handler: handler as Handler<unknown, unknown>,
      servedBeforeOpen: options.servedBeforeOpen ?? false,
    });
  }

  /** The APIs served, for ApiVersions: only what has a handler, never an API this broker lacks. */
  supportedApis(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return [...this.registrations.values()]
      .map(({ api }) => ({ apiKey: api.key, minVersion: api.versionMin, maxVersion: api.versionMax }))
      .sort((left, right) => left.apiKey - right.apiKey);
  }

  async handle(
    frame: Buffer,
    peer: string,
    sequencing: RequestSequencing,
    forwarded = false,
  ): Promise<Buffer[] | null> {
    const reader = new Reader(frame, 0, frame.length, this.decodeLimits);
    const header = readRequestHeaderStart(reader);
    const registration = this.registrations.get(header.apiKey);
    if (!registration?.servedBeforeOpen) await this.open;
    if (!registration || !supports(registration.api, header.apiVersion)) {
      return this.unsupported(header, peer, registration?.api);
    }
    const { api, handler } = registration;
    const context = contextFor(api, header.apiVersion);
    if (context.flexible) skipHeaderTaggedFields(reader);
    const request = api.request.read(reader, context, false);
    const response = await handler(request, {
      ...sequencing,
      header,
      version: header.apiVersion,
      peer,
      forwarded,
    });
    if (response === null) return null;
    const writer = new Writer();
    writeResponseHeader(writer, header.correlationId, responseHeaderIsFlexible(api.key, context.flexible));
    api.response.write(writer, response, context, false);
    return writer.toChunks();
  }

  /**
   * Kafka answers a version it does not serve with UNSUPPORTED_VERSION in the
   * ApiVersions v0 layout (header v0), listing what it does serve, so that
   * any client can read it whatever API it asked for.
   */
  private unsupported(header: RequestHeader, peer: string, api: AnyApi | undefined): Buffer[] {
    this.logger.warn(
      { peer, apiKey: header.apiKey, apiVersion: header.apiVersion, clientId: header.clientId },
      api
        ? `unsupported version ${header.apiVersion} of ${api.name}`
        : `unsupported API key ${header.apiKey}`,
    );
    const writer = new Writer();
    writeResponseHeader(writer, header.correlationId, false);
    apiVersionsApi.response.write(
      writer,
      { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: this.supportedApis() },
      contextFor(apiVersionsApi, 0),
      false,
    );
    return writer.toChunks();
  }
}
