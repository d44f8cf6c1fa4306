/**
 * Canonical serialization of plain-data states: equal data gives equal
 * strings whatever the order its object keys were created in. Arrays keep
 * their order; object keys are sorted; keys whose value is undefined are left
 * out (as JSON does); bigints are written `12n` so they never collide with the
 * number 12; Maps and Sets are written with their entries sorted by
 * serialization. Functions, symbols, class instances and cycles are rejected:
 * a state must be plain data.
 */
export function canonicalize(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
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
  if (value === null) return "null";
  const object = value as object;
  if (ancestors.has(object)) throw new TypeError("cannot serialize a cyclic model state");
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      return `[${object.map((item) => write(item, ancestors)).join(",")}]`;
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
    return `{${parts.join(",")}}`;
  } finally {
    ancestors.delete(object);
  }
}
