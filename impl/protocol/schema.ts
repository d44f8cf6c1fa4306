/**
 * A small declarative grammar for Kafka messages.
 *
 * Each API file declares its request and response as a tree of fields with the
 * versions in which they exist, are nullable, or are tagged; this module reads
 * and writes that tree for any version. Flexible versions (KIP-482) switch
 * strings, bytes and arrays to their compact forms and add tagged fields to
 * every struct. Fields absent from a version decode to their default, so the
 * handlers see one shape for every version.
 */
import { DecodeError, Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** "3+" → 3..∞, "0-4" → 0..4, "none" → empty. */
export function versionRange(text: string): VersionRange {
  if (text === "none") return { min: 1, max: 0 };
  const open = /^(\d+)\+$/.exec(text);
  if (open) return { min: Number(open[1]), max: Number.POSITIVE_INFINITY };
  const closed = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!closed) throw new Error(`bad version range ${text}`);
  const min = Number(closed[1]);
  return { min, max: closed[2] === undefined ? min : Number(closed[2]) };
}

export function inRange(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max;
}

export interface Context {
  readonly version: number;
  readonly flexible: boolean;
}

/** A wire type: how a value of type T is read, and how an input of type I is written. */
export interface WireType<T, I = T> {
  read(reader: Reader, context: Context, nullable: boolean): T;
  write(writer: Writer, value: I | null, context: Context, nullable: boolean): void;
  defaultValue(nullable: boolean): T;
  /** Fewest bytes one value can take on the wire; bounds array counts before allocation. */
  readonly bytesMin: number;
}

function primitive<T>(
  bytesMin: number,
  fallback: T,
  read: (reader: Reader) => T,
  write: (writer: Writer, value: T) => void,
): WireType<T> {
  return {
    bytesMin,
    read: (reader) => read(reader),
    write: (writer, value) => write(writer, value ?? fallback),
    defaultValue: () => fallback,
  };
}

export const int8 = primitive(
  1,
  0,
  (r) => r.int8(),
  (w, v) => w.int8(v),
);
export const int16 = primitive(
  2,
  0,
  (r) => r.int16(),
  (w, v) => w.int16(v),
);
export const uint16 = primitive(
  2,
  0,
  (r) => r.uint16(),
  (w, v) => w.uint16(v),
);
export const int32 = primitive(
  4,
  0,
  (r) => r.int32(),
  (w, v) => w.int32(v),
);
export const int64 = primitive(
  8,
  0n,
  (r) => r.int64(),
  (w, v) => w.int64(v),
);
export const float64 = primitive(
  8,
  0,
  (r) => r.float64(),
  (w, v) => w.float64(v),
);
export const bool = primitive(
  1,
  false,
  (r) => r.bool(),
  (w, v) => w.bool(v),
);
export const zeroUuid = "00000000000000000000000000000000";
export const uuid = primitive(
  16,
  zeroUuid,
  (r) => r.uuid(),
  (w, v) => w.uuid(v),
);

function nullGuard(nullable: boolean, what: string): null {
  if (!nullable) throw new DecodeError(`${what} is null in a version where it is not nullable`);
  return null;
}

export const string: WireType<string> = {
  bytesMin: 1,
  read(reader, context, nullable) {
    const value = context.flexible ? reader.compactNullableString() : reader.nullableString();
    return value ?? (nullGuard(nullable, "string") as unknown as string);
  },
  write(writer, value, context, nullable) {
    const out = value === undefined || (value === null && !nullable) ? "" : value;
    if (context.flexible) writer.compactNullableString(out);
    else writer.nullableString(out);
  },
  defaultValue: (nullable) => (nullable ? (null as unknown as string) : ""),
};

export const bytes: WireType<Buffer> = {
  bytesMin: 1,
  read(reader, context, nullable) {
    const value = context.flexible ? reader.compactNullableBytes() : reader.nullableBytes();
    return value ?? (nullGuard(nullable, "bytes") as unknown as Buffer);
  },
  write(writer, value, context, nullable) {
    const out = value === undefined || (value === null && !nullable) ? Buffer.alloc(0) : value;
    if (context.flexible) writer.compactNullableBytes(out);
    else writer.nullableBytes(out);
  },
  defaultValue: (nullable) => (nullable ? (null as unknown as Buffer) : Buffer.alloc(0)),
};

