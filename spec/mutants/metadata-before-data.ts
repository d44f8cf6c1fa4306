/**
 * Broken variants of the runtime around the metadata log, run in the
 * Metadata-before-data model at small bounds: each lets a node act on
 * metadata it should not act on yet.
 */
import type { Model } from "../checker/model.ts";
import { createMetadataBeforeDataModel } from "../models/metadata-before-data.ts";
import type { Mutant } from "./mutant.ts";

export const metadataBeforeDataMutants: Mutant[] = [
  {
    name: "a follower creates its replica and fetches before applying the assigning record",
    breaks:
      "metadata-before-data runtime: a follower finds its leader in the committed metadata log, applied or not",
    caughtBy: "MetadataBeforeData",
    create: () =>
      createMetadataBeforeDataModel({
        faults: { followerReadsUnappliedMetadata: true },
        maxTicks: 0,
        maxCrashes: 0,
      }) as Model<unknown>,
    bounds: { depth: 10, maxStates: 20_000 },
  },
  {
    name: "a node applies a metadata record before it commits",
    breaks:
      "metadata-before-data runtime: a node applies the controller's appended records, committed or not",
    caughtBy: "MetadataLogMatching",
    create: () =>
      createMetadataBeforeDataModel({
        faults: { applyUncommittedMetadata: true },
        maxTicks: 0,
        maxCrashes: 0,
      }) as Model<unknown>,
    bounds: { depth: 4, maxStates: 1_000 },
  },
  {
    name: "the controller answers AlterPartition before the ISR change commits",
    breaks: "metadata-before-data runtime: the AlterPartition answer is delivered before its record commits",
    caughtBy: "MetadataBeforeData",
    create: () =>
      createMetadataBeforeDataModel({
        faults: { answerAlterPartitionBeforeCommit: true },
        maxTicks: 1,
        maxCrashes: 0,
      }) as Model<unknown>,
    bounds: { depth: 10, maxStates: 50_000 },
  },
];
