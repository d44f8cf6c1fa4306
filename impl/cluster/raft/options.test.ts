import { describe, expect, it } from "vitest";
import { raftDefaults, raftSettingsOf, resolveSettings } from "./options.ts";

describe("the runtime's settings from Kafka's controller.quorum.* settings", () => {
  it("randomizes the election timeout over [T, 2T) and checks quorum at 1.5 fetch timeouts, as Kafka does", () => {
    expect(
      raftSettingsOf({ electionTimeoutMs: 2_000, fetchTimeoutMs: 1_000, electionBackoffMaxMs: 200 }),
    ).toEqual({
      electionTimeoutMs: 2_000,
      electionJitterMs: 2_000,
      electionBackoffMaxMs: 200,
      fetchTimeoutMs: 1_000,
      checkQuorumTimeoutMs: 1_500,
    });
  });

  it("gives the runtime's defaults for Kafka's defaults", () => {
    const kafkaDefaults = { electionTimeoutMs: 1_000, fetchTimeoutMs: 2_000, electionBackoffMaxMs: 1_000 };
    expect(resolveSettings(raftSettingsOf(kafkaDefaults))).toEqual(raftDefaults);
  });
});
