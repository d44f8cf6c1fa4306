/** Every mutant the mutation suite runs: broken variants of the machines and of the models' runtimes. */
import { metadataBeforeDataMutants } from "./metadata-before-data.ts";
import type { Mutant } from "./mutant.ts";
import { quorumMutants } from "./quorum.ts";
import { replicationMutants } from "./replication.ts";

export const mutants: Mutant[] = [...quorumMutants, ...replicationMutants, ...metadataBeforeDataMutants];
