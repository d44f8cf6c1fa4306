/** What a replica holds on disk, as `chronik dump-log --json` reads it from the segment files. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { chronikBin } from "./broker-process.ts";

const runFile = promisify(execFile);

export interface DumpedRecord {
  offset: string;
  key: string | null;
  value: string | null;
}

export async function dumpedRecords(
  dataDir: string,
  topic: string,
  partition: number,
  encoding: "utf8" | "base64" | "hex" = "utf8",
): Promise<DumpedRecord[]> {
  const { stdout } = await runFile(
    process.execPath,
    [
      chronikBin,
      "dump-log",
      "--data-dir",
      dataDir,
      "--topic",
      topic,
      "--partition",
      String(partition),
      "--json",
      "--encoding",
      encoding,
    ],
    // A long fault campaign's partition dumps to many megabytes.
    { maxBuffer: 1024 * 1024 * 1024 },
  );
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as DumpedRecord);
}
