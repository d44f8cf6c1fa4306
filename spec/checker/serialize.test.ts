import { describe, expect, it } from "vitest";
import { canonicalize } from "./serialize.ts";

describe("canonicalize", () => {
  it("ignores object key order", () => {
    expect(canonicalize({ b: 1, a: { d: [1, 2], c: "x" } })).toBe(
      canonicalize({ a: { c: "x", d: [1, 2] }, b: 1 }),
    );
  });

  it("keeps array order", () => {
    expect(canonicalize([1, 2])).not.toBe(canonicalize([2, 1]));
  });

  it("tells bigints, numbers and strings apart", () => {
    const forms = [12n, 12, "12", "12n"].map(canonicalize);
    expect(new Set(forms).size).toBe(4);
    expect(canonicalize({ offset: 2n ** 70n })).toBe(`{"offset":${2n ** 70n}n}`);
  });

  it("leaves out undefined fields as JSON does", () => {
    expect(canonicalize({ a: 1, b: undefined })).toBe(canonicalize({ a: 1 }));
  });

  it("orders Map and Set entries", () => {
    expect(
      canonicalize(
        new Map([
          [2, "b"],
          [1, "a"],
        ]),
      ),
    ).toBe(
      canonicalize(
        new Map([
          [1, "a"],
          [2, "b"],
        ]),
      ),
    );
    expect(canonicalize(new Set([3, 1]))).toBe(canonicalize(new Set([1, 3])));
  });

  it("rejects what is not plain data", () => {
    expect(() => canonicalize({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalize(new Date(0))).toThrow(/Date/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalize(cyclic)).toThrow(/cyclic/);
  });

  it("accepts shared (non-cyclic) references", () => {
    const shared = { x: 1 };
    expect(canonicalize({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});
