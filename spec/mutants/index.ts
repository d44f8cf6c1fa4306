/** Every mutant the mutation suite runs: broken variants of the machines and of the models' runtimes. */
import type { Mutant } from "./mutant.ts";
import { quorumMutants } from "./quorum.ts";

export const mutants: Mutant[] = [...quorumMutants];
