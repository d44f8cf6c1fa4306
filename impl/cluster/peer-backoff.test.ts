import { describe, expect, it } from "vitest";
import { type BackoffSettings, reconnectDelayMs, validateBackoff } from "./peer-backoff.ts";

function settings(random: number): BackoffSettings {
  return { backoffMsInitial: 50, backoffMsMax: 1000, jitter: 0.2, random: () => random };
}

describe("reconnectDelayMs", () => {
  it("doubles with each consecutive failure up to the maximum", () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 100_000].map((failures) =>
      reconnectDelayMs(settings(0.5), failures),
    );
    expect(delays).toEqual([0, 50, 100, 200, 400, 800, 1000, 1000]);
  });

  it("spreads each wait over ±20%, and never past the maximum", () => {
    expect(reconnectDelayMs(settings(0), 1)).toBe(40);
    expect(reconnectDelayMs(settings(0.999_999), 1)).toBe(60);
    expect(reconnectDelayMs(settings(0), 5)).toBe(640);
    expect(reconnectDelayMs(settings(0.999_999), 5)).toBe(960);
    expect(reconnectDelayMs(settings(0.999_999), 6)).toBe(1000);
  });

  it("refuses settings that make no sense", () => {
    expect(() => validateBackoff({ ...settings(0), backoffMsInitial: -1 })).toThrow(RangeError);
    expect(() => validateBackoff({ ...settings(0), backoffMsMax: 10 })).toThrow(/below the initial/);
    expect(() => validateBackoff({ ...settings(0), jitter: 1 })).toThrow(/jitter/);
  });
});