/**
 * RECORDS: a bytes field holding record batches. Kept as a view into the
 * request frame (produce) or a slice read from a segment file (fetch).
 */
export const records = bytes;

export function array<T, I>(element: WireType<T, I>): WireType<T[], I[]> {
  return {
    bytesMin: 1,
    read(reader, context, nullable) {
      const raw = context.flexible ? reader.unsignedVarint() - 1 : reader.int32();
      const length = reader.arrayLength(raw, element.bytesMin);
      if (length === -1) return nullGuard(nullable, "array") as unknown as T[];
      const items = new Array<T>(length);
      for (let index = 0; index < length; index++) items[index] = element.read(reader, context, false);
      return items;
    },
    write(writer, value, context, nullable) {
      const items = value === undefined || (value === null && !nullable) ? [] : value;
      if (items === null) {
        if (context.flexible) writer.unsignedVarint(0);
        else writer.int32(-1);
        return;
      }
      if (context.flexible) writer.unsignedVarint(items.length + 1);
      else writer.int32(items.length);
      for (const item of items) element.write(writer, item, context, false);
    },
    defaultValue: (nullable) => (nullable ? (null as unknown as T[]) : []),
  };
}

export interface FieldOptions {
  /** Versions in which the field exists; "0+" when absent. */
  v?: string;
  /** Versions in which the field may be null. */
  nullable?: string;
  /** Tag number, for a tagged field of flexible versions. */
  tag?: number;
  /** Versions in which the field is tagged; "" when absent. */
  tagged?: string;
  /** Value when the field is absent from a version, or not sent as a tagged field. */
  default?: unknown;
}

export interface Field<T, I, Optional extends boolean> {
  readonly type: WireType<T, I>;
  readonly versions: VersionRange;
  readonly nullableVersions: VersionRange;
  readonly tag: number | undefined;
  readonly taggedVersions: VersionRange;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly optional: Optional;
}

// biome-ignore lint/suspicious/noExplicitAny: the builder accepts any field type
type AnyField = Field<any, any, boolean>;

type FieldOptional<O> = O extends { v: string } | { default: unknown } | { tag: number } ? true : false;
type FieldValue<T, O> = O extends { nullable: string } ? T | null : T;

export function field<T, I, const O extends FieldOptions = Record<never, never>>(
  type: WireType<T, I>,
  options?: O,
): Field<FieldValue<T, O>, FieldValue<I, O>, FieldOptional<O>> {
  const opts: FieldOptions = options ?? {};
  return {
    type: type as unknown as WireType<FieldValue<T, O>, FieldValue<I, O>>,
    versions: versionRange(opts.v ?? "0+"),
    nullableVersions: versionRange(opts.nullable ?? "none"),
    tag: opts.tag,
    taggedVersions: versionRange(opts.tagged ?? "none"),
    hasDefault: "default" in opts,
    defaultValue: opts.default,
    optional: (opts.v !== undefined || "default" in opts || opts.tag !== undefined) as FieldOptional<O>,
  };
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Decoded<F extends Record<string, AnyField>> = Simplify<{
  [K in keyof F]: F[K] extends Field<infer T, infer _I, infer _O> ? T : never;
}>;
type OptionalKeys<F extends Record<string, AnyField>> = {
  [K in keyof F]: F[K] extends Field<infer _T, infer _I, true> ? K : never;
}[keyof F];
type Input<F extends Record<string, AnyField>> = Simplify<
  {
    [K in Exclude<keyof F, OptionalKeys<F>>]: F[K] extends Field<infer _T, infer I, infer _O> ? I : never;
  } & {
    [K in OptionalKeys<F>]?: F[K] extends Field<infer _T, infer I, infer _O> ? I : never;
  }
>;

export type Infer<W> = W extends WireType<infer T, infer _I> ? T : never;
export type InferInput<W> = W extends WireType<infer _T, infer I> ? I : never;

function fieldDefault(field: AnyField, nullable: boolean): unknown {
  return field.hasDefault ? field.defaultValue : field.type.defaultValue(nullable);
}

function isTagged(field: AnyField, context: Context): boolean {
  return context.flexible && field.tag !== undefined && inRange(field.taggedVersions, context.version);
}

/** Whether a tagged field holds its default and so stays off the wire, as Kafka leaves it. */
function sameAsDefault(value: unknown, defaultValue: unknown): boolean {
  if (value === undefined || value === defaultValue) return true;
  if (Array.isArray(value))
    return value.length === 0 && (defaultValue === undefined || Array.isArray(defaultValue));
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    if (defaultValue === null || typeof defaultValue !== "object") return false;
    const defaults = defaultValue as Record<string, unknown>;
    return Object.entries(value).every(([key, inner]) => sameAsDefault(inner, defaults[key]));
  }
  return false;
}

