import { describe, expect, it } from "vitest";
import { ErrorCode } from "../protocol/error-codes.ts";
import { MetadataImage } from "./image.ts";
import { decideProducerIdBlock, producerIdBlockSize } from "./producer-ids.ts";
import type { MetadataRecord } from "./records.ts";

/** An image with brokers 1 and 2 registered in broker epoch 10 and 20. */
function registeredImage(): MetadataImage {
  const image = new MetadataImage();
  for (const brokerId of [1, 2]) {
    image.apply(
      {
        type: "RegisterBrokerRecord",
        version: 0,
        value: {
          brokerId,
          isMigratingZkBroker: false,
          incarnationId: "0".repeat(32),
          brokerEpoch: BigInt(brokerId * 10),
          endPoints: [],
          features: [],
          rack: null,
          fenced: false,
          inControlledShutdown: false,
          logDirs: [],
        },
      },
      image.appliedOffset + 1n,
    );
  }
  return image;
}

/** Decides as the controller does: the records are committed (applied here) before the answer counts. */
function allocate(image: MetadataImage, brokerId: number, brokerEpoch: bigint) {
  const { records, result } = decideProducerIdBlock(image, brokerId, brokerEpoch);
  for (const record of records) image.apply(record, image.appliedOffset + 1n);
  return { records, result };
}

describe("the controller's producer id blocks", () => {
  it("gives blocks of 1000 in turn, to whichever broker asks, each after the one before", () => {
    const image = registeredImage();
    const blocks = [allocate(image, 1, 10n), allocate(image, 2, 20n), allocate(image, 1, 10n)].map(
      ({ result }) => result,
    );
    expect(blocks).toEqual([
      { errorCode: 0, block: { firstProducerId: 0n, size: producerIdBlockSize } },
      { errorCode: 0, block: { firstProducerId: 1000n, size: 1000 } },
      { errorCode: 0, block: { firstProducerId: 2000n, size: 1000 } },
    ]);
    expect(image.nextProducerId).toBe(3000n);
  });

  it("continues after every committed block when the log is replayed, as on a restart or a new controller", () => {
    const image = registeredImage();
    const committed: MetadataRecord[] = [];
    for (let block = 0; block < 3; block++) committed.push(...allocate(image, 1, 10n).records);
    const replayed = registeredImage();
    for (const record of committed) replayed.apply(record, replayed.appliedOffset + 1n);
    expect(allocate(replayed, 2, 20n).result).toEqual({
      errorCode: 0,
      block: { firstProducerId: 3000n, size: 1000 },
    });
  });

  it("refuses a sender not registered with the broker epoch it names, committing nothing", () => {
    const image = registeredImage();
    expect(decideProducerIdBlock(image, 1, 11n)).toMatchObject({
      records: [],
      result: { errorCode: ErrorCode.STALE_BROKER_EPOCH },
    });
    expect(decideProducerIdBlock(image, 3, -1n)).toMatchObject({
      records: [],
      result: {
        errorCode: ErrorCode.STALE_BROKER_EPOCH,
        errorMessage: "No broker registration found for broker 3",
      },
    });
  });

  it("refuses a block that would pass the largest int64", () => {
    const image = registeredImage();
    const last = (1n << 63n) - 1n - 999n;
    image.apply(
      {
        type: "ProducerIdsRecord",
        version: 0,
        value: { brokerId: 1, brokerEpoch: 10n, nextProducerId: last },
      },
      image.appliedOffset + 1n,
    );
    expect(decideProducerIdBlock(image, 1, 10n).result).toMatchObject({
      errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
    });
  });

  it("will not apply a ProducerIdsRecord that moves the next producer id back", () => {
    const image = registeredImage();
    allocate(image, 1, 10n);
    expect(() =>
      image.apply(
        {
          type: "ProducerIdsRecord",
          version: 0,
          value: { brokerId: 2, brokerEpoch: 20n, nextProducerId: 1000n },
        },
        image.appliedOffset + 1n,
      ),
    ).toThrow(/moves the next producer id from 1000 back to 1000/);
  });
});
