import { describe, expect, it } from "vitest";
import { javaStringHashCode, offsetsPartitionFor } from "./offsets-topic.ts";

/** String.hashCode's definition, s[0]*31^(n-1) + ... + s[n-1], in exact arithmetic then cut to a signed int. */
function hashCodeByDefinition(text: string): number {
  let sum = 0n;
  for (let index = 0; index < text.length; index++) {
    sum += BigInt(text.charCodeAt(index)) * 31n ** BigInt(text.length - 1 - index);
  }
  return Number(BigInt.asIntN(32, sum));
}

describe("group placement in __consumer_offsets", () => {
  it("hashes a group id as Java's String.hashCode does", () => {
    expect(javaStringHashCode("")).toBe(0);
    expect(javaStringHashCode("hello")).toBe(99162322);
    expect(javaStringHashCode("hello world")).toBe(1794106052);
    // A UTF-16 surrogate pair counts as two code units: 0xD83D * 31 + 0xDE00.
    expect(javaStringHashCode("😀")).toBe(0xd83d * 31 + 0xde00);
  });

  it("wraps past 32 bits as Java's int arithmetic does", () => {
    for (const groupId of ["consumer-group-with-a-long-name", "The quick brown fox", "groupé-ü-ß"]) {
      expect(javaStringHashCode(groupId)).toBe(hashCodeByDefinition(groupId));
    }
    expect(javaStringHashCode("consumer-group-with-a-long-name")).toBeLessThan(0);
  });

  it("places a group on abs(hashCode) % partitions, as Kafka's partitionFor does", () => {
    expect(offsetsPartitionFor("hello", 50)).toBe(99162322 % 50);
    const negative = "consumer-group-with-a-long-name";
    expect(offsetsPartitionFor(negative, 50)).toBe(Math.abs(hashCodeByDefinition(negative)) % 50);
  });

  it("maps a hash of Integer.MIN_VALUE to partition 0 rather than a negative one", () => {
    expect(javaStringHashCode("polygenelubricants")).toBe(-2147483648);
    expect(offsetsPartitionFor("polygenelubricants", 7)).toBe(0);
  });

  it("refuses a partition count that is not a positive integer", () => {
    expect(() => offsetsPartitionFor("g", 0)).toThrow(RangeError);
    expect(() => offsetsPartitionFor("g", 1.5)).toThrow(RangeError);
  });
});
