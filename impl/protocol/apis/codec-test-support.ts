/**
 * Support shared by the codec tests (the API grammars here and the metadata
 * records): arbitraries for the wire types, generators that put values in the
 * fields a version cannot carry, and the round-trip and truncation checks.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { type ApiDefinition, contextFor, decodeRequest, encodeRequest, encodeResponse } from "../api.ts";
import { DecodeError, Reader } from "../reader.ts";

/** The hex of a string's UTF-8 bytes, for writing fixtures. */
export const utf8 = (value: string) => Buffer.from(value, "utf8").toString("hex");

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const text = fc.string({ unit: "grapheme", maxLength: 20 });
const nullable = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null });
const uint16 = fc.integer({ min: 0, max: 0xffff });

/**
 * Arbitraries for the wire types, as `fc` holds fast-check's own:
 * `wire.int32` is any value of a field(int32).
 */
export const wire = {
  int8: fc.integer({ min: -0x80, max: 0x7f }),
  int16: fc.integer({ min: -0x8000, max: 0x7fff }),
  uint16,
  int32,
  int64: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  /** A UUID as the grammar holds it: 32 hex digits. */
  uuid: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes).toString("hex")),
  /** Up to 20 graphemes, multi-byte ones included. */
  text,
  nullableText: nullable(text),
  /** Stands in for record batches: the grammar carries records as opaque bytes. */
  recordBytes: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  /** Up to 10 elements, fast-check's default bound for arrays. */
  list: <T>(element: fc.Arbitrary<T>) => fc.array(element, { maxLength: 10 }),
  nullable,
  /** Kafka's common LeaderIdAndEpoch, as Produce and Fetch name a partition's new leader. */
  leaderIdAndEpoch: fc.record({ leaderId: int32, leaderEpoch: int32 }),
  /** Kafka's common NodeEndpoint, as Produce and Fetch tell a client where a new leader listens. */
  nodeEndpoint: fc.record({ nodeId: int32, host: text, port: int32, rack: nullable(text) }),
  /** The Raft quorum APIs' shapes (quorum-shapes.ts): UINT16 ports, topics around partitions. */
  quorumListener: fc.record({ name: text, host: text, port: uint16 }),
  quorumNodeEndpoint: fc.record({ nodeId: int32, host: text, port: uint16 }),
  quorumTopics: <T>(partition: fc.Arbitrary<T>) =>
    fc.array(fc.record({ topicName: text, partitions: fc.array(partition, { maxLength: 10 }) }), {
      maxLength: 10,
    }),
};

/** A value the version cannot carry: the caller sends `sent`, and decoding gives back `kept`. */
class Dropped {
  constructor(
    readonly sent: unknown,
    readonly kept: unknown,
  ) {}
}

/**
 * Any value where the version carries the field. Elsewhere the caller still
 * sends one, which must not reach the wire: decoding gives back `absent`.
 */
export function carried<T>(inVersion: boolean, arbitrary: fc.Arbitrary<T>, absent: T): fc.Arbitrary<T> {
  return inVersion ? arbitrary : arbitrary.map((sent) => new Dropped(sent, absent) as unknown as T);
}

/** Null where the version allows it; elsewhere a null is written as the empty value. */
export function nullableWhen<T>(
  nullableInVersion: boolean,
  arbitrary: fc.Arbitrary<T>,
  empty: T,
): fc.Arbitrary<T | null> {
  const value = nullable(arbitrary);
  return nullableInVersion
    ? value
    : value.map((sent) => (sent === null ? (new Dropped(null, empty) as unknown as T) : sent));
}

/** The message as a caller sends it, or as decoding must give it back. */
function side<T>(message: T, which: "sent" | "kept"): T {
  const pick = (value: unknown): unknown => {
    if (value instanceof Dropped) return pick(value[which]);
    if (Array.isArray(value)) return value.map(pick);
    if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
      return Object.fromEntries(Object.entries(value).map(([name, field]) => [name, pick(field)]));
    }
    return value;
  };
  return pick(message) as T;
}

/** The versions a grammar covers; an API definition is one. */
export interface VersionSpan {
  readonly versionMin: number;
  readonly versionMax: number;
}

/** A message in one version: what a caller sends, and what decoding must give back. */
export interface Versioned<T> {
  readonly version: number;
  readonly sent: T;
  readonly kept: T;
}

/** A message of `messageIn(version)` for any version in the span, split into what is sent and what is kept. */
export function versioned<T>(
  span: VersionSpan,
  messageIn: (version: number) => fc.Arbitrary<T>,
): fc.Arbitrary<Versioned<T>> {
  return fc.integer({ min: span.versionMin, max: span.versionMax }).chain((version) =>
    messageIn(version).map((message) => ({
      version,
      sent: side(message, "sent"),
      kept: side(message, "kept"),
    })),
  );
}

/** One kind of frame, in one version. `decode` reads the whole frame, or throws. */
export interface Codec<Input, Output = unknown> {
  encode(message: Input): Buffer;
  decode(bytes: Buffer): Output;
}

/** Reads one message from the frame and expects no bytes left after it. */
function readWhole<T>(bytes: Buffer, what: string, read: (reader: Reader) => T): T {
  const reader = new Reader(bytes);
  const message = read(reader);
  expect(reader.remaining, `bytes left after the ${what}`).toBe(0);
  return message;
}

