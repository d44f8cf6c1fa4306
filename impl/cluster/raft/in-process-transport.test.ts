import { describe, expect, it } from "vitest";
import { deferred } from "./deferred.ts";
import { InProcessNetwork, LinkDownError } from "./in-process-transport.ts";
import type { FetchResponse, RaftRpcHandler } from "./raft-transport.ts";

const answer: FetchResponse = {
  errorName: "NONE",
  epoch: 1,
  leaderId: 2,
  highWatermark: 0,
  diverging: null,
  records: [],
};
const request = { replicaId: 1, epoch: 1, fetchOffset: 0, lastFetchedEpoch: 0, maxWaitMs: 0, maxEntries: 1 };

function handler(fetch: () => Promise<FetchResponse>): RaftRpcHandler {
  const unused = () => Promise.reject(new Error("unused"));
  return {
    handleVote: unused,
    handleBeginQuorumEpoch: unused,
    handleEndQuorumEpoch: unused,
    handleFetch: fetch,
  };
}

describe("InProcessNetwork", () => {
  it("delivers a request and its answer, and refuses over a cut link until healed", async () => {
    const network = new InProcessNetwork();
    network.register(
      2,
      handler(async () => answer),
    );
    const transport = network.transportFor(1);
    expect(await transport.fetch(2, request)).toEqual(answer);
    network.cutLink(1, 2);
    await expect(transport.fetch(2, request)).rejects.toBeInstanceOf(LinkDownError);
    network.healAll();
    expect(await transport.fetch(2, request)).toEqual(answer);
    await expect(transport.fetch(3, request)).rejects.toThrow("no such node");
  });

  it("fails a request in flight when its link is cut, dropping the late answer", async () => {
    const network = new InProcessNetwork();
    const held = deferred<FetchResponse>();
    network.register(
      2,
      handler(() => held.promise),
    );
    const inFlight = network.transportFor(1).fetch(2, request);
    network.cutOneWay(2, 1);
    await expect(inFlight).rejects.toThrow("link cut");
    held.resolve(answer);
  });
});
