/**
 * One process per data directory: two brokers appending to the same segment
 * files would corrupt them. The lock file holds the owner's pid; a lock left
 * by a process that no longer runs (kill -9) is taken over.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const lockFileName = ".lock";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class DataDirLock {
  private constructor(private readonly file: string) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    const file = path.join(dataDir, lockFileName);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(file, `${process.pid}\n`, { flag: "wx" });
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw new Error(`data directory ${dataDir} is in use by process ${owner}`);
      }
      await rm(file, { force: true });
    }
    throw new Error(`could not lock data directory ${dataDir}`);
  }

  release(): Promise<void> {
    return rm(this.file, { force: true });
  }
}
