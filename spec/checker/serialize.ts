/**
 * Canonical serialization of plain-data states: equal data gives equal
 * strings whatever the order its object keys were created in. Arrays keep
 * their order; object keys are sorted; keys whose value is undefined are left
 * out (as JSON does); bigints are written `12n` so they never collide with the
 * number 12; Maps and Sets are written with their entries sorted by
 * serialization. Functions, symbols, class instances and cycles are rejected:
 * a state must be plain data.
 *
 * States are immutable and share most of their parts with their predecessors
 * (a step changes one node, one message), so the serialization of every array
 * and plain object is remembered by identity: serializing a successor costs
 * about what changed in it. Mutating an object after it was serialized would
 * therefore go unnoticed; models must build new objects instead.
 */
export function canonicalize(value: unknown): string {
  return typeof value === "object" && value !== null ? write(value, new Set()) : writePrimitive(value);
}

const remembered = new WeakMap<object, string>();

function write(value: unknown, ancestors: Set<object>): string {
  if (typeof value !== "object" || value === null) return writePrimitive(value);
  return writeObject(value, ancestors);
}

function writePrimitive(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      if (Number.isNaN(value)) return "NaN";
      if (value === Number.POSITIVE_INFINITY) return "Infinity";
      if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
      return Object.is(value, -0) ? "-0" : String(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "undefined";
    case "function":
    case "symbol":
      throw new TypeError(`cannot serialize a ${typeof value} in a model state`);
  }
  return "null";
}

function writeObject(object: object, ancestors: Set<object>): string {
  const known = remembered.get(object);
  if (known !== undefined) return known;
  if (ancestors.has(object)) throw new TypeError("cannot serialize a cyclic model state");
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const text = `[${object.map((item) => write(item, ancestors)).join(",")}]`;
      remembered.set(object, text);
      return text;
    }
    if (object instanceof Map) {
      const entries = [...object].map(([k, v]) => `${write(k, ancestors)}=>${write(v, ancestors)}`);
      return `Map{${entries.sort().join(",")}}`;
    }
    if (object instanceof Set) {
      return `Set{${[...object]
        .map((item) => write(item, ancestors))
        .sort()
        .join(",")}}`;
    }
    const prototype = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) {
      throw new TypeError(`cannot serialize an instance of ${prototype?.constructor?.name ?? "?"}`);
    }
    const record = object as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const field = record[key];
      if (field === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${write(field, ancestors)}`);
    }
    const text = `{${parts.join(",")}}`;
    remembered.set(object, text);
    return text;
  } finally {
    ancestors.delete(object);
  }
}

/**
 * Compact canonical keys for deduplication: equal data gets equal keys, and
 * different data different keys, like `canonicalize`, but every array and
 * plain object is interned: its key is `#n`, the number of its canonical
 * content, whose own parts are written as their numbers. A state's key is
 * then a few dozen characters however large the state, and an object already
 * seen (by identity) costs one lookup. Keys are only comparable between values
 * given to the same Fingerprinter.
 */
export class Fingerprinter {
  private readonly ids = new Map<string, number>();
  private readonly known = new WeakMap<object, string>();

  /** How many distinct arrays and objects have been interned. */
  get size(): number {
    return this.ids.size;
  }

  key(value: unknown): string {
    if (typeof value !== "object" || value === null) return writePrimitive(value);
    const known = this.known.get(value);
    if (known !== undefined) return known;
    let content: string;
    if (Array.isArray(value)) {
      content = `[${value.map((item) => this.key(item)).join(",")}]`;
    } else if (value instanceof Map || value instanceof Set) {
      return canonicalize(value);
    } else {
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return canonicalize(value); // throws
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const field = record[key];
        if (field !== undefined) parts.push(`${JSON.stringify(key)}:${this.key(field)}`);
      }
      content = `{${parts.join(",")}}`;
    }
    let id = this.ids.get(content);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(content, id);
    }
    const key = `#${id}`;
    this.known.set(value, key);
    return key;
  }
}
