import { describe, expect, it } from "vitest";
import { defaultBrokerConfig } from "../broker/config.ts";
import type { BrokerServices } from "../broker/services.ts";
import { silentLogger } from "../log.ts";
import { MetadataImage } from "../metadata/image.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { CoordinatorLocator } from "./coordinator-lookup.ts";
import { offsetsPartitionFor, offsetsTopicName } from "./offsets-topic.ts";

function imageWith(options: { leader: number; fenced: boolean } | null): MetadataImage {
  const image = new MetadataImage();
  for (const brokerId of [1, 2]) {
    image.brokers.set(brokerId, {
      brokerId,
      incarnationId: "0".repeat(32),
      brokerEpoch: 1n,
      endpoints: [
        { name: "PLAINTEXT", host: `host-${brokerId}`, port: 9000 + brokerId, securityProtocol: 0 },
      ],
      rack: null,
      fenced: options?.fenced === true && brokerId === options.leader,
    } as never);
  }
  if (options !== null) {
    const topic = {
      name: offsetsTopicName,
      topicId: "1".repeat(32),
      partitions: new Map(),
      configs: new Map(),
    };
    for (let partitionId = 0; partitionId < 3; partitionId++) {
      topic.partitions.set(partitionId, {
        partitionId,
        leader: options.leader,
        replicas: [1, 2],
        isr: [1, 2],
      });
    }
    image.topicsByName.set(offsetsTopicName, topic as never);
  }
  return image;
}

function locatorOver(image: MetadataImage, forwarded: unknown[] = []) {
  const services = {
    image,
    config: { ...defaultBrokerConfig, offsetsTopicPartitions: 7, offsetsTopicReplicationFactor: 3 },
    logger: silentLogger(),
    controllerLink: {
      isLocal: () => false,
      forward: async (_api: unknown, _version: number, request: unknown) => {
        forwarded.push(request);
        return { ok: true, response: { topics: [{ errorCode: ErrorCode.NONE, errorMessage: null }] } };
      },
    },
  } as unknown as BrokerServices;
  return new CoordinatorLocator(services);
}

describe("finding a group's coordinator", () => {
  it("names the live leader of the group's __consumer_offsets partition", () => {
    const found = locatorOver(imageWith({ leader: 2, fenced: false })).find("orders");
    expect(offsetsPartitionFor("orders", 3)).toBeLessThan(3);
    expect(found).toEqual({ errorCode: ErrorCode.NONE, nodeId: 2, host: "host-2", port: 9002 });
  });

  it("says COORDINATOR_NOT_AVAILABLE while the partition's leader is fenced", () => {
    const found = locatorOver(imageWith({ leader: 2, fenced: true })).find("orders");
    expect(found.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it("creates the topic on the first lookup, with its own partitions and no retention, capped to the live nodes", async () => {
    const forwarded: Array<{ topics: Array<Record<string, unknown>> }> = [];
    const locator = locatorOver(imageWith(null), forwarded);
    expect(locator.find("orders").errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    // A second lookup while the first creation runs does not start another.
    expect(locator.find("orders").errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    await expect.poll(() => forwarded.length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]!.topics).toEqual([
      {
        name: offsetsTopicName,
        numPartitions: 7,
        replicationFactor: 2,
        assignments: [],
        configs: [
          { name: "retention.ms", value: "-1" },
          { name: "retention.bytes", value: "-1" },
        ],
      },
    ]);
  });
});
