/**
 * Small files that must be either the old or the new version after a crash
 * (checkpoints, indexes, the clean-shutdown marker): written beside the target,
 * fsynced, renamed over it, and the directory fsynced so the rename survives.
 */
import { open, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
}

/** Makes created, renamed and deleted names in `directory` durable. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileDurably(filePath: string, contents: Buffer | string): Promise<void> {
  const temporary = `${filePath}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, filePath);
  await syncDirectory(path.dirname(filePath));
}

/** The file's bytes, or null when it does not exist. */
export async function readFileIfPresent(filePath: string): Promise<Buffer | null> {
  try {
    return await readFile(filePath);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Unlinks the files that exist; returns whether any did (the caller then syncs the directory). */
export async function removeFiles(filePaths: readonly string[]): Promise<boolean> {
  let removed = false;
  for (const filePath of filePaths) {
    try {
      await unlink(filePath);
      removed = true;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return removed;
}

/**
 * A checkpoint rewritten whenever its value changes. Writes never overlap (they
 * share one temporary file) and requests made while one runs collapse into a
 * single follow-up write of the latest value, so at most two are pending.
 */
export class CheckpointFile<Value> {
  private running: Promise<void> | null = null;
  private requested: Promise<void> | null = null;

  constructor(
    readonly filePath: string,
    private readonly snapshot: () => Value,
    private readonly serialize: (value: Value) => string,
    private readonly onDurable: (value: Value) => void = () => undefined,
  ) {}

  /** Resolves once a write that started after this call is durable. */
  write(): Promise<void> {
    if (this.requested !== null) return this.requested;
    const previous = this.running ?? Promise.resolve();
    const next: Promise<void> = previous
      .catch(() => undefined)
      .then(async () => {
        this.requested = null;
        this.running = next;
        const value = this.snapshot();
        await writeFileDurably(this.filePath, this.serialize(value));
        this.onDurable(value);
      })
      .finally(() => {
        if (this.running === next) this.running = null;
      });
    this.requested = next;
    return next;
  }

  /** Resolves once no write is pending; a failed write is reported by the promise `write` returned. */
  async settled(): Promise<void> {
    while (this.running !== null || this.requested !== null) {
      await (this.requested ?? this.running)?.catch(() => undefined);
    }
  }
}
