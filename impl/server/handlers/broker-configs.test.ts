import { describe, expect, it } from "vitest";
import { defaultBrokerConfig } from "../../broker/config.ts";
import { brokerConfigEntries } from "./broker-configs.ts";

describe("the broker's configs as DescribeConfigs shows them", () => {
  it("shows each flag's value under Kafka's name, once", () => {
    const entries = brokerConfigEntries({
      ...defaultBrokerConfig,
      brokerSessionTimeoutMs: 4_000,
      controlledShutdownEnable: false,
      replicaLagMsMax: 12_000,
    });
    const byName = new Map(entries.map((entry) => [entry.name, entry.value]));
    expect(byName.size).toBe(entries.length);
    expect(byName.get("broker.session.timeout.ms")).toBe("4000");
    expect(byName.get("controlled.shutdown.enable")).toBe("false");
    expect(byName.get("replica.lag.time.max.ms")).toBe("12000");
    expect(byName.get("controller.quorum.election.timeout.ms")).toBe("1000");
    expect(byName.get("offsets.topic.num.partitions")).toBe("50");
  });
});
