import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  encodeLeaderChange,
  encodeVoters,
  type NewRaftEntry,
  type RaftEntry,
} from "../cluster/raft/raft-log.ts";
import { isBatchProblem, isControlBatch, readBatchHeader } from "../protocol/record-batch.ts";
import { decodeBatchRecords } from "../protocol/records.ts";
import { InvalidReplicatedBatchError, UnexpectedAppendOffsetError } from "../storage/replicated-batches.ts";
import {
  closeTestSchedulers,
  openTestLog,
  silentLogger,
  testScheduler,
  withTemporaryDirectory,
} from "../storage/test-support.ts";
import { RaftMetadataLog } from "./raft-metadata-log.ts";

afterEach(() => closeTestSchedulers());

const bytes = (text: string) => new TextEncoder().encode(text);
const data = (text: string): NewRaftEntry => ({ kind: "data", payload: bytes(text) });
const voters = (ids: number[]): NewRaftEntry => ({ kind: "voters", payload: encodeVoters(ids) });
const leaderChange = (leaderId: number, ids: number[]): NewRaftEntry => ({
  kind: "leaderChange",
  payload: encodeLeaderChange({ leaderId, voters: ids }),
});

async function openRaftLog(directory: string, segmentBytesMax?: number): Promise<RaftMetadataLog> {
  const config = segmentBytesMax === undefined ? {} : { segmentBytesMax };
  return RaftMetadataLog.over(await openTestLog(directory, config));
}

/** Epoch 1: leader change, voters [1], two data; epoch 3: leader change, data, voters [1,2,3], data. */
async function fill(log: RaftMetadataLog): Promise<RaftEntry[]> {
  const first = await log.appendAsLeader([leaderChange(1, [1]), voters([1]), data("a"), data("b")], 1);
  const second = await log.appendAsLeader([leaderChange(2, [1]), data("c")], 3);
  const third = await log.appendAsLeader([voters([1, 2, 3]), data("d"), data("e")], 3);
  return [...first, ...second, ...third];
}