export function struct<F extends Record<string, AnyField>>(fields: F): WireType<Decoded<F>, Input<F>> {
  const entries = Object.entries(fields);
  // Only fields on the wire in every version count: a field that some versions
  // lack would overstate an element's size there and refuse a valid array count.
  const onWireAlways = (field: AnyField) =>
    field.tag === undefined && field.versions.min === 0 && field.versions.max === Number.POSITIVE_INFINITY;
  const bytesMin = entries.reduce(
    (sum, [, field]) => sum + (onWireAlways(field) ? field.type.bytesMin : 0),
    0,
  );
  return {
    bytesMin: Math.max(1, Math.min(bytesMin, 4)),
    read(reader, context) {
      const value: Record<string, unknown> = {};
      const taggedByTag = new Map<number, [string, AnyField]>();
      for (const [name, field] of entries) {
        const nullable = inRange(field.nullableVersions, context.version);
        if (!inRange(field.versions, context.version)) {
          value[name] = fieldDefault(field, nullable);
        } else if (isTagged(field, context)) {
          value[name] = fieldDefault(field, nullable);
          taggedByTag.set(field.tag!, [name, field]);
        } else {
          value[name] = field.type.read(reader, context, nullable);
        }
      }
      if (context.flexible) readTaggedFields(reader, context, taggedByTag, value);
      return value as Decoded<F>;
    },
    write(writer, input, context) {
      const value = (input ?? {}) as Record<string, unknown>;
      const tagged: Array<[AnyField, unknown]> = [];
      for (const [name, field] of entries) {
        if (!inRange(field.versions, context.version)) continue;
        const nullable = inRange(field.nullableVersions, context.version);
        const fieldValue = value[name];
        if (isTagged(field, context)) {
          if (!sameAsDefault(fieldValue, fieldDefault(field, nullable))) tagged.push([field, fieldValue]);
          continue;
        }
        const out = fieldValue === undefined ? fieldDefault(field, nullable) : fieldValue;
        field.type.write(writer, out, context, nullable);
      }
      if (context.flexible) writeTaggedFields(writer, context, tagged);
    },
    defaultValue() {
      const value: Record<string, unknown> = {};
      for (const [name, field] of entries) {
        value[name] = fieldDefault(field, inRange(field.nullableVersions, Number.POSITIVE_INFINITY));
      }
      return value as Decoded<F>;
    },
  };
}

function readTaggedFields(
  reader: Reader,
  context: Context,
  known: Map<number, [string, AnyField]>,
  value: Record<string, unknown>,
): void {
  const count = reader.arrayLength(reader.unsignedVarint(), 2);
  let previousTag = -1;
  for (let index = 0; index < count; index++) {
    const tag = reader.unsignedVarint();
    if (tag <= previousTag) throw new DecodeError(`tagged field ${tag} out of order after ${previousTag}`);
    previousTag = tag;
    const size = reader.unsignedVarint();
    const body = reader.bytes(size);
    const entry = known.get(tag);
    if (!entry) continue; // unknown tags are skipped, as KIP-482 requires
    const [name, field] = entry;
    const inner = new Reader(body, 0, body.length, reader.limits);
    value[name] = field.type.read(inner, context, inRange(field.nullableVersions, context.version));
    if (inner.remaining !== 0)
      throw new DecodeError(`tagged field ${tag} has ${inner.remaining} trailing bytes`);
  }
}

function writeTaggedFields(writer: Writer, context: Context, tagged: Array<[AnyField, unknown]>): void {
  writer.unsignedVarint(tagged.length);
  // KIP-482 requires ascending tags, whatever order the grammar declares them in.
  tagged.sort(([left], [right]) => left.tag! - right.tag!);
  for (const [field, value] of tagged) {
    const body = new Writer();
    field.type.write(body, value, context, inRange(field.nullableVersions, context.version));
    const bytes = body.toBuffer();
    writer.unsignedVarint(field.tag!).unsignedVarint(bytes.length).raw(bytes);
  }
}
