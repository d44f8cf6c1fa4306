/**
 * The campaign's disk damage on a segment of three batches: garbage lands
 * after the last batch and leaves the batches whole; a torn write cuts
 * inside the last batch and leaves the first two whole; the same seed
 * writes the same garbage.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeRecordBatch } from "../../impl/protocol/records.ts";
import { damageLogTail } from "./corruption.ts";

const segmentName = "00000000000000000000.log";
let root: string | null = null;

async function segmentOfThreeBatches(): Promise<{ directory: string; batches: Buffer[] }> {
  root = await mkdtemp(path.join(tmpdir(), "chronik-corruption-"));
  const directory = path.join(root, "faults-0");
  await mkdir(directory);
  const batches = [0n, 2n, 4n].map((baseOffset) =>
    encodeRecordBatch(
      [{ value: Buffer.from(`value-${baseOffset}`) }, { value: Buffer.from(`value-${baseOffset + 1n}`) }],
      { baseOffset },
    ),
  );
  await writeFile(path.join(directory, segmentName), Buffer.concat(batches));
  return { directory, batches };
}

afterEach(async () => {
  if (root !== null) await rm(root, { recursive: true, force: true });
  root = null;
});

describe("damage to a log's tail", () => {
  it("appends seeded garbage after the last batch", async () => {
    const { directory, batches } = await segmentOfThreeBatches();
    const whole = Buffer.concat(batches);
    const plan = { damage: "garbage", amount: 100, bytesSeed: 42 } as const;
    expect(await damageLogTail(directory, plan)).toMatch(/100 garbage bytes appended/);
    const damaged = await readFile(path.join(directory, segmentName));
    expect(damaged.length).toBe(whole.length + 100);
    expect(damaged.subarray(0, whole.length).equals(whole)).toBe(true);

    await writeFile(path.join(directory, segmentName), whole);
    await damageLogTail(directory, plan);
    expect((await readFile(path.join(directory, segmentName))).equals(damaged)).toBe(true);
  });

  it("tears the last batch and keeps the ones before it", async () => {
    const { directory, batches } = await segmentOfThreeBatches();
    const before = batches[0]!.length + batches[1]!.length;
    await damageLogTail(directory, { damage: "torn", amount: 500, bytesSeed: 1 });
    const damaged = await readFile(path.join(directory, segmentName));
    expect(damaged.length).toBe(before + Math.floor(batches[2]!.length / 2));
    expect(damaged.subarray(0, before).equals(Buffer.concat(batches.slice(0, 2)))).toBe(true);
  });

  it("says so when there is no segment", async () => {
    root = await mkdtemp(path.join(tmpdir(), "chronik-corruption-"));
    expect(
      await damageLogTail(path.join(root, "missing-0"), { damage: "torn", amount: 1, bytesSeed: 1 }),
    ).toMatch(/no segment/);
  });
});
