import { describe, expect, it } from "vitest";
import { InMemoryRaftLog } from "./in-memory-log.ts";
import { encodeVoters } from "./raft-log.ts";
import { text } from "./test-support.ts";

describe("InMemoryRaftLog", () => {
  it("appends as leader at its end, tracks epochs and the latest voters entry", async () => {
    const log = new InMemoryRaftLog();
    expect([log.endOffset(), log.lastEpoch(), log.latestVoters()]).toEqual([0, 0, null]);
    await log.appendAsLeader([{ kind: "data", payload: text("a") }], 1);
    await log.appendAsLeader(
      [
        { kind: "voters", payload: encodeVoters([1, 2]) },
        { kind: "data", payload: text("b") },
      ],
      3,
    );
    expect([log.endOffset(), log.lastEpoch(), log.latestVoters()]).toEqual([3, 3, [1, 2]]);
    expect(log.epochStarts()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 1 },
    ]);
    expect((await log.read(1, 1)).map((e) => e.offset)).toEqual([1]);
    await log.truncateTo(1);
    expect([log.endOffset(), log.lastEpoch(), log.latestVoters()]).toEqual([1, 1, null]);
  });

  it("refuses entries that do not continue it", async () => {
    const log = new InMemoryRaftLog();
    await log.appendAsLeader([{ kind: "data", payload: text("a") }], 2);
    await expect(
      log.appendAsFollower([{ offset: 2, epoch: 2, kind: "data", payload: text("x") }]),
    ).rejects.toThrow("entry at 2");
    await expect(
      log.appendAsFollower([{ offset: 1, epoch: 1, kind: "data", payload: text("x") }]),
    ).rejects.toThrow("epoch 1 after epoch 2");
    await expect(log.truncateTo(5)).rejects.toThrow("truncate to 5");
  });
});
