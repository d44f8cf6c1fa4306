/**
 * Request and response headers.
 *
 * RequestHeader v0 => api_key INT16, api_version INT16, correlation_id INT32
 * RequestHeader v1 => v0 + client_id NULLABLE_STRING
 * RequestHeader v2 => v1 + TAG_BUFFER            (client_id stays a classic string)
 * ResponseHeader v0 => correlation_id INT32
 * ResponseHeader v1 => v0 + TAG_BUFFER
 *
 * Flexible request versions use header v2 and flexible responses header v1,
 * except ApiVersions, whose response header is always v0.
 */
import { DecodeError, type Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export const apiVersionsKey = 18;

/** Reads header v1 fields; the caller decides afterwards whether a v2 tag buffer follows. */
export function readRequestHeaderStart(reader: Reader): RequestHeader {
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.nullableString();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Skips the header v2 tag buffer; the header defines no tagged fields we use. */
export function skipHeaderTaggedFields(reader: Reader): void {
  const count = reader.arrayLength(reader.unsignedVarint(), 2);
  for (let index = 0; index < count; index++) {
    reader.unsignedVarint();
    reader.skip(reader.unsignedVarint());
  }
}

export function writeRequestHeader(writer: Writer, header: RequestHeader, flexible: boolean): void {
  writer
    .int16(header.apiKey)
    .int16(header.apiVersion)
    .int32(header.correlationId)
    .nullableString(header.clientId);
  if (flexible) writer.unsignedVarint(0);
}

export function responseHeaderIsFlexible(apiKey: number, flexibleRequest: boolean): boolean {
  return flexibleRequest && apiKey !== apiVersionsKey;
}

export function writeResponseHeader(writer: Writer, correlationId: number, flexible: boolean): void {
  writer.int32(correlationId);
  if (flexible) writer.unsignedVarint(0);
}

export function readResponseHeader(reader: Reader, flexible: boolean): number {
  const correlationId = reader.int32();
  if (flexible) skipHeaderTaggedFields(reader);
  return correlationId;
}

export { DecodeError };
