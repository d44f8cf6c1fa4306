/**
 * One request on its way to a peer: encoded when accepted, framed with its
 * header when written, and its response checked against it when it arrives.
 */
import { type ApiDefinition, contextFor, decodeResponse, encodeRequest } from "../protocol/api.ts";
import { frameSizeBytes } from "../protocol/frames.ts";
import { readResponseHeader, responseHeaderIsFlexible, writeRequestHeader } from "../protocol/headers.ts";
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import type { PeerError } from "./peer-errors.ts";
import type { ScheduledTask } from "./peer-options.ts";

export interface PendingRequest {
  /** "Vote v0", for errors and logs. */
  readonly description: string;
  readonly apiKey: number;
  readonly version: number;
  readonly flexibleRequest: boolean;
  /** The encoded body; dropped once written so a long wait for the answer holds no request bytes. */
  body: Buffer[];
  readonly bodyBytes: number;
  readonly decode: (bytes: Buffer) => unknown;
  readonly resolve: (response: unknown) => void;
  readonly reject: (error: PeerError) => void;
  timer: ScheduledTask | undefined;
  /** Assigned when written; -1 before. */
  correlationId: number;
  stage: "waiting" | "inFlight" | "settled";
}

/** Encodes the body now, so an input the grammar cannot write throws at the caller and not on the socket. */
export function pendingRequest<Response, RequestInput>(
  api: ApiDefinition<unknown, RequestInput, Response, unknown>,
  version: number,
  request: RequestInput,
  resolve: (response: Response) => void,
  reject: (error: PeerError) => void,
): PendingRequest {
  const body = encodeRequest(api, version, request);
  return {
    description: `${api.name} v${version}`,
    apiKey: api.key,
    version,
    flexibleRequest: contextFor(api, version).flexible,
    body: body.toChunks(),
    bodyBytes: body.length,
    decode: (bytes) => decodeResponse(api, version, bytes),
    resolve: resolve as (response: unknown) => void,
    reject,
    timer: undefined,
    correlationId: -1,
    stage: "waiting",
  };
}

/** The chunks to write: size prefix, request header (v1, or v2 when flexible), body. */
export function requestFrame(pending: PendingRequest, correlationId: number, clientId: string): Buffer[] {
  const header = new Writer();
  writeRequestHeader(
    header,
    { apiKey: pending.apiKey, apiVersion: pending.version, correlationId, clientId },
    pending.flexibleRequest,
  );
  const headerChunks = header.toChunks();
  const prefix = Buffer.allocUnsafe(frameSizeBytes);
  prefix.writeInt32BE(header.length + pending.bodyBytes, 0);
  return [prefix, ...headerChunks, ...pending.body];
}

/**
 * The decoded response, if `frame` answers `pending`; throws when it carries
 * another correlation id or does not decode. The header is v1 when the
 * request was flexible, except for ApiVersions, whose response header is v0.
 */
export function decodeResponseFrame(pending: PendingRequest, frame: Buffer): unknown {
  const reader = new Reader(frame);
  const flexibleHeader = responseHeaderIsFlexible(pending.apiKey, pending.flexibleRequest);
  const correlationId = readResponseHeader(reader, flexibleHeader);
  if (correlationId !== pending.correlationId) {
    throw new Error(
      `response has correlation id ${correlationId} but ${pending.description} (correlation id ${pending.correlationId}) is next`,
    );
  }
  return pending.decode(frame.subarray(reader.offset));
}