/** An API's requests in `version`; decoding also expects every byte of the frame read. */
export function requests<Request, RequestInput>(
  api: ApiDefinition<Request, RequestInput, unknown, unknown>,
  version: number,
): Codec<RequestInput, Request> {
  return {
    encode: (request) => encodeRequest(api, version, request).toBuffer(),
    decode: (bytes) => readWhole(bytes, "request", (reader) => decodeRequest(api, version, reader)),
  };
}

/** An API's responses in `version`; decoding also expects every byte of the frame read. */
export function responses<Response, ResponseInput>(
  api: ApiDefinition<unknown, unknown, Response, ResponseInput>,
  version: number,
): Codec<ResponseInput, Response> {
  return {
    encode: (response) => encodeResponse(api, version, response).toBuffer(),
    // What decodeResponse does, on a reader kept here so leftover bytes show.
    decode: (bytes) =>
      readWhole(bytes, "response", (reader) => api.response.read(reader, contextFor(api, version), false)),
  };
}

/** Encoding what the caller sends and decoding it gives back what the version keeps. */
export function expectRoundTrip<Input>(
  codec: Codec<Input>,
  message: { readonly sent: NoInfer<Input>; readonly kept: unknown },
): void {
  expect(codec.decode(codec.encode(message.sent))).toEqual(message.kept);
}

/** Every strict prefix of the frame, down to no bytes at all, is refused with a DecodeError. */
export function expectEveryTruncationRefused(codec: Codec<never>, hex: string): void {
  const bytes = Buffer.from(hex, "hex");
  for (let length = 0; length < bytes.length; length++) {
    const truncated = bytes.subarray(0, length);
    expect(() => codec.decode(truncated)).toThrow(DecodeError);
  }
}

/** The frame of `message`, cut to `cut` modulo its length, is refused with a DecodeError. */
export function expectTruncationRefused<Input>(
  codec: Codec<Input>,
  message: NoInfer<Input>,
  cut: number,
): void {
  const bytes = codec.encode(message);
  if (bytes.length === 0) return; // no fields in this version: there is no shorter frame
  const truncated = bytes.subarray(0, cut % bytes.length);
  expect(() => codec.decode(truncated)).toThrow(DecodeError);
}

/**
 * Requests and responses in every version the API serves round-trip, the
 * fields a version cannot carry decoding to their defaults.
 */
export function assertRoundTrips<RequestInput, ResponseInput>(
  api: ApiDefinition<unknown, RequestInput, unknown, ResponseInput>,
  requestIn: (version: number) => fc.Arbitrary<NoInfer<RequestInput>>,
  responseIn: (version: number) => fc.Arbitrary<NoInfer<ResponseInput>>,
): void {
  fc.assert(
    fc.property(versioned(api, requestIn), versioned(api, responseIn), (request, response) => {
      expectRoundTrip(requests(api, request.version), request);
      expectRoundTrip(responses(api, response.version), response);
    }),
  );
}

/** Hand-written frames, their hex by version. */
export interface Frames {
  readonly requests?: Readonly<Record<number, string>>;
  readonly responses?: Readonly<Record<number, string>>;
}

/**
 * Frames cut short are refused with a DecodeError: every prefix of each
 * hand-written frame, and a random prefix of requests and responses in every
 * version the API serves.
 */
export function assertTruncationsRefused<RequestInput, ResponseInput>(
  api: ApiDefinition<unknown, RequestInput, unknown, ResponseInput>,
  requestIn: (version: number) => fc.Arbitrary<NoInfer<RequestInput>>,
  responseIn: (version: number) => fc.Arbitrary<NoInfer<ResponseInput>>,
  frames: Frames = {},
): void {
  for (const [version, hex] of Object.entries(frames.requests ?? {})) {
    expectEveryTruncationRefused(requests(api, Number(version)), hex);
  }
  for (const [version, hex] of Object.entries(frames.responses ?? {})) {
    expectEveryTruncationRefused(responses(api, Number(version)), hex);
  }
  fc.assert(
    fc.property(versioned(api, requestIn), versioned(api, responseIn), fc.nat(), (request, response, cut) => {
      expectTruncationRefused(requests(api, request.version), request.sent, cut);
      expectTruncationRefused(responses(api, response.version), response.sent, cut);
    }),
  );
}

/**
 * The two properties every API's codec test states, as tests of the
 * enclosing describe: requests and responses round-trip in every version the
 * API serves, and frames cut short are refused (see the assertions above).
 */
export function testCodecProperties<RequestInput, ResponseInput>(
  api: ApiDefinition<unknown, RequestInput, unknown, ResponseInput>,
  requestIn: (version: number) => fc.Arbitrary<NoInfer<RequestInput>>,
  responseIn: (version: number) => fc.Arbitrary<NoInfer<ResponseInput>>,
  frames: Frames = {},
): void {
  it("round-trips every version, dropping what a version cannot carry", () => {
    assertRoundTrips(api, requestIn, responseIn);
  });

  it("throws DecodeError on a truncated frame", () => {
    assertTruncationsRefused(api, requestIn, responseIn, frames);
  });
}
