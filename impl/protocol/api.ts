/**
 * An API's definition: its key, the versions Chronik serves, where flexible
 * versions begin, and the request and response grammars. The server routes by
 * key, checks the version against this range, and decodes with the grammar.
 */
import { Reader } from "./reader.ts";
import type { Context, WireType } from "./schema.ts";
import { Writer } from "./writer.ts";

export interface ApiDefinition<Request, RequestInput, Response, ResponseInput> {
  readonly key: number;
  readonly name: string;
  /** Lowest and highest versions this broker serves (may be narrower than Kafka's). */
  readonly versionMin: number;
  readonly versionMax: number;
  /** First flexible version (KIP-482); Infinity when the API has none. */
  readonly flexibleMin: number;
  readonly request: WireType<Request, RequestInput>;
  readonly response: WireType<Response, ResponseInput>;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry of heterogeneous APIs
export type AnyApi = ApiDefinition<any, any, any, any>;

export function defineApi<Request, RequestInput, Response, ResponseInput>(
  definition: ApiDefinition<Request, RequestInput, Response, ResponseInput>,
): ApiDefinition<Request, RequestInput, Response, ResponseInput> {
  return definition;
}

export function contextFor(api: AnyApi, version: number): Context {
  return { version, flexible: version >= api.flexibleMin };
}

export function supports(api: AnyApi, version: number): boolean {
  return version >= api.versionMin && version <= api.versionMax;
}

export function encodeRequest<RequestInput>(
  api: ApiDefinition<unknown, RequestInput, unknown, unknown>,
  version: number,
  request: RequestInput,
  writer: Writer = new Writer(),
): Writer {
  api.request.write(writer, request, contextFor(api, version), false);
  return writer;
}

export function decodeRequest<Request>(
  api: ApiDefinition<Request, unknown, unknown, unknown>,
  version: number,
  reader: Reader,
): Request {
  return api.request.read(reader, contextFor(api, version), false);
}

export function encodeResponse<ResponseInput>(
  api: ApiDefinition<unknown, unknown, unknown, ResponseInput>,
  version: number,
  response: ResponseInput,
  writer: Writer = new Writer(),
): Writer {
  api.response.write(writer, response, contextFor(api, version), false);
  return writer;
}

export function decodeResponse<Response>(
  api: ApiDefinition<unknown, unknown, Response, unknown>,
  version: number,
  bytes: Buffer,
): Response {
  return api.response.read(new Reader(bytes), contextFor(api, version), false);
}
