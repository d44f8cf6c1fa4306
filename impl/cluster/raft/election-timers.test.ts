import { describe, expect, it } from "vitest";
import { initialContext } from "../../../machines/raft-quorum.ts";
import { ElectionTimers } from "./election-timers.ts";
import { FakeClock } from "./fake-clock.ts";
import { raftDefaults } from "./options.ts";

const config = { fetchTimeoutMs: 2_000, checkQuorumTimeoutMs: 3_000 };
const settings = {
  ...raftDefaults,
  electionTimeoutMs: 1_000,
  electionJitterMs: 500,
  electionBackoffMaxMs: 100,
};

function timersOn(clock: FakeClock) {
  const fired: Array<{ atMs: number; isCurrent: () => boolean }> = [];
  const timers = new ElectionTimers(clock, settings, {
    electionTimedOut: (isCurrent) => fired.push({ atMs: clock.nowMs(), isCurrent }),
    ticked: () => undefined,
  });
  return { timers, fired };
}

describe("ElectionTimers", () => {
  it("fires after the timeout plus jitter, at once for the only voter, and a reset replaces it", () => {
    const clock = new FakeClock();
    const { timers, fired } = timersOn(clock);
    timers.resetElection(initialContext({ nodeId: 1, voters: [1, 2, 3], config }));
    clock.fireNext(999);
    expect(fired).toEqual([]);
    timers.resetElection(initialContext({ nodeId: 1, voters: [1, 2, 3], config }));
    while (clock.fireNext(10_000) && fired.length === 0);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.atMs).toBeGreaterThanOrEqual(1_999);
    expect(fired[0]!.atMs).toBeLessThan(999 + 1_500);

    timers.resetElection(initialContext({ nodeId: 1, voters: [1], config }));
    const before = clock.nowMs();
    clock.fireNext(before);
    expect(fired.at(-1)!.atMs).toBe(before);
  });

  it("marks a fired timeout stale once the timer is reset again before its event is stepped", () => {
    const clock = new FakeClock();
    const { timers, fired } = timersOn(clock);
    timers.shortenElection();
    clock.fireNext(100);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.isCurrent()).toBe(true);
    timers.resetElection(initialContext({ nodeId: 1, voters: [1, 2, 3], config }));
    expect(fired[0]!.isCurrent()).toBe(false);
  });
});
