import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { QuorumStateFile } from "./quorum-state-file.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "chronik-quorum-state-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("QuorumStateFile", () => {
  it("reads nothing on a first start", async () => {
    expect(await new QuorumStateFile(dir).read()).toBeNull();
  });

  it("reads back what it wrote, replacing the previous version", async () => {
    const file = new QuorumStateFile(dir);
    await file.write({ epoch: 3, votedFor: 2, leaderId: null });
    await file.write({ epoch: 4, votedFor: null, leaderId: 1 });
    expect(await new QuorumStateFile(dir).read()).toEqual({ epoch: 4, votedFor: null, leaderId: 1 });
    expect(JSON.parse(await readFile(file.path, "utf8"))).toEqual({
      version: 1,
      epoch: 4,
      votedFor: null,
      leaderId: 1,
    });
  });

  it.each([
    ["not JSON", "{epoch", "not valid JSON"],
    ["another format version", '{"version":2,"epoch":1,"votedFor":null,"leaderId":null}', "version is 2"],
    ["a negative epoch", '{"version":1,"epoch":-1,"votedFor":null,"leaderId":null}', "epoch"],
    ["a vote that is not a node id", '{"version":1,"epoch":1,"votedFor":"x","leaderId":null}', "votedFor"],
    ["no leader field", '{"version":1,"epoch":1,"votedFor":null}', "leaderId"],
  ])("refuses a file with %s", async (_what, contents, message) => {
    const file = new QuorumStateFile(dir);
    await writeFile(file.path, contents);
    await expect(file.read()).rejects.toThrow(message);
  });
});
