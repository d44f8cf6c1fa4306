/**
 * The cluster models `chronik check` knows, with the bounds CI explores them
 * to.
 */
import type { Model, ModelEntry } from "../checker/model.ts";
import { createQuorumModel } from "./quorum.ts";

export const models: ModelEntry[] = [
  {
    name: "quorum",
    description:
      "3 voters running the real Raft quorum machine: elections, lost messages, a crash and restart",
    create: () => createQuorumModel({ maxEpoch: 1, maxCrashes: 1, maxMessages: 3 }) as Model<unknown>,
    ciBounds: { depth: 7, maxStates: 30_000 },
  },
];
