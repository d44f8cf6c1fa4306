import { describe, expect, it } from "vitest";
import { Controller, type MetadataWriter, NotControllerError } from "../metadata/controller.ts";
import { MetadataImage } from "../metadata/image.ts";
import type { ProducerIdAllocation } from "../metadata/producer-ids.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { silentLogger } from "../storage/test-support.ts";
import type { ForwardOutcome } from "./controller-link.ts";
import { ProducerIdManager, requestProducerIdBlock } from "./producer-id-manager.ts";

/** A controller the test answers: each request waits until the test gives it its answer. */
class ScriptedController {
  readonly requests: Array<(answer: ProducerIdAllocation) => void> = [];

  requestBlock = (): Promise<ProducerIdAllocation> =>
    new Promise((resolve) => {
      this.requests.push(resolve);
    });

  give(firstProducerId: bigint, size = 1000): void {
    this.requests.shift()!({ errorCode: 0, block: { firstProducerId, size } });
  }

  refuse(errorCode: number): void {
    this.requests.shift()!({ errorCode, errorMessage: "scripted refusal" });
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

function manager(controller: ScriptedController, options: { waitingMax?: number } = {}) {
  return new ProducerIdManager({
    requestBlock: controller.requestBlock,
    logger: silentLogger(),
    retryBackoffMs: 1,
    ...options,
  });
}

describe("the producer id manager", () => {
  it("hands out a block's ids in order, asks for the next at 90%, and moves on without a wait", async () => {
    const controller = new ScriptedController();
    const ids = manager(controller);
    const first = ids.nextProducerId(10_000);
    await settle();
    controller.give(2000n);
    expect(await first).toEqual({ ok: true, producerId: 2000n });
    for (let id = 2001n; id < 2900n; id++)
      expect(await ids.nextProducerId(10_000)).toEqual({ ok: true, producerId: id });
    expect(controller.requests).toHaveLength(0);
    expect(await ids.nextProducerId(10_000)).toEqual({ ok: true, producerId: 2900n });
    expect(controller.requests).toHaveLength(1);
    controller.give(7000n);
    await settle();
    for (let id = 2901n; id < 3000n; id++) await ids.nextProducerId(10_000);
    expect(await ids.nextProducerId(10_000)).toEqual({ ok: true, producerId: 7000n });
  });

  it("sends one request for any number of waiting InitProducerIds", async () => {
    const controller = new ScriptedController();
    const ids = manager(controller);
    const waiting = [ids.nextProducerId(10_000), ids.nextProducerId(10_000), ids.nextProducerId(10_000)];
    await settle();
    expect(controller.requests).toHaveLength(1);
    controller.give(0n);
    expect((await Promise.all(waiting)).map((outcome) => outcome.ok && outcome.producerId)).toEqual([
      0n,
      1n,
      2n,
    ]);
  });

  it("asks again after a refusal, within the caller's deadline", async () => {
    const controller = new ScriptedController();
    const ids = manager(controller);
    const outcome = ids.nextProducerId(10_000);
    await settle();
    controller.refuse(ErrorCode.STALE_BROKER_EPOCH);
    await settle();
    controller.give(1000n);
    expect(await outcome).toEqual({ ok: true, producerId: 1000n });
  });

  it("answers COORDINATOR_LOAD_IN_PROGRESS, which clients retry, when no block comes in time", async () => {
    const controller = new ScriptedController();
    const ids = manager(controller);
    expect(await ids.nextProducerId(20)).toMatchObject({
      ok: false,
      errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    });
    // The request still stands: its answer serves the next caller.
    controller.give(0n);
    expect(await ids.nextProducerId(10_000)).toEqual({ ok: true, producerId: 0n });
  });

  it("refuses at once past the bound on waiting requests", async () => {
    const controller = new ScriptedController();
    const ids = manager(controller, { waitingMax: 1 });
    const waiting = ids.nextProducerId(10_000);
    await settle();
    expect(await ids.nextProducerId(10_000)).toMatchObject({
      errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
      errorMessage: expect.stringContaining("already wait"),
    });
    controller.give(0n);
    expect(await waiting).toEqual({ ok: true, producerId: 0n });
  });

  it("takes no block that does not start after the previous one, and asks again", async () => {
    const controller = new ScriptedController();
    const ids = manager(controller);
    const first = ids.nextProducerId(10_000);
    await settle();
    controller.give(5000n, 2);
    expect(await first).toEqual({ ok: true, producerId: 5000n });
    expect(await ids.nextProducerId(10_000)).toEqual({ ok: true, producerId: 5001n });
    const third = ids.nextProducerId(10_000);
    await settle();
    controller.give(4000n, 2);
    await settle();
    controller.give(5002n, 2);
    expect(await third).toEqual({ ok: true, producerId: 5002n });
  });
});

describe("where a node's block request goes", () => {
  function servicesWith(options: {
    isLocal: boolean;
    sent?: ForwardOutcome<{ errorCode: number; producerIdStart: bigint; producerIdLen: number }>;
    writable?: boolean;
  }) {
    const image = new MetadataImage();
    image.apply(
      {
        type: "RegisterBrokerRecord",
        version: 0,
        value: {
          brokerId: 2,
          isMigratingZkBroker: false,
          incarnationId: "0".repeat(32),
          brokerEpoch: 42n,
          endPoints: [],
          features: [],
          rack: null,
          fenced: false,
          inControlledShutdown: false,
          logDirs: [],
        },
      },
      0n,
    );
    const writer: MetadataWriter = {
      whenWritable: async () => {
        if (options.writable === false) throw new NotControllerError(1, "scripted");
      },
      append: async (records) => {
        for (const record of records) image.apply(record, image.appliedOffset + 1n);
        return { firstOffset: 0, lastOffset: 0 };
      },
    };
    const sent: unknown[] = [];
    const controllerLink = {
      isLocal: () => options.isLocal,
      sendToController: async (_api: unknown, _version: number, request: unknown) => {
        sent.push(request);
        return options.sent!;
      },
    };
    const services = {
      config: { nodeId: 2 },
      image,
      controller: new Controller(image, writer, silentLogger()),
      controllerLink,
    } as unknown as Parameters<typeof requestProducerIdBlock>[0];
    return { services, sent, image };
  }

  it("decides on the controller itself, committing the block", async () => {
    const { services, image } = servicesWith({ isLocal: true });
    expect(await requestProducerIdBlock(services)).toEqual({
      errorCode: 0,
      block: { firstProducerId: 0n, size: 1000 },
    });
    expect(image.nextProducerId).toBe(1000n);
  });

  it("asks the controller elsewhere with AllocateProducerIds, naming this node's broker epoch", async () => {
    const { services, sent } = servicesWith({
      isLocal: false,
      sent: { ok: true, response: { errorCode: 0, producerIdStart: 3000n, producerIdLen: 1000 } },
    });
    expect(await requestProducerIdBlock(services)).toEqual({
      errorCode: 0,
      block: { firstProducerId: 3000n, size: 1000 },
    });
    expect(sent).toEqual([{ brokerId: 2, brokerEpoch: 42n }]);
  });

  it("passes the controller's refusal on, and decides itself once it became the controller", async () => {
    const refused = servicesWith({
      isLocal: false,
      sent: {
        ok: true,
        response: { errorCode: ErrorCode.STALE_BROKER_EPOCH, producerIdStart: 0n, producerIdLen: 0 },
      },
    });
    expect(await requestProducerIdBlock(refused.services)).toMatchObject({
      errorCode: ErrorCode.STALE_BROKER_EPOCH,
    });
    const moved = servicesWith({
      isLocal: false,
      sent: { ok: false, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: "This node is the controller." },
    });
    expect(await requestProducerIdBlock(moved.services)).toMatchObject({ errorCode: 0 });
    const nobody = servicesWith({ isLocal: true, writable: false });
    expect(await requestProducerIdBlock(nobody.services)).toMatchObject({
      errorCode: ErrorCode.NOT_CONTROLLER,
    });
  });
});
