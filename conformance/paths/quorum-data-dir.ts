/**
 * A data directory as a model's input describes it: the quorum-state file as
 * last persisted, and a metadata log of that many entries ending in that
 * epoch, committed up to the input's high watermark. It is written with the
 * node's own storage code (RaftMetadataLog, QuorumStateFile), so the node
 * starts in the input's state as it would after a restart. The entries are
 * leader-change control entries: they carry no metadata for the node to apply.
 */
import { QuorumStateFile } from "../../impl/cluster/quorum-state-file.ts";
import { encodeLeaderChange, type RaftEntry } from "../../impl/cluster/raft/raft-log.ts";
import { silentLogger } from "../../impl/log.ts";
import { RaftMetadataLog } from "../../impl/metadata/raft-metadata-log.ts";
import { SyncScheduler } from "../../impl/storage/sync-scheduler.ts";
import type { Input } from "../../machines/raft-quorum.ts";

/** Writes what `input` says was persisted before the node's start; nothing for a first start. */
export async function seedDataDir(dataDir: string, input: Input): Promise<void> {
  const log = input.log ?? { lastEpoch: 0, endOffset: 0 };
  if (input.persisted === undefined && log.endOffset === 0) return;
  if (log.endOffset > 0 && log.lastEpoch < 1)
    throw new Error("a log with entries ends in an epoch of 1 or more");
  const sync = new SyncScheduler("always");
  const metadataLog = await RaftMetadataLog.open(dataDir, sync, silentLogger());
  try {
    // Written by some earlier leader of the last epoch: one that is not this node.
    const payload = encodeLeaderChange({
      leaderId: input.voters.find((id) => id !== input.nodeId) ?? 0,
      voters: input.voters,
    });
    const entries: RaftEntry[] = Array.from({ length: log.endOffset }, (_, offset) => ({
      offset,
      epoch: log.lastEpoch,
      kind: "leaderChange",
      payload,
    }));
    await metadataLog.appendAsFollower(entries);
    await metadataLog.checkpointCommitted(Math.min(input.highWatermark ?? 0, log.endOffset));
  } finally {
    await metadataLog.close();
    sync.close();
  }
  if (input.persisted !== undefined) {
    await new QuorumStateFile(dataDir).write({ ...input.persisted, leaderId: null });
  }
}
