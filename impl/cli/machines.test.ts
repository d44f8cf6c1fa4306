import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { machineNames } from "../../machines/registry.ts";
import { exportMachines } from "./machines.ts";

const chronik = fileURLToPath(new URL("../../bin/chronik", import.meta.url));

async function exported(
  name: string | undefined,
  format: "mermaid" | "dot" | "svg" | "json",
): Promise<string> {
  let text = "";
  await exportMachines(name, { format }, (chunk) => {
    text += chunk;
  });
  return text;
}

describe("chronik machines export", () => {
  it("writes one machine to stdout", async () => {
    const text = await exported("isr", "mermaid");
    expect(text.startsWith("stateDiagram-v2\n")).toBe(true);
  });

  it("separates every machine with a comment naming it", async () => {
    const mermaid = await exported(undefined, "mermaid");
    expect(mermaid.match(/^%% ---- .+ ----$/gm)?.map((line) => line.split(" ")[2])).toEqual([
      ...machineNames.map((name) => `${name}:`),
    ]);
    const dot = await exported(undefined, "dot");
    expect(dot.match(/^\/\/ ---- .+ ----$/gm)).toHaveLength(machineNames.length);
    expect(dot.match(/^digraph /gm)).toHaveLength(machineNames.length);
  });

  it("writes every machine as one JSON array", async () => {
    const documents = JSON.parse(await exported(undefined, "json")) as Array<{
      name: string;
      states: unknown[];
    }>;
    expect(documents.map((document) => document.name)).toEqual([...machineNames]);
    for (const document of documents) expect(document.states.length).toBeGreaterThan(1);
  });

  it("writes one file per machine with --out", async () => {
    const directory = await mkdtemp(path.join(tmpdir(), "chronik-machines-"));
    try {
      const written = await exportMachines(undefined, { format: "svg", out: directory }, () => {});
      expect(written).toEqual(machineNames.map((name) => path.join(directory, `${name}.svg`)));
      expect((await readdir(directory)).sort()).toEqual(machineNames.map((name) => `${name}.svg`).sort());
      expect(await readFile(path.join(directory, "isr.svg"), "utf8")).toContain("<svg");
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("refuses an unknown machine, naming the machines there are", async () => {
    await expect(exported("raft", "dot")).rejects.toThrow(
      'unknown machine "raft"; the machines are: raft-quorum, partition-lifecycle, isr, consumer-group',
    );
    const run = promisify(execFile)(chronik, ["machines", "export", "raft", "--format", "dot"]);
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('unknown machine "raft"'),
    });
  });
});
