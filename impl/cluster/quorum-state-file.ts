/**
 * The quorum-state file: the Raft epoch this node is in, whom it voted for in
 * that epoch and the leader it knew. The quorum machine asks for it to be
 * persisted (persistQuorumState) before anything it decided is acted on, so a
 * vote is never granted twice in one epoch, even across a crash. Written
 * atomically and fsynced (durable-file.ts): after a crash it is the old or the
 * new version, never a torn one.
 */
import path from "node:path";
import { readFileIfPresent, writeFileDurably } from "../storage/durable-file.ts";

export const quorumStateFileName = "quorum-state";
const formatVersion = 1;

export interface QuorumStateRecord {
  epoch: number;
  votedFor: number | null;
  leaderId: number | null;
}

export class QuorumStateFile {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = path.join(dataDir, quorumStateFileName);
  }

  /** The last persisted state, or null on a node's first start. */
  async read(): Promise<QuorumStateRecord | null> {
    const bytes = await readFileIfPresent(this.path);
    if (bytes === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString("utf8"));
    } catch {
      throw new Error(`${this.path} is not valid JSON; refusing to start with an unknown vote`);
    }
    return validate(parsed, this.path);
  }

  async write(state: QuorumStateRecord): Promise<void> {
    const record = { version: formatVersion, ...state };
    await writeFileDurably(this.path, `${JSON.stringify(record)}\n`);
  }
}

function isNodeIdOrNull(value: unknown): value is number | null {
  return value === null || (Number.isInteger(value) && (value as number) >= 0);
}

function validate(parsed: unknown, file: string): QuorumStateRecord {
  const record = parsed as Record<string, unknown> | null;
  const problem =
    typeof record !== "object" || record === null
      ? "it is not an object"
      : record.version !== formatVersion
        ? `its version is ${String(record.version)}, this node reads version ${formatVersion}`
        : !Number.isInteger(record.epoch) || (record.epoch as number) < 0
          ? "its epoch is not a non-negative integer"
          : !isNodeIdOrNull(record.votedFor)
            ? "its votedFor is not a node id or null"
            : !isNodeIdOrNull(record.leaderId)
              ? "its leaderId is not a node id or null"
              : null;
  if (problem !== null)
    throw new Error(`${file} is unreadable: ${problem}; refusing to start with an unknown vote`);
  const valid = record as { epoch: number; votedFor: number | null; leaderId: number | null };
  return { epoch: valid.epoch, votedFor: valid.votedFor, leaderId: valid.leaderId };
}
