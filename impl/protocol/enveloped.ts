/**
 * A whole request or response as Envelope (58) carries it: the header and the
 * body, without the size prefix a frame on the socket has. Kafka forwards a
 * client's request to the controller this way and relays the answer as is.
 */
import { type ApiDefinition, contextFor, decodeResponse, encodeRequest } from "./api.ts";
import { readResponseHeader, responseHeaderIsFlexible, writeRequestHeader } from "./headers.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

export function encodeEnvelopedRequest<RequestInput>(
  api: ApiDefinition<unknown, RequestInput, unknown, unknown>,
  version: number,
  header: { correlationId: number; clientId: string | null },
  request: RequestInput,
): Buffer {
  const writer = new Writer();
  writeRequestHeader(
    writer,
    { apiKey: api.key, apiVersion: version, ...header },
    contextFor(api, version).flexible,
  );
  return Buffer.concat([writer.toBuffer(), encodeRequest(api, version, request).toBuffer()]);
}

/** The response in `bytes`, which must answer `correlationId`; throws DecodeError on bytes that do not decode. */
export function decodeEnvelopedResponse<Response>(
  api: ApiDefinition<unknown, unknown, Response, unknown>,
  version: number,
  correlationId: number,
  bytes: Buffer,
): Response {
  const reader = new Reader(bytes);
  const flexibleHeader = responseHeaderIsFlexible(api.key, contextFor(api, version).flexible);
  const answered = readResponseHeader(reader, flexibleHeader);
  if (answered !== correlationId) {
    throw new Error(
      `enveloped ${api.name} response answers correlation id ${answered}, not ${correlationId}`,
    );
  }
  return decodeResponse(api, version, bytes.subarray(reader.offset));
}