describe("RaftMetadataLog", () => {
  it("round-trips mixed entries appended as leader, with offsets, epochs and kinds", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openRaftLog(directory);
      expect(log.endOffset()).toBe(0);
      expect(log.lastEpoch()).toBe(0);
      expect(log.epochStarts()).toEqual([]);
      expect(log.latestVoters()).toBeNull();
      expect(await log.appendAsLeader([], 1)).toEqual([]);

      const written = await fill(log);
      expect(written.map((entry) => [entry.offset, entry.epoch, entry.kind])).toEqual([
        [0, 1, "leaderChange"],
        [1, 1, "voters"],
        [2, 1, "data"],
        [3, 1, "data"],
        [4, 3, "leaderChange"],
        [5, 3, "data"],
        [6, 3, "voters"],
        [7, 3, "data"],
        [8, 3, "data"],
      ]);
      expect(log.endOffset()).toBe(9);
      expect(log.lastEpoch()).toBe(3);
      expect(log.epochStarts()).toEqual([
        { epoch: 1, startOffset: 0 },
        { epoch: 3, startOffset: 4 },
      ]);
      expect(log.latestVoters()).toEqual([1, 2, 3]);
      expect(await log.read(0, 100)).toEqual(written);
      expect(await log.read(3, 3)).toEqual(written.slice(3, 6));
      expect(await log.read(8, 10)).toEqual(written.slice(8));
      expect(await log.read(9, 10)).toEqual([]);
      expect(await log.read(2, 0)).toEqual([]);
      await expect(log.read(10, 1)).rejects.toThrow(/ends at 9/);
      await log.close();
    }));

  it("stores data entries in ordinary batches and control entries as Kafka control records", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openRaftLog(directory);
      await fill(log);
      await log.close();
      const partition = await openTestLog(directory);
      const result = await partition.read(0n, 1 << 20, partition.logEndOffset, true);
      if ("error" in result) throw new Error(result.error);
      const seen: [number, boolean, number, number | null][] = [];
      let position = 0;
      while (position < result.records.length) {
        const header = readBatchHeader(result.records, position);
        if (isBatchProblem(header)) throw new Error(header.detail);
        const records = decodeBatchRecords(result.records, header);
        const key = records[0]!.key;
        seen.push([
          Number(header.baseOffset),
          isControlBatch(header.attributes),
          records.length,
          key === null ? null : key.readInt16BE(0) * 1000 + key.readInt16BE(2),
        ]);
        expect(header.partitionLeaderEpoch).toBe(header.baseOffset < 4n ? 1 : 3);
        position += header.sizeBytes;
      }
      // [base offset, control, records, key version*1000 + type]
      expect(seen).toEqual([
        [0, true, 1, 2],
        [1, true, 1, 6],
        [2, false, 2, null],
        [4, true, 1, 2],
        [5, false, 1, null],
        [6, true, 1, 6],
        [7, false, 2, null],
      ]);
      await partition.close();
    }));

  it("keeps everything across close and reopen, voters and epoch starts included", () =>
    withTemporaryDirectory(async (directory) => {
      const dataDir = path.join(directory, "data");
      const sync = testScheduler();
      const log = await RaftMetadataLog.open(dataDir, sync, silentLogger());
      const written = await fill(log);
      await log.close();

      const reopened = await RaftMetadataLog.open(dataDir, sync, silentLogger());
      expect(reopened.endOffset()).toBe(9);
      expect(reopened.lastEpoch()).toBe(3);
      expect(reopened.epochStarts()).toEqual([
        { epoch: 1, startOffset: 0 },
        { epoch: 3, startOffset: 4 },
      ]);
      expect(reopened.latestVoters()).toEqual([1, 2, 3]);
      expect(await reopened.read(0, 100)).toEqual(written);
      const more = await reopened.appendAsLeader([data("f")], 4);
      expect(more).toEqual([{ offset: 9, epoch: 4, kind: "data", payload: bytes("f") }]);
      await reopened.close();
    }));

  it("rebuilds latestVoters at open across many segments", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openRaftLog(directory, 200);
      await log.appendAsLeader([voters([1])], 1);
      for (let i = 0; i < 20; i++) await log.appendAsLeader([data(`x${i}`)], 1);
      await log.appendAsLeader([voters([1, 4])], 2);
      for (let i = 0; i < 20; i++) await log.appendAsLeader([data(`y${i}`)], 2);
      const all = await log.read(0, 1000);
      await log.close();
      const reopened = await openRaftLog(directory, 200);
      expect(reopened.latestVoters()).toEqual([1, 4]);
      expect(await reopened.read(0, 1000)).toEqual(all);
      expect(all).toHaveLength(42);
      await reopened.close();
    }));

  it("gives a follower identical entries when it appends what it read from a leader", () =>
    withTemporaryDirectory(async (directory) => {
      const leader = await openRaftLog(path.join(directory, "leader"));
      const written = await fill(leader);
      const follower = await openRaftLog(path.join(directory, "follower"));
      // In two fetches, the first ending inside epoch 3's first run.
      await follower.appendAsFollower(await leader.read(0, 6));
      expect(follower.endOffset()).toBe(6);
      expect(follower.latestVoters()).toEqual([1]);
      await follower.appendAsFollower(await leader.read(6, 100));
      await follower.appendAsFollower([]);

      expect(await follower.read(0, 100)).toEqual(written);
      expect(follower.endOffset()).toBe(leader.endOffset());
      expect(follower.lastEpoch()).toBe(3);
      expect(follower.epochStarts()).toEqual(leader.epochStarts());
      expect(follower.latestVoters()).toEqual([1, 2, 3]);
      await follower.close();
      const reopened = await openRaftLog(path.join(directory, "follower"));
      expect(await reopened.read(0, 100)).toEqual(written);
      expect(reopened.latestVoters()).toEqual([1, 2, 3]);
      await reopened.close();
      await leader.close();
    }));

  it("truncates entries, falling back to an earlier voters entry or none", () =>
    withTemporaryDirectory(async (directory) => {
      const log = await openRaftLog(directory);
      const written = await fill(log);
      await log.truncateTo(6);
      expect(log.endOffset()).toBe(6);
      expect(log.latestVoters()).toEqual([1]);
      expect(log.lastEpoch()).toBe(3);
      expect(await log.read(0, 100)).toEqual(written.slice(0, 6));

      await log.truncateTo(4);
      expect(log.lastEpoch()).toBe(1);
      expect(log.epochStarts()).toEqual([{ epoch: 1, startOffset: 0 }]);
      expect(await log.read(0, 100)).toEqual(written.slice(0, 4));

      await log.truncateTo(1);
      expect(log.latestVoters()).toBeNull();
      expect(await log.read(0, 100)).toEqual(written.slice(0, 1));
      // Truncation past the end changes nothing.
      await log.truncateTo(50);
      expect(log.endOffset()).toBe(1);

      // A new leader writes over the truncated suffix; reopen sees the same.
      const next = await log.appendAsLeader([voters([2, 3]), data("z")], 5);
      expect(next.map((entry) => entry.offset)).toEqual([1, 2]);
      expect(log.latestVoters()).toEqual([2, 3]);
      await log.close();
      const reopened = await openRaftLog(directory);
      expect(await reopened.read(0, 100)).toEqual([written[0], ...next]);
      expect(reopened.latestVoters()).toEqual([2, 3]);
      expect(reopened.epochStarts()).toEqual([
        { epoch: 1, startOffset: 0 },
        { epoch: 5, startOffset: 1 },
      ]);
      await reopened.truncateTo(0);
      expect(reopened.endOffset()).toBe(0);
      expect(reopened.lastEpoch()).toBe(0);
      expect(reopened.epochStarts()).toEqual([]);
      expect(reopened.latestVoters()).toBeNull();
      await reopened.close();
    }));

  it("refuses a follower append with a gap, before or inside the entries, writing nothing", () =>
    withTemporaryDirectory(async (directory) => {
      const leader = await openRaftLog(path.join(directory, "leader"));
      const written = await fill(leader);
      const follower = await openRaftLog(path.join(directory, "follower"));
      await follower.appendAsFollower(written.slice(0, 2));

      await expect(follower.appendAsFollower(written.slice(3, 5))).rejects.toBeInstanceOf(
        UnexpectedAppendOffsetError,
      );
      await expect(follower.appendAsFollower([written[2]!, written[4]!])).rejects.toThrow(
        /jump from offset 2 to 4/,
      );
      expect(follower.endOffset()).toBe(2);
      expect(await follower.read(0, 100)).toEqual(written.slice(0, 2));

      // Epochs never go back.
      await follower.appendAsFollower(written.slice(2, 5));
      await expect(
        follower.appendAsFollower([{ offset: 5, epoch: 2, kind: "data", payload: bytes("old") }]),
      ).rejects.toBeInstanceOf(InvalidReplicatedBatchError);
      expect(follower.endOffset()).toBe(5);
      await follower.close();
      await leader.close();
    }));
});
